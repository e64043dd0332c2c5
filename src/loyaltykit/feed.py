"""Event feeds: a night's enrolments, purchases, refunds and other events from a file.

A feed is CSV (a header row, one event a row) or JSON Lines (one JSON object a line).
Every row names its ``kind``, the ``customer``, its idempotency ``key`` and the instant
``at`` (ISO 8601 with an offset); the other fields depend on the kind:

==================  =====================================================================
``enrol``           ``name``, ``birthday``, ``email``, ``phone``, ``tags``, ``referred_by``
``purchase``        ``amount``, ``currency``, ``channel``, ``items`` (a list of ``sku``,
                    ``category``, ``quantity``, ``unit_price``)
``refund``          ``purchase`` (the purchase's key), ``amount`` (omit: the whole order)
``event``           ``type``, ``attributes`` (an object)
``redeem``          ``reward``, ``quantity``
``gift``            ``reward``, ``reason``: a reward given for nothing (a birthday gift)
``pay_with_points`` ``reward``, ``points``, ``bill``, ``currency``
==================  =====================================================================

In CSV, ``items`` and ``attributes`` hold JSON and ``tags`` are separated by ``;``.
:func:`read_feed` parses a file into :class:`FeedRow` values, or :class:`BadRow` for a row
that cannot be read; :func:`apply_feed` runs them through the :class:`~loyaltykit.Loyalty`
facade, each row one command under its own key, so a re-run of the same file changes
nothing and an interrupted import is resumed by running it again.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.domain.customer import Profile
from loyaltykit.errors import InvalidArgument, LoyaltyError
from loyaltykit.storage.base import read_unit_of_work
from loyaltykit.values import Money, parse_instant

__all__ = [
    "KINDS",
    "BadRow",
    "FeedReport",
    "FeedRow",
    "apply_feed",
    "apply_row",
    "event_of",
    "read_feed",
]

log = logging.getLogger("loyaltykit.feed")

KINDS = ("enrol", "purchase", "refund", "event", "redeem", "gift", "pay_with_points")
_JSON_COLUMNS = ("items", "attributes")


@attrs.frozen(kw_only=True)
class FeedRow:
    """One parsed row: its line in the file and the fields it holds."""

    line: int
    kind: str
    customer: str
    key: str
    at: datetime
    fields: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class BadRow:
    """A row that was not applied: its line, and why."""

    line: int
    reason: str


@attrs.frozen(kw_only=True)
class FeedReport:
    """What :func:`apply_feed` did: rows applied (replays included) and rows refused."""

    applied: int
    replayed: int
    bad: tuple[BadRow, ...]


def _row(line: int, data: Mapping[str, Any]) -> FeedRow:
    fields = {name: value for name, value in data.items() if value not in (None, "")}
    for name in ("kind", "customer", "key", "at"):
        if name not in fields:
            raise InvalidArgument(f"the field {name!r} is missing")
    kind = str(fields.pop("kind"))
    if kind not in KINDS:
        raise InvalidArgument(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return FeedRow(
        line=line,
        kind=kind,
        customer=str(fields.pop("customer")),
        key=str(fields.pop("key")),
        at=parse_instant("at", fields.pop("at")),
        fields=fields,
    )


def _csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(lines)
    for data in reader:
        decoded: dict[str, Any] = dict(data)
        for column in _JSON_COLUMNS:
            if decoded.get(column):
                decoded[column] = json.loads(decoded[column])
        if decoded.get("tags"):
            decoded["tags"] = [tag for tag in decoded["tags"].split(";") if tag]
        yield reader.line_num, decoded


def read_feed(path: str | Path) -> Iterator[FeedRow | BadRow]:
    """The rows of a feed file (``.csv``, else JSON Lines), in file order."""
    source = Path(path)
    with source.open(encoding="utf-8", newline="") as handle:
        if source.suffix.lower() == ".csv":
            records = _csv_rows(handle)
            while True:
                try:
                    line, data = next(records)
                except StopIteration:
                    return
                except (json.JSONDecodeError, csv.Error) as error:
                    yield BadRow(line=-1, reason=f"unreadable CSV: {error}")
                    return
                yield _parsed(line, data)
        else:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as error:
                    yield BadRow(line=number, reason=f"not JSON: {error.msg}")
                    continue
                if not isinstance(data, dict):
                    yield BadRow(line=number, reason=f"{text.strip()[:40]!r} is not an object")
                    continue
                yield _parsed(number, data)


def _parsed(line: int, data: Mapping[str, Any]) -> FeedRow | BadRow:
    try:
        return _row(line, data)
    except LoyaltyError as error:
        return BadRow(line=line, reason=str(error))


def _money(row: FeedRow, name: str) -> Money:
    currency = str(row.fields.get("currency", "CNY"))
    return Money.of(str(row.fields[name]), currency)


def _items(row: FeedRow) -> tuple[Item, ...]:
    currency = str(row.fields.get("currency", "CNY"))
    items = row.fields.get("items", [])
    if not isinstance(items, list):
        raise InvalidArgument(f"items: {items!r} is not a list")
    return tuple(
        Item(
            sku=str(item["sku"]),
            category=str(item.get("category", "")),
            quantity=int(item.get("quantity", 1)),
            unit_price=(
                Money.of(str(item["unit_price"]), currency) if "unit_price" in item else None
            ),
        )
        for item in items
    )


def _profile(row: FeedRow) -> Profile:
    birthday = row.fields.get("birthday")
    tags = row.fields.get("tags", ())
    return Profile(
        name=row.fields.get("name"),
        email=row.fields.get("email"),
        phone=row.fields.get("phone"),
        birthday=date.fromisoformat(str(birthday)) if birthday else None,
        tags=frozenset(str(tag) for tag in tags),
    )


def event_of(row: FeedRow) -> Purchase | CustomEvent:
    """The purchase or custom event a ``purchase`` or ``event`` row holds."""
    if row.kind == "purchase":
        return Purchase(
            amount=_money(row, "amount"),
            items=_items(row),
            channel=str(row.fields.get("channel", "")),
        )
    if row.kind == "event":
        attributes = row.fields.get("attributes", {})
        if not isinstance(attributes, dict):
            raise InvalidArgument(f"attributes: {attributes!r} is not an object")
        return CustomEvent(type=str(row.fields.get("type", "")), attributes=attributes)
    raise InvalidArgument(f"a {row.kind!r} row holds no purchase or event")


def apply_row(loyalty: Loyalty, row: FeedRow) -> None:
    """Run one row as its command (a replay of its key when it was applied before)."""
    common: dict[str, Any] = {"at": row.at, "idempotency_key": row.key}
    match row.kind:
        case "enrol":
            loyalty.enroll(
                row.customer,
                profile=_profile(row),
                referred_by=row.fields.get("referred_by"),
                **common,
            )
        case "purchase":
            purchase = event_of(row)
            assert isinstance(purchase, Purchase)
            loyalty.record_purchase(row.customer, purchase, **common)
        case "refund":
            amount = _money(row, "amount") if "amount" in row.fields else None
            purchase_key = str(row.fields["purchase"])
            loyalty.refund(row.customer, purchase_key, amount=amount, **common)
        case "event":
            event = event_of(row)
            assert isinstance(event, CustomEvent)
            loyalty.record_event(row.customer, event, **common)
        case "redeem":
            quantity = int(row.fields.get("quantity", 1))
            loyalty.redeem(row.customer, str(row.fields.get("reward")), quantity, **common)
        case "gift":
            reason = str(row.fields.get("reason", "gift"))
            loyalty.grant_reward(
                row.customer, str(row.fields.get("reward")), reason=reason, **common
            )
        case "pay_with_points":
            loyalty.pay_with_points(
                row.customer,
                str(row.fields.get("reward")),
                int(row.fields["points"]),
                bill=_money(row, "bill"),
                **common,
            )


def _applied_before(loyalty: Loyalty, rows: list[FeedRow | BadRow]) -> set[tuple[str, str]]:
    """The rows whose key already holds an outcome: a re-run replays them."""
    with read_unit_of_work(loyalty.storage) as uow:
        return {
            (row.customer, row.key)
            for row in rows
            if isinstance(row, FeedRow) and uow.idempotency.get(row.customer, row.key) is not None
        }


def apply_feed(
    loyalty: Loyalty,
    rows: Iterable[FeedRow | BadRow],
    *,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
) -> FeedReport:
    """Run every row, ``chunk`` rows to a transaction; a row that fails is undone alone
    and reported with its line. ``progress`` is called with the number of rows done."""
    if chunk < 1:
        raise InvalidArgument(f"chunk: {chunk!r} is not a positive number of rows")
    applied = replayed = 0
    bad: list[BadRow] = []
    pending: list[FeedRow | BadRow] = []

    def flush() -> None:
        nonlocal applied, replayed
        seen = _applied_before(loyalty, pending)
        with loyalty.batch():
            for row in pending:
                if isinstance(row, BadRow):
                    bad.append(row)
                    continue
                try:
                    apply_row(loyalty, row)
                except (LoyaltyError, KeyError, ValueError, TypeError) as error:
                    reason = " ".join(str(error).split())
                    if isinstance(error, KeyError):
                        reason = f"the field {error.args[0]!r} is missing"
                    bad.append(BadRow(line=row.line, reason=reason))
                else:
                    applied += 1
                    replayed += (row.customer, row.key) in seen
        if progress is not None:
            progress(len(pending))
        log.debug("feed: %d rows applied, %d refused so far", applied, len(bad))
        pending.clear()

    for row in rows:
        pending.append(row)
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return FeedReport(applied=applied, replayed=replayed, bad=tuple(bad))
