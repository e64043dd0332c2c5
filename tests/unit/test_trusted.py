"""The engine's trusted constructors build the very values their classes' ``__init__``
builds, and refuse a class whose ``__init__`` would validate, convert or compute."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from loyaltykit import Customer
from loyaltykit.policy.engine import (
    CounterIncrement,
    CustomerState,
    Decision,
    Earn,
    MetricSample,
    TraceLine,
)
from loyaltykit.policy.rules import RuleState
from loyaltykit.policy.trusted import trusted

AT = datetime(2026, 5, 1, 9, tzinfo=UTC)
EARN = Earn(customer_id="c", point_type="points", points=5, expires_at=AT, rules=("base",))
VALUES: list[tuple[type[Any], dict[str, Any]]] = [
    (
        Earn,
        {
            "customer_id": "c",
            "point_type": "points",
            "points": 5,
            "expires_at": AT,
            "available_from": None,
            "rules": ("base",),
        },
    ),
    (CounterIncrement, {"key": "cap:daily:2026-05-01", "amount": 40, "customer_id": None}),
    (MetricSample, {"customer_id": "c", "metric": "spend", "value": Decimal("59.90")}),
    (TraceLine, {"rule": "base", "matched": True, "detail": "base: +5", "lines": ("latte",)}),
    (Decision, {"effects": (EARN,), "trace": (), "notes": ()}),
    (RuleState, {"purchases_before": 3, "tier": "gold", "referred_by": None}),
    (
        CustomerState,
        {
            "customer": Customer(id="c", enrolled_at=AT),
            "tier": None,
            "counters": {"cap:daily:2026-05-01": 40},
            "purchases": 3,
            "tier_status": None,
            "metrics": CustomerState(customer=Customer(id="c", enrolled_at=AT)).metrics,
            "referrer_counters": {},
        },
    ),
]


@pytest.mark.parametrize(("cls", "fields"), VALUES, ids=[cls.__name__ for cls, _ in VALUES])
def test_a_trusted_value_is_the_value_its_init_builds(
    cls: type[Any], fields: dict[str, Any]
) -> None:
    built = trusted(cls)(*fields.values())
    expected = cls(**fields)
    assert type(built) is cls
    assert built == expected
    assert repr(built) == repr(expected)
    assert attrs.asdict(built, recurse=False) == attrs.asdict(expected, recurse=False)
    if cls is not CustomerState:  # its counters are a dict: not hashable
        assert hash(built) == hash(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.x = 1
    if cls is not CustomerState:
        assert pickle.loads(pickle.dumps(built)) == expected


def test_every_value_takes_all_its_fields() -> None:
    with pytest.raises(TypeError):
        trusted(CounterIncrement)("cap:daily:2026-05-01", 40)  # customer_id left out
    with pytest.raises(TypeError, match="takes 7 values"):
        trusted(CustomerState)(Customer(id="c", enrolled_at=AT))


@attrs.frozen
class Validated:
    amount: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class Converted:
    amount: int = attrs.field(converter=int)


@attrs.frozen
class Computed:
    amount: int
    double: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "double", 2 * self.amount)


@attrs.frozen
class Checked:
    amount: int

    def __attrs_post_init__(self) -> None:
        assert self.amount >= 0


@attrs.frozen(slots=False)
class Unslotted:
    amount: int


class Plain:
    __slots__ = ("amount",)


@pytest.mark.parametrize("cls", [Validated, Converted, Computed, Checked, Unslotted, Plain])
def test_a_class_whose_init_does_more_is_refused(cls: type[Any]) -> None:
    with pytest.raises(TypeError):
        trusted(cls)
