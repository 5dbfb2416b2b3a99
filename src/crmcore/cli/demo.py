"""``crmcore demo``: build a small customer database and summarise it.

The demo runs the whole stack for real: the normalisation pipeline, the storage port
on the given URL (SQLite by default), the bulk importer with its per-record report,
the unit of work, queries and change history.
"""

from __future__ import annotations

import datetime as dt

import attrs

from crmcore.cli._demo_data import demo_data
from crmcore.cli._summary import DatabaseSummary, summarise
from crmcore.models import ChangeRecord, Customer
from crmcore.query import Query, Search
from crmcore.storage import ImportReport, Store

__all__ = ["DemoResult", "run_demo"]

ACTOR = "crmcore demo"
SOURCE = "demo dataset"


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the demo did and found.

    ``activity`` counts the records the demo wrote; ``held`` those the database holds
    after it (more than ``activity`` when the database was not empty).
    """

    report: ImportReport
    activity: dict[str, int]
    held: dict[str, int]
    summary: DatabaseSummary
    searches: tuple[tuple[str, tuple[str, ...]], ...]
    phones: tuple[tuple[str, str, str], ...]
    history: tuple[ChangeRecord, ...]


def run_demo(store: Store, *, now: dt.datetime) -> DemoResult:
    """Load the demo data into ``store`` and read it back into a summary."""
    data = demo_data(now)
    raw_phones = {
        p.id: p.number for c in data.customers if isinstance(c, Customer) for p in c.phones
    }
    report = store.import_customers(data.customers, actor=ACTOR, source=SOURCE)
    with store.unit_of_work(actor=ACTOR, source=SOURCE) as uow:
        for purchase in data.purchases:
            uow.purchases.add(purchase)
        for interaction in data.interactions:
            uow.interactions.add(interaction)
        for complaint in data.complaints:
            uow.complaints.add(complaint)
        uow.commit()

    customers = list(store.stream_customers())
    with store.unit_of_work(actor=ACTOR, source=SOURCE) as uow:
        purchases = list(uow.purchases.stream())
        complaints = list(uow.complaints.stream())
        held = {
            "purchases": uow.purchases.count(),
            "interactions": uow.interactions.count(),
            "complaints": uow.complaints.count(),
        }
        searches = tuple(
            (
                needle,
                tuple(c.display_name for c in uow.customers.find(Query(where=Search(text=needle)))),
            )
            for needle in ("138 0013 8000", "大文", "mueller", "nordwind")
        )
        # A change, to show the history the store keeps.
        lapsed = uow.customers.get("demo-c07")
        uow.customers.update(attrs.evolve(lapsed, tags=("win-back",), owner="marketing"))
        uow.commit()
    with store.unit_of_work() as uow:
        history = tuple(uow.customers.history("demo-c07"))
    phones = tuple(
        (
            c.display_name,
            raw_phones.get(p.id, p.number),
            p.number + (f" ext. {p.extension}" if p.extension else ""),
        )
        for c in customers
        for p in c.phones
    )
    return DemoResult(
        report=report,
        activity={
            "purchases": len(data.purchases),
            "interactions": len(data.interactions),
            "complaints": len(data.complaints),
        },
        held=held,
        summary=summarise(customers, purchases, complaints, now=now),
        searches=searches,
        phones=phones,
        history=history,
    )
