"""The analysis plan holds: lock a protocol before outcome data are read, and log every deviation.

This follows pre-registration practice for observational studies (a statistical analysis plan fixed
and time-stamped before outcome data are seen, with every later change reported as a dated
deviation: the SPIRIT/ICH E9 habit of an SAP with an amendment log, and the "registered report"
conventions of the Open Science Framework's pre-registration templates).

``joinedup protocol lock my_evaluation.toml`` writes ``my_evaluation.lock.json`` beside the protocol:

* the time of the lock (UTC) and the joinedup version;
* ``sha256_file``: the hash of the file's bytes, and ``sha256_plan``: the hash of the plan's
  *canonical content* — the validated protocol with every default filled in, as sorted JSON — so an
  edit of comments or layout only is seen (the file hash changes) and explained (the plan's does not);
* ``plan``: that canonical content, so a later run can name each key that changed, old and new value;
* ``files``: hashes of the files that belong to the plan (the ``[programme]`` sites and exclude files;
  ``[cohort]`` enrolments are data and are not locked);
* ``outcome_data``: what joinedup can honestly say about outcome data at the time of the lock (a
  simulated source does not exist yet; an earlier run's manifest in the output folder shows that
  joinedup had already read the data; a dataset folder's existence is reported, not whether a person
  looked at it).

A run (:func:`check_plan`, called by the pipeline before the data are read) compares the protocol
with its lock and returns a :class:`PlanCheck` whose ``deviations`` go into the manifest and the
report's "Analysis plan" subsection. A protocol without a lock still runs; the report then says
plainly that the plan was not registered before the data were read.

Example:
    >>> import tempfile, pathlib
    >>> from joinedup.protocol import example_protocol_path
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> toml = folder / "plan.toml"
    >>> _ = toml.write_text(example_protocol_path().read_text())
    >>> lock = lock_protocol(toml, now="2026-01-01T09:00:00+00:00")
    >>> lock.name
    'plan.lock.json'
    >>> _ = toml.write_text(toml.read_text() + "\\n# a comment\\n")
    >>> check = check_plan(load_protocol(toml), now="2026-01-02T09:00:00+00:00")
    >>> check.status, check.deviations
    ('locked, layout or comments edited', [])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from joinedup.protocol import Protocol, load_protocol

LOCK_FORMAT = 1
MISSING = "(not set)"


class LockError(ValueError):
    """A lock that cannot be written or read (the message names the file and the reason)."""


def lock_path(protocol_path: str | Path) -> Path:
    """The lock file beside a protocol: ``my_evaluation.toml`` -> ``my_evaluation.lock.json``.

    >>> lock_path("a/my_evaluation.toml").as_posix()
    'a/my_evaluation.lock.json'
    """
    path = Path(protocol_path)
    return path.with_name(path.stem + ".lock.json")


def canonical_plan(protocol: Protocol) -> dict:
    """The plan's content: the validated protocol with defaults filled, JSON types only.

    >>> from joinedup.protocol import example_protocol_path
    >>> canonical_plan(load_protocol(example_protocol_path()))["data"]["engine"]
    'duckdb'
    """
    return json.loads(json.dumps(protocol.model_dump(mode="json"), sort_keys=True))


def plan_hash(plan: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_files(protocol: Protocol) -> dict[str, dict]:
    """The files that belong to the plan (programme sites and exclusions), with their hashes."""
    out: dict[str, dict] = {}
    spec = protocol.programme
    if spec is None:
        return out
    for key, name in [("programme.sites", spec.sites)] + [(f"programme.exclude[{i}]", n)
                                                        for i, n in enumerate(spec.exclude)]:
        path = Path(protocol.resolve(name))
        out[key] = {"path": name, "sha256": _sha256(path) if path.is_file() else None}
    return out


def outcome_data_state(protocol: Protocol, output_root: Path | None = None) -> dict:
    """What can honestly be said about the outcome data at this moment (see the module docstring)."""
    source = protocol.data.source
    root = output_root or Path.cwd()
    folder = (root / protocol.output.folder)
    manifests = sorted(folder.glob("**/manifest.json")) if folder.is_dir() else []
    runs = []
    for path in manifests:
        try:
            finished = json.loads(path.read_text(encoding="utf-8")).get("finished_at")
        except (OSError, ValueError):
            finished = None
        runs.append({"manifest": str(path), "finished_at": finished})
    if source == "simulate":
        exists, words = False, "simulated when the evaluation runs: no outcome data existed at the lock"
    elif "://" in source:
        exists, words = None, "a database connection: joinedup cannot tell whether its outcome data had been read"
    else:
        exists = Path(protocol.resolve(source)).exists()
        words = (f"the dataset folder {source} existed at the lock; joinedup cannot tell whether anyone had "
                 "looked at its outcomes" if exists else f"the dataset folder {source} did not exist at the lock")
    if runs:
        words += (f"; joinedup had already run on the data: {len(runs)} earlier run(s) in {protocol.output.folder} "
                  "(their manifests are listed), so outcome data HAD been read before the lock")
    return {"source": source, "exists": exists, "earlier_runs": runs, "read_by_joinedup_before_lock": bool(runs),
            "statement": words}


def _now(now: str | None) -> str:
    return now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def lock_protocol(protocol_path: str | Path, force: bool = False, now: str | None = None,
                  output_root: Path | None = None) -> Path:
    """Write the lock file beside the protocol (see the module docstring); returns its path.

    An existing lock is kept unless ``force``: re-locking moves the old lock into ``history``, so a
    re-registration is itself on the record.
    """
    from joinedup import __version__

    path = Path(protocol_path)
    protocol = load_protocol(path)  # a protocol that does not validate cannot be locked
    target = lock_path(path)
    history: list[dict] = []
    if target.exists():
        if not force:
            raise LockError(f"{target} already exists (locked at {read_lock(target).get('locked_at')}); "
                            "a plan is locked once: pass --force to re-lock, which keeps the old lock in its history")
        old = read_lock(target)
        history = old.pop("history", []) + [old]
    plan = canonical_plan(protocol)
    lock = {
        "format": LOCK_FORMAT, "protocol": path.name, "locked_at": _now(now), "joinedup_version": __version__,
        "sha256_file": _sha256(path), "sha256_plan": plan_hash(plan), "plan": plan,
        "files": plan_files(protocol), "outcome_data": outcome_data_state(protocol, output_root),
        "history": history,
    }
    target.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def read_lock(path: str | Path) -> dict:
    """The lock file's content; a clear error naming the file if it is not a joinedup lock."""
    path = Path(path)
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LockError(f"{path}: not a readable lock file: {exc}") from None
    need = [k for k in ("locked_at", "sha256_file", "sha256_plan", "plan") if k not in lock]
    if need:
        raise LockError(f"{path}: not a joinedup lock file (missing {', '.join(need)})")
    return lock


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict) and value:
        out: dict[str, object] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def plan_deviations(locked: dict, current: dict) -> list[dict]:
    """Key by key: every key whose value differs between the locked and the current plan.

    >>> plan_deviations({"impact": {"seed": 1}}, {"impact": {"seed": 2, "scale": "log"}})
    [{'key': 'impact.scale', 'locked': '(not set)', 'now': 'log'}, {'key': 'impact.seed', 'locked': 1, 'now': 2}]
    """
    old, new = _flatten(locked), _flatten(current)
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, MISSING), new.get(key, MISSING)
        if a != b:
            rows.append({"key": key, "locked": a, "now": b})
    return rows


