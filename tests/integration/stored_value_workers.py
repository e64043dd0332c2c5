"""A worker process for the stored-value crash test: run as a script."""

from __future__ import annotations

import contextlib
import sys
from datetime import timedelta

from loyaltykit import Loyalty, Money
from loyaltykit.errors import InsufficientStoredValue
from tests.integration.workers import T0, _die_before_the_next_commit


def card_batch(url: str, code: str, count: int, kill_after: int | None) -> None:
    """Top up 10 or pay 15 from one card, ``count`` commands with fixed keys; SIGKILL
    ourselves inside command ``kill_after``, after its writes, before its commit."""
    loyalty = Loyalty(storage=url)
    for n in range(count):
        at = T0 + timedelta(minutes=n)
        if kill_after is not None and n == kill_after:
            _die_before_the_next_commit(loyalty)
        if n % 4 == 3:
            with contextlib.suppress(InsufficientStoredValue):
                loyalty.pay_with_stored_value(
                    code, Money.of(15, "CNY"), at=at, idempotency_key=f"card-{n}"
                )
        else:
            loyalty.top_up(code, Money.of(10, "CNY"), at=at, idempotency_key=f"card-{n}")
    loyalty.close()


if __name__ == "__main__":  # pragma: no cover - run as a script by the crash test
    card_batch(
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        None if sys.argv[4] == "none" else int(sys.argv[4]),
    )
