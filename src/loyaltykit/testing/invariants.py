"""The ledger's invariants, checked against what a backend stored.

Use it after any sequence of commands, on any backend::

    assert not ledger_violations(loyalty.storage, "c-1", "points")
"""

from __future__ import annotations

from loyaltykit.storage.base import Storage

__all__ = ["ledger_violations"]


def ledger_violations(storage: Storage, customer_id: str, point_type: str) -> list[str]:
    """Every broken invariant of one account, as readable sentences (empty when sound)."""
    with storage.unit_of_work() as uow:
        account = uow.ledger.account(customer_id, point_type)
        entries = uow.ledger.entries(customer_id, point_type)
        lots = uow.ledger.lots(customer_id, point_type)
    problems: list[str] = []
    where = f"{customer_id}/{point_type}"
    if account is None:
        if entries or lots:
            problems.append(f"{where}: entries or lots exist without an account row")
        return problems
    released = sum(lot.remaining for lot in lots if not lot.pending)
    pending = sum(lot.remaining for lot in lots if lot.pending)
    checks = [
        ("available == released lots - deficit", account.available, released - account.deficit),
        ("pending == pending lots", account.pending, pending),
        ("available == sum of entry amounts", account.available, sum(e.amount for e in entries)),
        (
            "pending == sum of pending deltas",
            account.pending,
            sum(e.pending_delta for e in entries),
        ),
        (
            "deficit == sum of deficit deltas",
            account.deficit,
            sum(e.deficit_delta for e in entries),
        ),
        ("last_seq == number of entries", account.last_seq, len(entries)),
    ]
    for name, actual, expected in checks:
        if actual != expected:
            problems.append(f"{where}: {name} is false ({actual} != {expected})")
    if account.deficit < 0:
        problems.append(f"{where}: deficit {account.deficit} is negative")
    if [entry.seq for entry in entries] != list(range(1, len(entries) + 1)):
        problems.append(f"{where}: entry seqs are not 1..{len(entries)}")
    moved: dict[str, int] = {}
    for entry in entries:
        for change in entry.lots:
            moved[change.lot_id] = moved.get(change.lot_id, 0) + change.delta
    for lot in lots:
        if not 0 <= lot.remaining <= lot.amount:
            problems.append(
                f"{where}: lot {lot.id} remaining {lot.remaining} not in [0, {lot.amount}]"
            )
        if moved.get(lot.id, 0) != lot.remaining:
            problems.append(
                f"{where}: lot {lot.id} remaining {lot.remaining} != its entries' changes "
                f"{moved.get(lot.id, 0)}"
            )
    unknown = set(moved) - {lot.id for lot in lots}
    if unknown:
        problems.append(f"{where}: entries move unknown lots {sorted(unknown)}")
    return problems
