"""Code run in worker processes by the campaign concurrency tests (importable by spawn)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loyaltykit import Item, Loyalty, Money, Program, Purchase

T0 = datetime(2026, 5, 8, 4, tzinfo=UTC)
BUDGET = 50


def program() -> Program:
    """Double points with a budget of 50 points: each 90 CNY purchase wants 9 more."""
    return Program.from_dict(
        {
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "campaigns": [
                {
                    "id": "double",
                    "schedule": {"start": "2026-05-01T00:00:00+00:00"},
                    "effects": [{"kind": "multiply", "factor": "2"}],
                    "budget": {"points": BUDGET},
                }
            ],
        }
    )


def purchase(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then buy for 90 CNY as member ``m<number>``."""
    loyalty = Loyalty(program(), storage=url)
    barrier.wait()
    try:
        receipt = loyalty.record_purchase(
            f"m{number}",
            Purchase(amount=Money.of(90, "CNY")),
            at=T0,
            idempotency_key=f"buy-{number}",
        )
        results.put(str(receipt.balance.available - 9))
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


MONEY_BUDGET = 50


def money_off_program() -> Program:
    """满200减20 from a budget of 50 CNY: two baskets get 20 off, one the last 10."""
    return Program.from_dict(
        {
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "campaigns": [
                {
                    "id": "spend-200",
                    "schedule": {"start": "2026-05-01T00:00:00+00:00"},
                    "effects": [{"kind": "money_off", "amount": "20", "minimum": "200"}],
                    "budget": {"money": str(MONEY_BUDGET)},
                }
            ],
        }
    )


def checkout(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then check out a 200 CNY basket as member ``m<number>``."""
    loyalty = Loyalty(money_off_program(), storage=url)
    basket = Purchase(
        amount=Money.of(200, "CNY"),
        items=(Item(sku="run-1", category="shoes", unit_price=Money.of(200, "CNY")),),
    )
    barrier.wait()
    try:
        order = loyalty.checkout(f"m{number}", basket, at=T0, idempotency_key=f"order-{number}")
        results.put(str(order.basket.discount.amount))
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()
