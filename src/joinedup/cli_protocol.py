"""`joinedup protocol ...`: lock the analysis plan before the data are read, and check it later.

Example:
    $ joinedup protocol lock my_evaluation.toml      # writes my_evaluation.lock.json beside it
    $ joinedup protocol check my_evaluation.toml     # lists deviations from the lock, key by key
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

protocol_app = typer.Typer(help="Lock the analysis plan (the protocol) before outcome data are read, and check "
                                "a protocol against its lock.", no_args_is_help=True, rich_markup_mode=None)
console = Console(stderr=True)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@protocol_app.command("lock")
def lock(
    protocol: Path = typer.Argument(..., help="Evaluation protocol (TOML) to lock"),
    force: bool = typer.Option(False, "--force", help="Re-lock a locked protocol (the old lock is kept in the "
                               "new one's history)"),
) -> None:
    """Record the protocol's hash (file and canonical content), the time and the state of the outcome data."""
    from joinedup.analysis_plan import LockError, lock_protocol, read_lock
    from joinedup.protocol import ProtocolError

    try:
        path = lock_protocol(protocol, force=force)
    except (ProtocolError, LockError) as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from None
    lock_ = read_lock(path)
    typer.echo(f"Locked {protocol} at {lock_['locked_at']}: plan sha256 {lock_['sha256_plan'][:16]}, "
               f"file sha256 {lock_['sha256_file'][:16]}")
    typer.echo(f"Outcome data: {lock_['outcome_data']['statement']}")
    typer.echo(f"Lock file: {path}")


@protocol_app.command("check")
def check(protocol: Path = typer.Argument(..., help="Evaluation protocol (TOML)")) -> None:
    """Compare a protocol with its lock; exit 1 when it deviates, 2 when it has no lock."""
    from joinedup.analysis_plan import LockError, check_plan
    from joinedup.protocol import ProtocolError, load_protocol

    try:
        result = check_plan(load_protocol(protocol))
    except (ProtocolError, LockError) as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from None
    for sentence in result.sentences():
        typer.echo(sentence)
    for d in result.deviations:
        typer.echo(f"  {d['key']}: {d['locked']!r} -> {d['now']!r}")
    raise typer.Exit(2 if not result.locked else 1 if result.deviations else 0)
