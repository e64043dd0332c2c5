"""The stored form of a member's metric history (the ``metrics`` document).

Version 2 (written now)::

    {"version": 2, "keep_months": 16, "kept_from": "2025-01-01",
     "months": {"spend": "2026-02|88.00|,,88.00 2026-03|176.00|88.00,,,,88.00"},
     "totals": {"spend": "264000.00"}, "gauges": {}, "last_dropped": {"spend": "2024-12-30"}}

Each metric is one text of months, oldest first, separated by spaces; a month is its key,
its total and its days' sums by position (the first is the 1st; empty: no sample). One
text per metric, not a JSON object per month, so reading and writing the document costs
little more than copying it; a window reads the totals of the months it covers and
decodes the days of the months it cuts only, and a month nobody changed is written back
as it was read, so a purchase's work on the history does not grow with the months it keeps.

Version 1 (no ``version`` key) kept every day in one mapping per metric. It is still
read, as the same history (``tests/property/test_metric_history.py``); SQL stores are
migrated by revision 0013.
"""

from __future__ import annotations

import functools
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from loyaltykit.domain.metrics import (
    KEEP_MONTHS,
    MetricHistory,
    MonthBuckets,
    MonthSource,
    MonthSums,
    month_of,
)
from loyaltykit.errors import StorageDataError

__all__ = ["VERSION", "metrics_from_document", "metrics_to_document"]

VERSION = 2


