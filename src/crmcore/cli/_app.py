"""The click application behind ``crmcore`` (needs the ``cli`` extra: click and rich)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

import crmcore
from crmcore.cli.demo import DemoResult, run_demo
from crmcore.errors import CrmError
from crmcore.models import utc_now
from crmcore.storage import connect

__all__ = ["app"]

DEFAULT_DEMO_FILE = "crmcore-demo.db"


def _one_line(message: str) -> str:
    """``message`` on one line: its lines stripped and joined by ``; ``.

    A list item's ``- `` marker goes (a ValidationError's problems), and so does
    SQLAlchemy's "(Background on this error at: ...)" link, which says nothing here.
    """
    parts = []
    for line in message.splitlines():
        text = line.strip().removeprefix("- ")
        if text and not text.startswith("(Background on this error at:"):
            parts.append(text)
    return "; ".join(parts)


def _click_error(error: CrmError) -> click.ClickException:
    """One line for the terminal: the exception's class, its stable code and its message."""
    return click.ClickException(f"{type(error).__name__} [{error.code}]: {_one_line(str(error))}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(crmcore.__version__, prog_name="crmcore")
def app() -> None:
    """crmcore: build and keep a customer database."""


@app.command()
@click.option(
    "--database",
    "url",
    default=None,
    help=f"Storage URL. Default: a fresh SQLite file ./{DEFAULT_DEMO_FILE} (replaced each run).",
)
def demo(url: str | None) -> None:
    """Build a small customer database on the embedded default and print a summary."""
    console = Console()
    if url is None:
        path = Path(DEFAULT_DEMO_FILE).resolve()
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    now = utc_now()
    try:
        with connect(url) as store:
            result = run_demo(store, now=now)
    except CrmError as error:
        raise _click_error(error) from error
    _render(console, url, now, result)


@app.group()
def db() -> None:
    """Create, upgrade and inspect a SQL customer database."""


@db.command("status")
@click.argument("url")
def db_status(url: str) -> None:
    """Show the crmcore schema revision of the database at URL."""
    from crmcore.storage.sqlalchemy import current_revision, head_revision, normalise_url
    from crmcore.storage.sqlalchemy._engine import is_memory_sqlite, missing_sqlite_directory

    try:
        parsed = normalise_url(url)
        database = parsed.database or ""
        is_file = parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(parsed)
        if is_file and not Path(database).exists():  # connecting would create an empty file
            missing = missing_sqlite_directory(parsed)
            if missing is not None:
                click.echo(
                    f"no database file at {database}, and no directory {missing}: create the "
                    "directory, then `crmcore db upgrade` creates the file"
                )
            else:
                click.echo(f"no database file at {database}; `crmcore db upgrade` creates one")
            return
        current = current_revision(url)
    except CrmError as error:
        raise _click_error(error) from error
    head = head_revision()
    state = "up to date" if current == head else "needs `crmcore db upgrade`"
    click.echo(f"schema revision: {current or 'none (no crmcore tables)'}; newest: {head}; {state}")


@db.command("upgrade")
@click.argument("url")
def db_upgrade(url: str) -> None:
    """Create crmcore's tables at URL, or upgrade them to the newest revision."""
    from crmcore.storage.sqlalchemy import current_revision, upgrade

    try:
        before = current_revision(url)
        with _progress("indexing customers") as progress:
            upgrade(url, progress=progress)
        after = current_revision(url)
    except CrmError as error:
        raise _click_error(error) from error
    if before == after:
        click.echo(f"already at revision {after}; nothing to do")
    else:
        click.echo(f"upgraded from {before or 'an empty database'} to revision {after}")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a rich progress bar on stderr."""
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task: list[TaskID] = []

        def update(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task(label, total=total))
            bar.update(task[0], completed=done, total=total)

        yield update


@db.group("index")
def db_index() -> None:
    """Declare extra customer indexes (paths queries filter by often)."""


@db_index.command("add")
@click.argument("path")
@click.argument("url")
def db_index_add(path: str, url: str) -> None:
    """Index customer PATH (e.g. facts.value) in the database at URL, backfilling it."""
    from crmcore.storage.sqlalchemy import declare_index

    try:
        with _progress(f"indexing {path}") as progress:
            added = declare_index(url, path, progress=progress)
    except CrmError as error:
        raise _click_error(error) from error
    click.echo(f"indexed {path}" if added else f"{path} was already indexed; nothing to do")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def _render(console: Console, url: str, now: dt.datetime, result: DemoResult) -> None:
    report, summary = result.report, result.summary
    console.rule("[bold]crmcore demo")
    console.print(f"Database: {url}")
    console.print(
        f"Imported {len(report.outcomes)} customer records: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.rejected} rejected."
    )
    for outcome in report.rejections():
        # outcome.index is 0-based; people count records from 1 ("record 11 of 11")
        console.print(
            f"  rejected record {outcome.index + 1} of {len(report.outcomes)} ({outcome.id}):"
        )
        for problem in outcome.problems:
            console.print(escape(f"    {problem.path}: {problem.message} [{problem.code}]"))
    activity = ", ".join(f"{count} {name}" for name, count in result.activity.items())
    console.print(f"Recorded {activity}.")
    if result.held != result.activity:
        held = ", ".join(f"{count} {name}" for name, count in result.held.items())
        console.print(
            f"The database was not empty: it now holds {held}, and the summary below "
            "covers all of it."
        )
    console.print(
        f"{summary.customers} customers: "
        + ", ".join(f"{n} {k}" for k, n in summary.by_kind.items())
        + "; by country: "
        + ", ".join(f"{k} {n}" for k, n in summary.by_country.items())
        + "; by lifecycle stage: "
        + ", ".join(f"{k} {n}" for k, n in summary.by_stage.items())
    )

    roster = _table("Customer roster, in order of acquisition", "acquired", "customer", "id")
    for cid, name, acquired in summary.roster:
        roster.add_row(acquired.isoformat() if acquired else "-", name, cid)
    console.print(roster)

    ranking = _table(
        "Ranking by purchase amount (per currency)", "customer", "total", "margin", "orders"
    )
    for row in summary.rankings:
        ranking.add_row(
            row.display_name,
            f"{row.total:,} {row.currency}",
            # an unknown margin (no costs recorded) is "-", never 0
            f"{row.margin:,} {row.currency}" if row.margin is not None else "-",
            str(row.purchases),
        )
    console.print(ranking)

    phones = _table("Phones as entered, and as stored (E.164)", "customer", "entered", "stored")
    for name, entered, stored in result.phones:
        phones.add_row(name, entered, stored)
    console.print(phones)

    complaints = _table("Open complaints", "received", "customer", "category", "state", "SLA")
    # named as in the other tables (the id where the roster has no such customer)
    names = {cid: name for cid, name, _ in summary.roster}
    for complaint, overdue in summary.open_complaints:
        complaints.add_row(
            complaint.received_at.date().isoformat(),
            names.get(complaint.customer_id, complaint.customer_id),
            complaint.category,
            complaint.state.value,
            "[red]overdue[/red]" if overdue else "on time",
        )
    console.print(complaints)

    upcoming = _table("Coming up in the next 30 days", "date", "customer", "occasion")
    for item in summary.upcoming:
        upcoming.add_row(
            f"{item.on.isoformat()} (in {item.in_days} d)", item.display_name, item.what
        )
    console.print(upcoming)

    for needle, hits in result.searches:
        console.print(f"Search {needle!r}: {', '.join(hits) or 'no match'}")
    for change in result.history:
        fields = ", ".join(c.path for c in change.changes[:6]) or "the whole record"
        more = f" (+{len(change.changes) - 6} more)" if len(change.changes) > 6 else ""
        console.print(
            f"History of demo-c07: v{change.version} {change.operation.value} by {change.actor}"
            f" from {change.source!r}: {fields}{more}"
        )
    console.print(f"Summary as of {now.isoformat(timespec='seconds')}.")
