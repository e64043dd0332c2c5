"""A small retail programme, run from start to finish: `make demo`.

Points are earned at 1 per 10 CNY, expire 12 months after they are earned, and the
points of one online order stay pending until its 7-day return window closes. Four
members shop, one redeems, one returns part of an order, one gives points to a
friend; then time passes, pending points are released and old points expire.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Entry,
    EntryKind,
    Loyalty,
    Money,
    PointType,
    Profile,
    Program,
    RefundPolicy,
    points_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PER = Money.of(10, "CNY")


def when(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def main(storage: str) -> None:
    program = Program(
        name="Jade Mall rewards",
        point_types=(
            PointType(code="points", name="Jade points", expire_after=relativedelta(months=12)),
            PointType(code="tier", name="Tier credits", redeemable=False, transferable=False),
        ),
        refund_policy=RefundPolicy.TAKE_AVAILABLE,
    )
    loyalty = Loyalty(program, storage=storage)

    members = {
        "m-li": Profile(name="Li Wei", tags={"likes-fashion"}, preferred_channel="wechat"),
        "m-wang": Profile(name="Wang Fang", tags={"family"}, preferred_channel="sms"),
        "m-zhao": Profile(name="Zhao Lei", tags={"health-minded"}, preferred_channel="app"),
        "m-chen": Profile(name="Chen Jing", preferred_channel="email"),
    }
    for customer_id, profile in members.items():
        loyalty.enroll(
            customer_id, at=when(1, 2), idempotency_key=f"enroll-{customer_id}", profile=profile
        )

    purchases = [
        ("m-li", "order-1001", "1299.00", when(1, 5)),
        ("m-wang", "order-1002", "468.50", when(1, 9)),
        ("m-zhao", "order-1003", "2150.00", when(2, 14)),
        ("m-li", "order-1004", "329.90", when(3, 8)),
        ("m-chen", "order-1005", "129.90", when(3, 20)),  # 12 points: rounded down
    ]
    for customer_id, order, amount, at in purchases:
        points = points_for(Money.of(amount, "CNY"), per=PER)
        loyalty.earn(customer_id, points, at=at, idempotency_key=order, metadata={"amount": amount})
        loyalty.earn(customer_id, points, at=at, idempotency_key=f"{order}-tier", point_type="tier")

    # an online order: points pending until the return window closes
    online = points_for(Money.of("799.00", "CNY"), per=PER)
    loyalty.earn(
        "m-wang",
        online,
        at=when(4, 1),
        idempotency_key="order-2001",
        available_from=when(4, 8),
        metadata={"amount": "799.00"},
    )

    # Li redeems 120 points for a gift; Zhao returns a third of his order, which takes
    # back a third of both the points and the tier credits it earned
    loyalty.redeem_points(
        "m-li", 120, at=when(4, 2), idempotency_key="gift-77", reason="silk scarf"
    )
    for original in ("order-1003", "order-1003-tier"):
        loyalty.reverse(
            "m-zhao",
            original,
            at=when(4, 3),
            idempotency_key=f"return-{original}",
            portion="1/3",
            reason="returned 1 of 3 items",
        )
    # Zhao gives 50 points to Chen; a retry of the same request changes nothing
    for _ in range(2):
        loyalty.transfer("m-zhao", "m-chen", 50, at=when(4, 4), idempotency_key="gift-zhao-chen")

    released = loyalty.release_pending(at=when(4, 8))
    expired = loyalty.expire_due(at=when(3, 10, year=2027))

    print(f"{program.name}: released {released.released} pending points on 2026-04-08,")
    print(f"expired {expired.expired} points in {expired.accounts} accounts by 2027-03-10.\n")
    print(
        f"{'member':<8} {'name':<10} {'available':>9} {'pending':>8} {'earned':>7} "
        f"{'redeemed':>8} {'expired':>7} {'tier':>6}"
    )
    for customer_id in members:
        customer = loyalty.customer(customer_id)
        balance = loyalty.balance(customer_id)
        tier = loyalty.balance(customer_id, point_type="tier").available
        print(
            f"{customer_id:<8} {customer.profile.name or '':<10} {balance.available:>9} "
            f"{balance.pending:>8} {balance.lifetime_earned:>7} {balance.lifetime_redeemed:>8} "
            f"{balance.lifetime_expired:>7} {tier:>6}"
        )

    for customer_id in members:
        statement = loyalty.statement(customer_id)
        print(f"\nStatement of {customer_id} (points)")
        print(
            f"{'occurred':<16}  {'kind':<12} {'+/- avail':>9} {'+/- pend':>8} "
            f"{'available':>9} {'pending':>8}  note"
        )
        for line in statement.lines:
            entry = line.entry
            occurred = entry.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            print(
                f"{occurred:<16}  {entry.kind.value:<12} {entry.amount:>+9} "
                f"{entry.pending_delta:>+8} {line.available:>9} {line.pending:>8}  {note(entry)}"
            )


def note(entry: Entry) -> str:
    """What a statement line says besides the numbers."""
    details = dict(entry.metadata)
    if entry.reason:
        return entry.reason
    if entry.kind is EntryKind.TRANSFER_OUT:
        return f"to {details['to']}"
    if entry.kind is EntryKind.TRANSFER_IN:
        return f"from {details['from']}"
    if entry.kind is EntryKind.EARN:
        return f"{entry.idempotency_key}: {details['amount']} CNY"
    if entry.kind is EntryKind.RELEASE:
        return "return window closed"
    if entry.kind is EntryKind.EXPIRE:
        return "12 months after it was earned"
    return ""


if __name__ == "__main__":
    # the embedded default: a SQLite file (a fresh one each run), or any storage URL
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(folder) / 'demo.db'}"
        print(f"storage: {url.split('://')[0]}\n")
        main(url)
