"""Plain-data forms of redemptions and vouchers, for storage and idempotency records.

Explicit mappings kept apart from the model, as in :mod:`loyaltykit.domain.records`:
JSON-compatible dicts, instants as ISO 8601 text, money as ``[amount, currency]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain.records import (
    entry_from_record,
    entry_to_record,
    instant_from_record,
    instant_from_text,
)
from loyaltykit.domain.redemptions import Redemption, RedemptionState, Voucher
from loyaltykit.domain.rewards import RewardKind
from loyaltykit.values import Money

__all__ = [
    "money_from_record",
    "money_to_record",
    "redemption_from_record",
    "redemption_to_record",
    "voucher_from_record",
    "voucher_to_record",
]


def money_to_record(money: Money | None) -> list[str] | None:
    """Money as ``[amount, currency]`` (the amount as exact text)."""
    return None if money is None else [str(money.amount), money.currency]


def money_from_record(value: Any) -> Money | None:
    """The money :func:`money_to_record` wrote."""
    return None if value is None else Money.of(value[0], value[1])


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def redemption_to_record(redemption: Redemption) -> dict[str, Any]:
    """A redemption as plain data."""
    return {
        "id": redemption.id,
        "customer_id": redemption.customer_id,
        "reward_id": redemption.reward_id,
        "kind": redemption.kind.value,
        "quantity": redemption.quantity,
        "points": redemption.points,
        "point_type": redemption.point_type,
        "state": redemption.state.value,
        "created_at": redemption.created_at.isoformat(),
        "closed_at": _text(redemption.closed_at),
        "claim_by": _text(redemption.claim_by),
        "money": money_to_record(redemption.money),
        "offset": money_to_record(redemption.offset),
        "cost": money_to_record(redemption.cost),
        "partner": redemption.partner,
        "granted": redemption.granted,
        "campaign": redemption.campaign,
        "fulfilment": redemption.fulfilment,
        "reason": redemption.reason,
        "entries": [entry_to_record(entry) for entry in redemption.entries],
        "vouchers": list(redemption.vouchers),
        "taken": [[name, amount] for name, amount in redemption.taken],
        "counted": list(redemption.counted),
    }


def redemption_from_record(record: Mapping[str, Any]) -> Redemption:
    """The redemption :func:`redemption_to_record` wrote."""
    return Redemption(
        id=record["id"],
        customer_id=record["customer_id"],
        reward_id=record["reward_id"],
        kind=RewardKind(record["kind"]),
        quantity=record["quantity"],
        points=record["points"],
        point_type=record["point_type"],
        state=RedemptionState(record["state"]),
        created_at=instant_from_record(record["created_at"]),
        closed_at=instant_from_text(record["closed_at"]),
        claim_by=instant_from_text(record.get("claim_by")),
        money=money_from_record(record["money"]),
        offset=money_from_record(record["offset"]),
        cost=money_from_record(record["cost"]),
        partner=record["partner"],
        granted=record.get("granted", False),
        campaign=record.get("campaign"),
        fulfilment=record["fulfilment"],
        reason=record["reason"],
        entries=tuple(entry_from_record(entry) for entry in record["entries"]),
        vouchers=tuple(record["vouchers"]),
        taken=tuple((name, amount) for name, amount in record["taken"]),
        counted=tuple(record["counted"]),
    )


def voucher_to_record(voucher: Voucher) -> dict[str, Any]:
    """A voucher as plain data."""
    return {
        "code": voucher.code,
        "customer_id": voucher.customer_id,
        "reward_id": voucher.reward_id,
        "redemption_id": voucher.redemption_id,
        "issued_at": voucher.issued_at.isoformat(),
        "expires_at": _text(voucher.expires_at),
        "uses": voucher.uses,
        "used": [[key, at.isoformat()] for key, at in voucher.used],
        "value": money_to_record(voucher.value),
        "cancelled_at": _text(voucher.cancelled_at),
    }


def voucher_from_record(record: Mapping[str, Any]) -> Voucher:
    """The voucher :func:`voucher_to_record` wrote."""
    return Voucher(
        code=record["code"],
        customer_id=record["customer_id"],
        reward_id=record["reward_id"],
        redemption_id=record["redemption_id"],
        issued_at=instant_from_record(record["issued_at"]),
        expires_at=instant_from_text(record["expires_at"]),
        uses=record["uses"],
        used=tuple((key, instant_from_record(at)) for key, at in record["used"]),
        value=money_from_record(record["value"]),
        cancelled_at=instant_from_text(record["cancelled_at"]),
    )
