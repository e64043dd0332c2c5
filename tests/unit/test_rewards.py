"""The reward catalogue as values and as program data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Money, Program
from loyaltykit.domain.redemptions import Voucher, VoucherStatus
from loyaltykit.domain.rewards import (
    CashOffset,
    CatalogEntry,
    Eligibility,
    Price,
    RedemptionLimit,
    Reward,
    RewardCatalog,
    RewardKind,
    VoucherTerms,
    period_key,
)
from loyaltykit.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidArgument,
    OffsetRefused,
    ProgramError,
    RewardUnavailable,
    UnknownReward,
)
from loyaltykit.policy.rules import check

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


# --- Reward -------------------------------------------------------------------------------


def test_a_reward_validates_its_fields() -> None:
    with pytest.raises(InvalidArgument, match="reward kind"):
        Reward(id="x", kind="yacht")
    with pytest.raises(InvalidArgument, match="reward id"):
        Reward(id="has space", kind="gift")
    with pytest.raises(InvalidAmount, match="stock"):
        Reward(id="x", kind="gift", stock=-1)
    with pytest.raises(InvalidAmount, match="points"):
        Reward(id="x", kind="gift", price=Price(points=-5))
    with pytest.raises(InvalidArgument, match="available_until"):
        Reward(id="x", kind="gift", available_from=day(2), available_until=day(1))
    with pytest.raises(InvalidArgument, match="coupon needs voucher"):
        Reward(id="x", kind="coupon")
    with pytest.raises(InvalidArgument, match="only a coupon"):
        Reward(id="x", kind="gift", voucher=VoucherTerms())
    with pytest.raises(InvalidArgument, match="cash offset"):
        Reward(id="x", kind="cash_offset")
    with pytest.raises(InvalidArgument, match="more than one limit"):
        Reward(id="x", kind="gift", member_limits=(RedemptionLimit(count=1, period="day"),) * 2)
    with pytest.raises(InvalidArgument, match="not compiled"):
        Eligibility(condition="customer.tier == 'gold'")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="is a string"):
        Eligibility(tiers="gold")
    with pytest.raises(InvalidAmount, match="price money"):
        Price(points=10, money=cny("0"))


def test_prices_per_tier_and_per_quantity() -> None:
    reward = Reward(
        id="upgrade",
        kind="privilege",
        price=Price(points=20_000),
        tier_prices={"gold": 15_000, "platinum": Price(points=10_000, money=cny("100"))},
    )
    assert reward.price_for(None).points == 20_000
    assert reward.price_for("silver").points == 20_000
    assert reward.price_for("gold").points == 15_000
    assert reward.price_for("platinum").times(3) == Price(points=30_000, money=cny("300"))
    assert RewardKind(reward.kind) is RewardKind.PRIVILEGE


def test_availability_window_is_half_open() -> None:
    reward = Reward(id="flash", kind="gift", available_from=day(1), available_until=day(2))
    assert "opens" in (reward.unavailable(day(1) - timedelta(seconds=1)) or "")
    assert reward.unavailable(day(1)) is None
    assert "ended" in (reward.unavailable(day(2)) or "")


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("day", "2026-12-31"),
        ("week", "2026-W53"),
        ("month", "2026-12"),
        ("year", "2026"),
        ("lifetime", "all"),
    ],
)
def test_period_keys(period: str, expected: str) -> None:
    assert period_key(period, datetime(2026, 12, 31, 23)) == expected


def test_limits_refuse_unknown_periods() -> None:
    with pytest.raises(InvalidArgument, match="fortnight"):
        RedemptionLimit(count=1, period="fortnight")
    with pytest.raises(InvalidAmount):
        RedemptionLimit(count=0, period="day")


# --- the catalogue ---------------------------------------------------------------------


def test_the_catalogue_answers_with_the_version_in_force() -> None:
    mug = Reward(id="mug", kind="gift", price=500)
    catalog = (
        RewardCatalog.of(mug)
        .add(Reward(id="kettle", kind="gift", price=900), at=day(3))
        .change(Reward(id="mug", kind="gift", price=400), at=day(5))
        .withdraw("mug", at=day(9))
    )
    assert catalog.ids == ("kettle", "mug")
    assert len(catalog) == 2
    assert catalog.get("mug", day(0)) == mug
    assert catalog.get("mug", day(5)).price.points == 400
    assert [r.id for r in catalog.offered(day(0))] == ["mug"]
    assert [r.id for r in catalog.offered(day(4))] == ["kettle", "mug"]
    assert [r.id for r in catalog.offered(day(9))] == ["kettle"]
    with pytest.raises(RewardUnavailable, match="offered from"):
        catalog.get("kettle", day(2))
    with pytest.raises(RewardUnavailable, match="withdrawn"):
        catalog.get("mug", day(10))
    with pytest.raises(UnknownReward):
        catalog.get("yacht", day(1))
    with pytest.raises(UnknownReward):
        catalog.withdraw("yacht", at=day(1))
    with pytest.raises(InvalidArgument, match="exists"):
        catalog.add(mug)
    with pytest.raises(InvalidArgument, match="changes twice"):
        catalog.change(mug, at=day(5))
    with pytest.raises(InvalidArgument, match="holds reward"):
        CatalogEntry(reward_id="mug", reward=Reward(id="cup", kind="gift"))
    assert len(catalog.history("mug")) == 3


# --- vouchers and cash offsets ------------------------------------------------------------


def test_voucher_terms_validate_alphabet_and_length() -> None:
    with pytest.raises(InvalidArgument, match="alphabet"):
        VoucherTerms(alphabet="ABC")
    with pytest.raises(InvalidArgument, match="alphabet"):
        VoucherTerms(alphabet="ABCDEFGHIJKLMNO-")
    with pytest.raises(InvalidAmount, match="length"):
        VoucherTerms(length=6)
    terms = VoucherTerms(alphabet="0123456789ABCDEF", length=8)
    assert terms.code(lambda alphabet: alphabet[-1]) == "FFFFFFFF"


def test_voucher_expiry_is_the_sooner_of_its_lifetime_and_its_end_date() -> None:
    assert VoucherTerms().expiry(T0) is None
    assert VoucherTerms(valid_for=relativedelta(months=1)).expiry(T0) == datetime(
        2026, 6, 1, tzinfo=UTC
    )
    both = VoucherTerms(valid_for=relativedelta(months=1), valid_until=day(10))
    assert both.expiry(T0) == day(10)


def test_a_voucher_status_gives_the_first_reason() -> None:
    voucher = Voucher(
        code="ABCDEFGH",
        customer_id="ann",
        reward_id="c",
        redemption_id="r",
        issued_at=T0,
        expires_at=day(5),
    )
    assert voucher.status("ann", day(1)) is VoucherStatus.VALID
    assert voucher.status("ben", day(9)) is VoucherStatus.NOT_YOURS
    used = voucher.use("u1", day(1))
    assert (used.uses_left, used.status("ann", day(2))) == (0, VoucherStatus.USED)
    assert used.cancel(day(3)).status("ann", day(3)) is VoucherStatus.CANCELLED


def test_cash_offset_is_exact_and_bounded_by_the_bill_and_the_share() -> None:
    offset = CashOffset(rate=cny("0.01"), max_share="0.3")
    assert offset.quote(1, cny("0.05")) == cny("0.01")
    assert offset.quote(3000, cny("100")) == Money.of(Decimal("30.00"), "CNY")
    assert offset.max_points(cny("99.99")) == 2999
    with pytest.raises(OffsetRefused, match=r"0\.3 of the bill"):
        offset.quote(3001, cny("100"))
    whole = CashOffset(rate=cny("1"), step=10)
    assert whole.max_points(cny("95")) == 90
    with pytest.raises(OffsetRefused, match="more than the bill"):
        whole.quote(100, cny("95"))
    with pytest.raises(CurrencyMismatch):
        whole.quote(10, Money.of("95", "EUR"))
    with pytest.raises(InvalidAmount, match="max_share"):
        CashOffset(rate=cny("1"), max_share="1.5")
    with pytest.raises(InvalidAmount, match="max_share"):
        CashOffset(rate=cny("1"), max_share=0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="rate"):
        CashOffset(rate=cny("0"))


# --- the catalogue as program data ----------------------------------------------------------

FULL: dict[str, Any] = {
    "name": "shop",
    "currency": "CNY",
    "tiers": {
        "levels": [
            {"code": "blue", "rank": 0},
            {"code": "gold", "rank": 1},
            {"code": "platinum", "rank": 2},
        ]
    },
    "rewards": [
        {
            "id": "mug",
            "kind": "gift",
            "name": "Mug",
            "points": 500,
            "stock": 100,
            "member_limits": [{"count": 1, "period": "month"}],
            "global_limits": [{"count": 20, "period": "day"}],
            "cost": "12.50",
            "tags": ["vip"],
            "tiers": ["gold"],
            "condition": "customer.purchases >= 1",
        },
        {"id": "mug", "from": "2026-09-01T00:00:00+08:00", "withdrawn": True},
        {
            "id": "concert",
            "kind": "ticket",
            "points": 2000,
            "money": "99",
            "tier_prices": {"gold": 1500, "platinum": {"points": 1000, "money": "49"}},
            "available_from": "2026-06-18T10:00:00+08:00",
            "available_until": "2026-06-19T00:00:00+08:00",
            "partner": "live-house",
            "claim_within": {"days": 14},
        },
        {
            "id": "coupon-20",
            "kind": "coupon",
            "points": 200,
            "voucher": {"length": 10, "uses": 2, "valid_for": {"days": 30}, "value": "20"},
        },
        {
            "id": "cash",
            "kind": "cash_offset",
            "offset": {"rate": "0.01", "max_share": "0.5", "minimum": 100, "step": 100},
        },
    ],
}


def test_a_catalogue_loads_from_a_dict_and_round_trips() -> None:
    program = Program.from_dict(FULL)
    catalog = program.catalog
    assert catalog.ids == ("cash", "concert", "coupon-20", "mug")
    september = datetime(2026, 9, 1, tzinfo=UTC)
    mug = catalog.get("mug", T0)
    assert (mug.stock, mug.cost, mug.eligibility.tiers) == (100, cny("12.50"), {"gold"})
    assert mug.eligibility.condition is not None
    assert mug.eligibility.condition.source == "customer.purchases >= 1"
    with pytest.raises(RewardUnavailable):
        catalog.get("mug", september)
    concert = catalog.get("concert", datetime(2026, 6, 18, 3, tzinfo=UTC))
    assert concert.price_for("platinum") == Price(points=1000, money=cny("49"))
    assert concert.claim_within == relativedelta(days=14)
    coupon = catalog.get("coupon-20", T0)
    assert coupon.voucher is not None and coupon.voucher.uses == 2
    assert Program.from_dict(program.to_dict()) == program
    assert Program.from_json(__import__("json").dumps(program.to_dict())) == program


def test_catalogue_problems_are_all_reported_with_their_path() -> None:
    broken = {
        "rewards": [
            {"id": "a", "kind": "yacht"},
            {"id": "b", "kind": "gift", "points": "ten", "stock": 5, "colour": "red"},
            {"id": "c", "kind": "gift", "member_limits": [{"count": 1, "period": "fortnight"}]},
            {"id": "d", "kind": "gift", "available_from": "tomorrow"},
            {"id": "e", "withdrawn": True},
            {"id": "f", "kind": "gift", "condition": "customer.tier =="},
            {"id": "g", "kind": "coupon", "voucher": {"length": 3}},
        ]
    }
    with pytest.raises(ProgramError) as caught:
        Program.from_dict(broken)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "rewards[0].kind: 'yacht'",
        "rewards[1].points: 'ten'",
        "rewards[1].colour: unknown field",
        "rewards[2].member_limits[0]",
        "rewards[3].available_from: 'tomorrow'",
        "rewards[4].from: a withdrawal needs",
        "rewards[5].condition",
        "rewards[6].voucher",
    ):
        assert expected in problems


def test_a_program_refuses_rewards_in_undeclared_points_or_tiers() -> None:
    with pytest.raises(InvalidArgument, match="miles"):
        Program(catalog=RewardCatalog.of(Reward(id="x", kind="gift", point_type="miles")))
    for_gold = Reward(id="x", kind="gift", eligibility=Eligibility(tiers={"gold"}))
    with pytest.raises(InvalidArgument, match="gold"):
        Program(catalog=RewardCatalog.of(for_gold))
    priced = Reward(id="y", kind="gift", tier_prices={"glod": 5})
    with pytest.raises(ProgramError, match="glod"):
        Program.from_dict(
            {
                "tiers": {"levels": [{"code": "blue", "rank": 0}, {"code": "gold", "rank": 1}]},
                "rewards": [{"id": "y", "kind": "gift", "tier_prices": {"glod": 5}}],
            }
        )
    assert priced.price_for("glod").points == 5


def test_a_python_condition_cannot_be_dumped() -> None:
    reward = Reward(
        id="x", kind="gift", eligibility=Eligibility(condition=check(lambda context: True))
    )
    with pytest.raises(InvalidArgument, match="callable"):
        Program(catalog=RewardCatalog.of(reward)).to_dict()


def test_malformed_catalogue_tables_are_reported_too() -> None:
    broken = {
        "rewards": [
            "mug",
            {"id": "a", "from": "2026-09-01T00:00:00+08:00", "withdrawn": True, "points": 5},
            {"id": "b", "kind": "gift", "tier_prices": 5, "tags": ["vip", 7]},
            {"id": "c", "kind": "coupon", "voucher": "yes"},
            {"id": "d", "kind": "cash_offset", "offset": "half"},
            {"id": "e", "kind": "cash_offset", "offset": {"rate": "-1", "colour": 1}},
            {"id": "f", "kind": "gift", "member_limits": ["daily"], "from": "2026-09-01"},
            {"id": "g", "kind": "gift", "claim_within": {"days": 0}},
        ],
    }
    with pytest.raises(ProgramError) as caught:
        Program.from_dict(broken)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "rewards[0]: 'mug' is not a table",
        "rewards[1].withdrawn: a withdrawal has no other fields ['points']",
        "rewards[2].tier_prices: 5 is not a table",
        "rewards[2].tags: 7 is not a string",
        "rewards[3].voucher: 'yes' is not a table",
        "rewards[4].offset: 'half' is not a table",
        "rewards[5].offset.rate: '-1' must be a positive amount",
        "rewards[5].offset.colour: unknown field",
        "rewards[6].member_limits[0]: 'daily' is not a table",
        "rewards[6].from: '2026-09-01' has no UTC offset",
        "rewards[7].claim_within",
    ):
        assert expected in problems, expected
    with pytest.raises(InvalidArgument, match="claim_within"):
        Reward(id="x", kind="gift", claim_within=30)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="valid_for"):
        VoucherTerms(valid_for=30)  # type: ignore[arg-type]
