"""A small demonstration project of the workbench, seeded with the demo survey (``make demo``) so that
``joinedup serve`` shows the workbench at once: SIMULATED interview transcripts from the simulated
sites (every one says so in its name, its case attribute ``data = simulated`` and its first line), a
small codebook, a few codings by two coders (blind), and the demo survey's free-text answers imported
(:mod:`joinedup.qual.survey_import`). The ``demo`` admin sees it as its lead; a ``coder`` login is
added (the demo password).

Example:
    >>> seed_workbench(store, sites=["Barnsley", "Leeds"])                        # doctest: +SKIP
"""

from __future__ import annotations

PROJECT = "Simulated Pioneer interviews (demonstration, simulated data)"
LABEL = "SIMULATED TRANSCRIPT for demonstration only: no real person said this."
ROLES = ("programme lead", "care home manager", "GP")
TURNS = [
    ("Interviewer", "What has most held back integrated care in {site}?"),
    ("{role}", "Recruiting staff. We could not fill home care posts and nurses left for agency work."),
    ("Interviewer", "And sharing information?"),
    ("{role}", "The GP and hospital record systems still cannot share data, so the care plan is re-typed."),
    ("Interviewer", "What helped?"),
    ("{role}", "Joint leadership: the council and the CCG meet every month and pool a small budget."),
]


def transcript(site: str, role: str) -> str:
    """One simulated transcript (speaker turns), its first line saying it is simulated."""
    lines = [LABEL] + [f"{who.format(role=role.capitalize())}: {what.format(site=site)}" for who, what in TURNS]
    return "\n".join(lines)


def seed_workbench(store, sites: list[str], password: str | None = None, wave: int | None = 1) -> int:
    """Create (or leave, if it is there) the demonstration project; returns its id."""
    from joinedup.qual.projects import QualError, Workbench
    from joinedup.qual.survey_import import form_for_wave, import_survey

    wb = Workbench(store)
    try:
        return wb.project_id(PROJECT)
    except QualError:
        pass
    pid = wb.create_project(PROJECT, "demo", description="Simulated transcripts from the simulated sites: a demonstration.")
    if password and store.user("coder") is None:
        store.add_user("coder", password, "coder")
    wb.add_member(pid, "coder", "coder", "demo")
    barriers = wb.create_code(pid, "Barriers", "demo", description="What held integration back")
    codes = {"Workforce": wb.create_code(pid, "Workforce", "demo", parent_id=barriers),
             "Information sharing": wb.create_code(pid, "Information sharing", "demo", parent_id=barriers),
             "Enablers": wb.create_code(pid, "Enablers", "demo", description="What helped")}
    phrases = {"Workforce": "Recruiting staff", "Information sharing": "record systems", "Enablers": "Joint leadership"}
    for i, site in enumerate(sites):
        role = ROLES[i % len(ROLES)]
        text = transcript(site, role)
        sid = wb.add_source(pid, f"SIMULATED interview {site} {role}", text, "transcript", "demo",
                            case=f"SIMULATED {site} {role}",
                            attributes={"site": site, "role": role, "wave": "2015", "data": "simulated"})
        for code, phrase in phrases.items():
            start = text.index(phrase)
            end = text.index("\n", start) if "\n" in text[start:] else len(text)
            wb.add_coding(pid, sid, start, end, codes[code], "demo", "demo")
            if i % 2 == 0:  # the coder codes half the sources, a shorter span: agreement has something to show
                wb.add_coding(pid, sid, start, start + len(phrase), codes[code], "coder", "coder")
    if wave is not None and any(w["wave"] == wave for w in store.list_waves()):
        import_survey(wb, pid, store, form_for_wave(store, wave), wave, "demo")
    return pid