@dataclass(frozen=True)
class PlanCheck:
    """A run's comparison of its protocol with the lock (``status`` in words; ``deviations`` key by key)."""

    status: str                      # "no lock", "locked, unchanged", "locked, layout or comments edited", "locked, changed"
    checked_at: str
    lock_file: str | None = None
    locked_at: str | None = None
    deviations: list[dict] = field(default_factory=list)
    outcome_data_at_lock: dict | None = None
    relocked: int = 0                # earlier locks replaced by --force
    same_file: bool = False          # the file's bytes are the locked ones (differences then come from defaults)
    locked_version: str | None = None

    @property
    def locked(self) -> bool:
        return self.lock_file is not None

    def as_dict(self) -> dict:
        """For the manifest."""
        return {"status": self.status, "checked_at": self.checked_at, "lock_file": self.lock_file,
                "locked_at": self.locked_at, "deviations": self.deviations,
                "outcome_data_at_lock": self.outcome_data_at_lock, "relocked": self.relocked,
                "file_unchanged": self.same_file, "locked_with_joinedup": self.locked_version,
                "checked_before_data_read": True}

    def sentences(self) -> list[str]:
        """The report's plain words (the deviations themselves are a table)."""
        if not self.locked:
            return [("No lock: the analysis plan was not registered before the data were read "
                     "(`joinedup protocol lock` registers a plan).")]
        # The run's own time is the report's "Generated" line and the manifest's checked_at, so that
        # two runs of one protocol give the same report text.
        out = [(f"The protocol was locked on {self.locked_at}; this run checked it against the lock before "
                "reading the data.")]
        if self.relocked:
            out.append(f"The plan was re-locked {self.relocked} time(s) (the earlier locks are kept in the lock file).")
        data = (self.outcome_data_at_lock or {}).get("statement")
        if data:
            out.append(f"Outcome data at the lock: {data}.")
        if self.status == "locked, unchanged":
            out.append("No deviations: the protocol is byte for byte the locked one.")
        elif self.status == "locked, layout or comments edited":
            out.append("No deviations: the file was edited after the lock, in comments or layout only "
                       "(no key changed).")
        elif self.same_file:
            out.append(f"{len(self.deviations)} deviation(s) although the file is unchanged: joinedup's defaults "
                       f"changed since the lock (locked with joinedup {self.locked_version}):")
        else:
            out.append(f"{len(self.deviations)} deviation(s) from the locked plan, made after the lock "
                       f"({self.locked_at}) and before this run:")
        return out


