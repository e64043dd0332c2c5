"""Metric histories move to version 2: month buckets, each its total and its days.

The ``metrics`` customer-state document of version 1 (``{"days": {metric: {day: sum}},
"totals": ..., "gauges": ...}``) held every day of the last 121 months in one mapping
per metric, read and written whole on every purchase. Version 2 keeps, per metric, each
month's total and its days, one text per metric
(``{"spend": "2026-03|176.00|88.00,,88.00 2026-04|..."}``: the 1st and the 3rd), so a
window reads the totals of the months it covers and the days of the months it cuts
only, and a purchase writes back unchanged months as they were.

Each version 1 document is rewritten as the history ``loyaltykit.formats.metrics`` reads
from it: the same days, totals and gauges, kept for 121 months (the next purchase sets
the retention its programme reads). When a metric's days no longer added up to its
total, version 1 had dropped days older than 121 months before its latest day: the
history then records that it holds days from that day on (``kept_from``). The
conversion is written out here, not imported, so this revision keeps doing what it did
when the library's own mapping moves on. Downgrading writes version 1 back (the days
kept, the totals and gauges).

Revision ID: 0013
Revises: 0015
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from dateutil.relativedelta import relativedelta

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None

KEEP_MONTHS = 121
PAGE = 500
STATE = sa.table(
    "lk_customer_state",
    sa.column("tenant", sa.String),  # (0012) a member's documents are their programme's
    sa.column("customer_id", sa.String),
    sa.column("name", sa.String),
    sa.column("document", sa.Text),
)


def version_2(document: dict[str, Any]) -> dict[str, Any]:
    """The version 2 document of a version 1 one."""
    months: dict[str, dict[str, dict[int, Decimal]]] = {}
    latest: date | None = None
    dropped = False
    totals = document.get("totals", {})
    for metric, days in document.get("days", {}).items():
        mine = months.setdefault(metric, {})
        for text, value in days.items():
            day = date.fromisoformat(text)
            mine.setdefault(text[:7], {})[day.day] = Decimal(value)
            latest = day if latest is None else max(latest, day)
        kept = sum((v for month in mine.values() for v in month.values()), Decimal(0))
        dropped = dropped or kept != Decimal(totals.get(metric, "0"))
    kept_from = None
    if dropped and latest is not None:
        kept_from = (latest - relativedelta(months=KEEP_MONTHS)).isoformat()
    return {
        "version": 2,
        "keep_months": KEEP_MONTHS,
        "kept_from": kept_from,
        "months": {
            metric: " ".join(_row(key, days) for key, days in sorted(mine.items()))
            for metric, mine in months.items()
        },
        "totals": dict(totals),
        "gauges": dict(document.get("gauges", {})),
        "last_dropped": {},
    }


def _row(key: str, days: dict[int, Decimal]) -> str:
    """One month of version 2: its key, its total and its days' sums by position."""
    slots = [""] * max(days)
    for day, value in days.items():
        slots[day - 1] = str(value)
    return f"{key}|{sum(days.values(), Decimal(0))}|{','.join(slots)}"


def version_1(document: dict[str, Any]) -> dict[str, Any]:
    """The version 1 document of a version 2 one (the days it keeps)."""
    days: dict[str, dict[str, str]] = {}
    for metric, text in document.get("months", {}).items():
        mine = days.setdefault(metric, {})
        for row in (row for row in text.split(" ") if row):
            key, _total, values = row.split("|")
            for day, value in enumerate(values.split(","), start=1):
                if value:
                    mine[f"{key}-{day:02d}"] = value
    return {"days": days, "totals": document["totals"], "gauges": document["gauges"]}


def _rewrite(convert: Any, wanted: bool) -> None:
    """Rewrite, page by page, every ``metrics`` document whose version ``wanted`` says
    (True: version 2 documents, False: version 1 ones) with ``convert``."""
    bind = op.get_bind()
    after = ("", "")
    while True:
        rows = bind.execute(
            sa.select(STATE.c.tenant, STATE.c.customer_id, STATE.c.document)
            .where(
                STATE.c.name == "metrics",
                sa.tuple_(STATE.c.tenant, STATE.c.customer_id) > sa.tuple_(*after),
            )
            .order_by(STATE.c.tenant, STATE.c.customer_id)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        for tenant, customer_id, text in rows:
            document = json.loads(text)
            if ("version" in document) == wanted:
                written = json.dumps(convert(document), separators=(",", ":"), ensure_ascii=False)
                bind.execute(
                    STATE.update()
                    .where(
                        STATE.c.tenant == tenant,
                        STATE.c.customer_id == customer_id,
                        STATE.c.name == "metrics",
                    )
                    .values(document=written)
                )
        after = (rows[-1][0], rows[-1][1])


def upgrade() -> None:
    _rewrite(version_2, wanted=False)


def downgrade() -> None:
    _rewrite(version_1, wanted=True)
