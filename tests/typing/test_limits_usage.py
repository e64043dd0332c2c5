"""The limits page's code, type-checked by ``mypy --strict tests/typing``: a constructor
given the collections the docs show keeps its field types (the converters that check
them are typed ``Iterable[str]``, not ``object``), and ``ComplaintFull`` carries its
attributes."""

from __future__ import annotations

from datetime import UTC, datetime

from loyaltykit import Audience, Loyalty
from loyaltykit.domain.complaint_records import MAX_COMPLAINT_BYTES
from loyaltykit.domain.complaints import MAX_COMPLAINT_STEPS
from loyaltykit.errors import ComplaintFull
from loyaltykit.values import codes, mapping_of, sequence_of


def test_checked_collections_keep_their_types() -> None:
    audience = Audience(tiers=["gold"], tags=("vip",))
    tiers: frozenset[str] = audience.tiers
    assert tiers == {"gold"}
    found: tuple[int, ...] = sequence_of("days", [1, 2], int)
    named: dict[str, int] = mapping_of("limits", {"a": 1}, int)
    kept: frozenset[str] = codes("tags", ["a"])
    assert (found, named, kept) == ((1, 2), {"a": 1}, frozenset({"a"}))


def test_a_full_complaint_says_which_bound() -> None:
    assert MAX_COMPLAINT_STEPS == 100 and MAX_COMPLAINT_BYTES == 60_000
    at = datetime(2026, 5, 1, tzinfo=UTC)
    loyalty = Loyalty()
    loyalty.enroll("c-1", at=at, idempotency_key="enroll-c-1")
    loyalty.file_complaint(
        "C-1",
        channel="hotline",
        category="service",
        content="x",
        at=at,
        idempotency_key="file-C-1",
        actor="agent-7",
        customer_id="c-1",
    )
    note = "\U0001f600" * 2000
    refused: ComplaintFull | None = None
    for n in range(20):
        step = loyalty.escalate_complaint if n % 2 == 0 else loyalty.resume_complaint
        try:
            step("C-1", at=at, idempotency_key=f"s-{n}", actor="lead-2", note=note)
        except ComplaintFull as error:
            refused = error
            break
    assert refused is not None, "twenty notes of 8 KB fit one complaint"
    limit: str = refused.limit
    assert "bytes" in limit and refused.complaint_id == "C-1"