def check_plan(protocol: Protocol, now: str | None = None) -> PlanCheck:
    """Compare ``protocol`` with its lock file (if any) and list the deviations."""
    checked = _now(now)
    if protocol.path is None or not lock_path(protocol.path).exists():
        return PlanCheck("no lock", checked)
    target = lock_path(protocol.path)
    lock = read_lock(target)
    deviations = plan_deviations(lock["plan"], canonical_plan(protocol))
    for key, now_file in plan_files(protocol).items():
        then = lock.get("files", {}).get(key)
        if then is None or then.get("sha256") != now_file["sha256"] or then.get("path") != now_file["path"]:
            deviations.append({"key": f"file {key}", "locked": (then or {}).get("sha256") or MISSING,
                               "now": now_file["sha256"] or "(missing)"})
    for key in set(lock.get("files", {})) - set(plan_files(protocol)):
        deviations.append({"key": f"file {key}", "locked": lock["files"][key]["sha256"], "now": MISSING})
    if deviations:
        status = "locked, changed"
    elif protocol.sha256 == lock["sha256_file"]:
        status = "locked, unchanged"
    else:
        status = "locked, layout or comments edited"
    return PlanCheck(status, checked, str(target), lock["locked_at"], deviations, lock.get("outcome_data"),
                     len(lock.get("history", [])), protocol.sha256 == lock["sha256_file"],
                     lock.get("joinedup_version"))


__all__ = ["LockError", "PlanCheck", "canonical_plan", "check_plan", "lock_path", "lock_protocol",
           "outcome_data_state", "plan_deviations", "plan_hash", "read_lock"]