class _StoredDays(Mapping[int, Decimal]):
    """A month's days as stored (``"88.00,,88.00"``: the 1st and the 3rd), decoded on
    first use."""

    __slots__ = ("_days", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._days: dict[int, Decimal] | None = None

    def _decoded(self) -> dict[int, Decimal]:
        if self._days is None:
            values = enumerate(self.text.split(","), start=1)
            self._days = {day: Decimal(value) for day, value in values if value}
        return self._days

    def __getitem__(self, day: int) -> Decimal:
        return self._decoded()[day]

    def __iter__(self) -> Iterator[int]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __contains__(self, day: object) -> bool:
        return day in self._decoded()

    def items(self) -> ItemsView[int, Decimal]:
        return self._decoded().items()

    def keys(self) -> KeysView[int]:
        return self._decoded().keys()

    def values(self) -> ValuesView[Decimal]:
        return self._decoded().values()


class _StoredMonths(MonthSource):
    """A metric's months as stored (``"2026-03|176.00|88.00,,88.00 2026-04|..."``, in
    order), each built on first use: a purchase reads a few of them."""

    __slots__ = ("_built", "_rows", "rows")

    def __init__(self, text: str) -> None:
        self.rows = text.split(" ") if text else []
        self._rows = {_month_number(row[:7]): row for row in self.rows}
        self._built: dict[int, MonthSums] = {}

    def __getitem__(self, month: int) -> MonthSums:
        built = self._built.get(month)
        if built is None:
            _, total, days = self._rows[month].split("|")
            built = self._built[month] = MonthSums(total=Decimal(total), days=_StoredDays(days))
        return built

    def __contains__(self, month: object) -> bool:
        return month in self._rows

    def get(self, month: int, default: Any = None) -> Any:
        return self[month] if month in self._rows else default

    def total_of(self, month: int) -> Decimal:
        built = self._built.get(month)
        if built is not None:
            return built.total
        row = self._rows.get(month)
        return Decimal(0) if row is None else Decimal(row.split("|", 2)[1])

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@functools.lru_cache(maxsize=4096)
def _month_key(month: int) -> str:
    year, index = divmod(month, 12)
    return f"{year:04d}-{index + 1:02d}"


@functools.lru_cache(maxsize=4096)
def _month_number(key: str) -> int:
    return int(key[:4]) * 12 + int(key[5:7]) - 1


def _days_text(days: Mapping[int, Decimal]) -> str:
    if isinstance(days, _StoredDays):
        return days.text  # read and never changed: written back as it was
    if not days:
        return ""
    slots = [""] * max(days)
    for day, value in days.items():
        slots[day - 1] = str(value)
    return ",".join(slots)


def _row(month: int, sums: MonthSums) -> str:
    return f"{_month_key(month)}|{sums.total}|{_days_text(sums.days)}"


def _months_text(buckets: MonthBuckets) -> str:
    """A metric's months as stored: the months read and not changed as they were read."""
    base = buckets.base
    if not isinstance(base, _StoredMonths):
        return " ".join(_row(month, sums) for month, sums in buckets.items())
    rows = base.rows
    if buckets.low is not None:
        low = _month_key(buckets.low)
        rows = [row for row in rows if row[:7] >= low]
    if buckets.changed:
        kept = {row[:7]: row for row in rows}
        for month, sums in buckets.changed.items():
            kept[_month_key(month)] = _row(month, sums)
        rows = sorted(kept.values())  # rows start with their month: in order
    return " ".join(rows)


def metrics_to_document(history: MetricHistory) -> dict[str, Any]:
    """A metric history as its version 2 document."""
    return {
        "version": VERSION,
        "keep_months": history.keep_months,
        "kept_from": None if history.kept_from is None else history.kept_from.isoformat(),
        "months": {metric: _months_text(buckets) for metric, buckets in history.months.items()},
        "totals": {metric: str(value) for metric, value in history.totals.items()},
        "gauges": {metric: str(value) for metric, value in history.gauges.items()},
        "last_dropped": {metric: day.isoformat() for metric, day in history.last_dropped.items()},
    }


def metrics_from_document(document: Mapping[str, Any] | None) -> MetricHistory:
    """The history a ``metrics`` document holds, of either version (empty for ``None``)."""
    if not document:
        return MetricHistory()
    if "version" not in document:
        return _from_version_1(document)
    if document["version"] != VERSION:
        raise StorageDataError(
            f"metrics document version {document['version']!r}: this library reads 1 and {VERSION}"
        )
    kept_from = document.get("kept_from")
    return MetricHistory(
        months={
            metric: MonthBuckets(_StoredMonths(buckets))
            for metric, buckets in document["months"].items()
        },
        totals=_decimals(document.get("totals", {})),
        gauges=_decimals(document.get("gauges", {})),
        keep_months=int(document["keep_months"]),
        kept_from=None if kept_from is None else date.fromisoformat(kept_from),
        last_dropped={
            metric: date.fromisoformat(day)
            for metric, day in document.get("last_dropped", {}).items()
        },
    )


def _decimals(values: Mapping[str, str]) -> dict[str, Decimal]:
    return {metric: Decimal(value) for metric, value in values.items()}


def _from_version_1(document: Mapping[str, Any]) -> MetricHistory:
    """A version 1 document (every day per metric) as the same history.

    Version 1 dropped the days more than 121 months before the latest day it was given;
    when a metric's days no longer add up to its total some were dropped, and the
    history then holds the days from that cut on (:attr:`MetricHistory.kept_from`)."""
    months: dict[str, dict[int, MonthSums]] = {}
    latest: date | None = None
    dropped = False
    totals = _decimals(document.get("totals", {}))
    for metric, values in document.get("days", {}).items():
        buckets: dict[int, dict[int, Decimal]] = {}
        for text, value in values.items():
            day = date.fromisoformat(text)
            buckets.setdefault(month_of(day), {})[day.day] = Decimal(value)
            latest = day if latest is None else max(latest, day)
        months[metric] = {
            month: MonthSums(total=sum(days.values(), Decimal(0)), days=days)
            for month, days in buckets.items()
        }
        kept = sum((sums.total for sums in months[metric].values()), Decimal(0))
        dropped = dropped or kept != totals.get(metric, Decimal(0))
    kept_from = None
    if dropped and latest is not None:
        kept_from = latest - relativedelta(months=KEEP_MONTHS)
    return MetricHistory(
        months=months,
        totals=totals,
        gauges=_decimals(document.get("gauges", {})),
        kept_from=kept_from,
    )
