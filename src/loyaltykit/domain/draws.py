"""Draws and lotteries (抽奖): fair, auditable, reproducible by anyone.

The algorithm (``loyaltykit-draw-1``), which anyone can run again from the recorded
seed and entries:

1. Put the entries in canonical order: sorted by holder (Python string order, i.e. by
   Unicode code point). Each holder appears once, with a positive integer weight (the
   number of tickets: 1 each for an equal draw).
2. ``rng = random.Random(seed)`` with the seed string (CPython's Mersenne Twister, seeded
   from the string's SHA-512 as ``random.seed`` version 2 does).
3. For each prize in turn: ``ticket = rng.randrange(total)`` where ``total`` is the sum
   of the weights still in the pool; walk the pool in canonical order subtracting
   weights until the ticket falls inside an entry; that holder wins and leaves the pool
   (weighted sampling without replacement). Stop when the prizes or the entries run out.

Integers only, no floating point: the same seed and entries give the same winners on
every machine. The seed is an input, never drawn here; publishing
:func:`seed_commitment` before entries close and the seed afterwards lets members check
that the seed was not chosen after seeing the entries.

>>> entries = [DrawEntry(holder="c-2", weight=3), DrawEntry(holder="c-1", weight=1)]
>>> draw(entries, winners=2, seed="2026-spring") == draw(entries, winners=2, seed="2026-spring")
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument

__all__ = [
    "ALGORITHM",
    "DrawEntry",
    "DrawResult",
    "canonical_entries",
    "draw",
    "draw_from_record",
    "draw_to_record",
    "entries_digest",
    "seed_commitment",
]

ALGORITHM = "loyaltykit-draw-1"


def _weight(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgument(f"draw entry weight: {value!r} must be a positive int")


def _holder(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"draw entry holder: {value!r} must be a non-empty string")


@attrs.frozen(kw_only=True)
class DrawEntry:
    """A holder (a member id) and their number of tickets."""

    holder: str = attrs.field(validator=_holder)
    weight: int = attrs.field(default=1, validator=_weight)


def canonical_entries(entries: Iterable[DrawEntry]) -> tuple[DrawEntry, ...]:
    """The entries sorted by holder; a holder listed twice is refused."""
    ordered = tuple(sorted(entries, key=lambda entry: entry.holder))
    for first, second in itertools.pairwise(ordered):
        if first.holder == second.holder:
            raise InvalidArgument(f"draw entries: holder {first.holder!r} is listed twice")
    return ordered


def entries_digest(entries: Iterable[DrawEntry]) -> str:
    """SHA-256 of the canonical entries as JSON ``[[holder, weight], ...]`` (compact,
    UTF-8): recorded with a draw, it proves which entries it drew from."""
    data = [[entry.holder, entry.weight] for entry in canonical_entries(entries)]
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def seed_commitment(seed: str) -> str:
    """SHA-256 of the seed: publish it before entries close, reveal the seed after."""
    return hashlib.sha256(seed.encode()).hexdigest()


def draw(entries: Iterable[DrawEntry], *, winners: int, seed: str) -> tuple[str, ...]:
    """The winning holders, in the order drawn (first prize first); see the module
    docstring for the exact algorithm."""
    if not isinstance(seed, str) or not seed:
        raise InvalidArgument(f"draw seed: {seed!r} must be a non-empty string")
    if isinstance(winners, bool) or not isinstance(winners, int) or winners <= 0:
        raise InvalidArgument(f"draw winners: {winners!r} must be a positive int")
    pool = list(canonical_entries(entries))
    rng = random.Random(seed)
    chosen: list[str] = []
    while pool and len(chosen) < winners:
        ticket = rng.randrange(sum(entry.weight for entry in pool))
        for index, entry in enumerate(pool):
            if ticket < entry.weight:
                chosen.append(entry.holder)
                del pool[index]
                break
            ticket -= entry.weight
    return tuple(chosen)


@attrs.frozen(kw_only=True)
class DrawResult:
    """A draw as recorded: everything needed to check it (the audit trail)."""

    campaign: str
    draw_id: str
    at: datetime
    seed: str
    algorithm: str
    entries: tuple[DrawEntry, ...]
    entries_sha256: str
    winners: tuple[str, ...]

    def reproduce(self) -> tuple[str, ...]:
        """The winners drawn again from the recorded seed and entries (equal to
        ``winners`` unless the record was tampered with)."""
        if entries_digest(self.entries) != self.entries_sha256:
            raise InvalidArgument(f"draw {self.draw_id}: the entries do not match their digest")
        return draw(self.entries, winners=len(self.winners) or 1, seed=self.seed)[
            : len(self.winners)
        ]


def draw_to_record(result: DrawResult) -> dict[str, Any]:
    """A draw as plain data."""
    return {
        "campaign": result.campaign,
        "draw_id": result.draw_id,
        "at": result.at.isoformat(),
        "seed": result.seed,
        "algorithm": result.algorithm,
        "entries": [[entry.holder, entry.weight] for entry in result.entries],
        "entries_sha256": result.entries_sha256,
        "winners": list(result.winners),
    }


def draw_from_record(record: Mapping[str, Any]) -> DrawResult:
    """The draw :func:`draw_to_record` wrote."""
    return DrawResult(
        campaign=record["campaign"],
        draw_id=record["draw_id"],
        at=datetime.fromisoformat(record["at"]),
        seed=record["seed"],
        algorithm=record["algorithm"],
        entries=tuple(DrawEntry(holder=h, weight=w) for h, w in record["entries"]),
        entries_sha256=record["entries_sha256"],
        winners=tuple(record["winners"]),
    )
