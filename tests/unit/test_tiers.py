"""Tier ladders through the facade: the worked examples of the source documents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidAmount, InvalidArgument, OverReversal, UnknownEntry
from loyaltykit.formats.programs import Program
from loyaltykit.policy.program import ProgramVersion, ProgramVersions
from loyaltykit.policy.rules import BaseRate, Multiplier

T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def cny(amount: str | int) -> Money:
    return Money.of(amount, "CNY")


def spend(amount: str, window: Window | None = None) -> Requirement:
    return Requirement(metric="spend", at_least=amount, window=window or Window.rolling(12))


# ERPNext-style: Bronze 0, Silver 10,000, Gold 20,000 spent; 1 point per 1,000 spent
ERPNEXT = Program(
    rules=(
        BaseRate(id="base", per=cny(1000)),
        Multiplier(id="gold-x2", factor="2", condition="customer.tier == 'gold'"),
    ),
    tiers=TierLadder(
        tiers=(
            Tier(code="bronze", rank=0),
            Tier(code="silver", rank=1, requirements=(spend("10000"),)),
            Tier(code="gold", rank=2, requirements=(spend("20000"),), perks={"priority-service"}),
        ),
        status_length=relativedelta(months=12),
    ),
)


def member(program: Program | ProgramVersions, customer: str = "ann") -> Loyalty:
    loyalty = Loyalty(program)
    loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
    return loyalty


def buy(loyalty: Loyalty, amount: str, at: datetime, key: str, customer: str = "ann") -> str:
    receipt = loyalty.record_purchase(
        customer, Purchase(amount=cny(amount)), at=at, idempotency_key=key
    )
    return receipt.explanation


def test_upgrade_happens_as_soon_as_a_threshold_is_crossed() -> None:
    loyalty = member(ERPNEXT)
    assert loyalty.tier("ann", at=T0).effective == "bronze"
    buy(loyalty, "9000", T0, "o1")
    assert loyalty.tier("ann", at=T0).effective == "bronze"
    explanation = buy(loyalty, "1500", T0 + timedelta(days=1), "o2")
    assert "tier bronze -> silver: spend 10500 >= 10000 (rolling 12 months)" in explanation
    buy(loyalty, "10000", T0 + timedelta(days=2), "o3")
    view = loyalty.tier("ann", at=T0 + timedelta(days=2))
    assert view.effective == "gold"
    assert [(c.from_tier, c.to_tier, c.kind) for c in view.history] == [
        ("bronze", "silver", "upgrade"),
        ("silver", "gold", "upgrade"),
    ]
    # the gold multiplier applies from the next purchase: 5 x 2
    assert "gold-x2: x2 -> 10" in buy(loyalty, "5000", T0 + timedelta(days=3), "o4")


def test_downgrade_only_at_requalification_with_grace_and_soft_landing() -> None:
    ladder = TierLadder(
        tiers=ERPNEXT.tiers.tiers if ERPNEXT.tiers else (),
        status_length=relativedelta(months=12),
        grace=relativedelta(months=1),
        downgrade="one_step",
    )
    loyalty = member(Program(rules=ERPNEXT.rules, tiers=ladder))
    buy(loyalty, "25000", T0, "o1")
    assert loyalty.tier("ann", at=T0).effective == "gold"
    # nothing bought for a year: at the end of the status, grace starts
    end = T0 + relativedelta(months=12)
    assert loyalty.run_due(at=end - timedelta(seconds=1)).tier_changes == 0
    assert loyalty.run_due(at=end).tier_changes == 1
    assert loyalty.tier("ann", at=end).effective == "gold"
    assert loyalty.tier("ann", at=end).history[-1].kind == "grace"
    # grace over: one step down (soft landing), not straight to bronze
    loyalty.run_due(at=end + relativedelta(months=1))
    view = loyalty.tier("ann", at=end + relativedelta(months=1))
    assert view.effective == "silver"
    assert view.history[-1].kind == "downgrade"
    # and a year later, bronze
    loyalty.run_due(at=end + relativedelta(months=13))
    loyalty.run_due(at=end + relativedelta(months=14))
    assert loyalty.tier("ann", at=end + relativedelta(months=14)).effective == "bronze"


def test_requalifying_members_keep_their_tier() -> None:
    loyalty = member(ERPNEXT)
    buy(loyalty, "21000", T0, "o1")
    buy(loyalty, "21000", T0 + relativedelta(months=11), "o2")
    loyalty.run_due(at=T0 + relativedelta(months=12))
    view = loyalty.tier("ann", at=T0 + relativedelta(months=12))
    assert view.effective == "gold"
    assert view.history[-1].kind == "renewal"
    assert view.status.valid_until == T0 + relativedelta(months=24)


def test_overrides_expire_back_to_the_earned_tier_and_are_never_a_floor() -> None:
    loyalty = member(ERPNEXT)
    buy(loyalty, "12000", T0, "o1")
    until = T0 + relativedelta(months=3)
    loyalty.grant_tier(
        "ann",
        "gold",
        until=until,
        at=T0,
        idempotency_key="match-1",
        reason="status match",
        actor="cs-9",
    )
    assert loyalty.tier("ann", at=T0 + timedelta(days=1)).effective == "gold"
    assert loyalty.tier("ann", at=until).effective == "silver"
    loyalty.run_due(at=until)
    view = loyalty.tier("ann", at=until)
    assert (view.effective, view.status.override) == ("silver", None)
    assert view.history[-1].kind == "override_ended"
    with pytest.raises(InvalidArgument, match="platinum"):
        loyalty.grant_tier(
            "ann", "platinum", until=until, at=T0, idempotency_key="m2", reason="x", actor="y"
        )


def test_telecom_arpu_ladder_with_a_new_standard_and_grandfathering() -> None:
    def ladder(version: str, silver: tuple[str, str], gold: str) -> TierLadder:
        arpu = Window.rolling(3)
        return TierLadder(
            version=version,
            status_length=relativedelta(months=6),
            tiers=(
                Tier(code="regular", rank=0),
                Tier(
                    code="silver",
                    rank=1,
                    requirements=(
                        Requirement(
                            metric="spend",
                            at_least=silver[0],
                            below=silver[1],
                            window=arpu,
                            per_month=True,
                        ),
                    ),
                ),
                Tier(
                    code="gold",
                    rank=2,
                    requirements=(
                        Requirement(metric="spend", at_least=gold, window=arpu, per_month=True),
                    ),
                ),
            ),
        )

    change_day = T0 + relativedelta(months=4)
    versions = ProgramVersions(
        (
            ProgramVersion(
                valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                program=Program(tiers=ladder("2025", ("100", "150"), "150")),
            ),
            ProgramVersion(
                valid_from=change_day, program=Program(tiers=ladder("2026", ("120", "180"), "180"))
            ),
        )
    )
    loyalty = member(versions)
    # 110 CNY a month: silver under the old standard (100 <= ARPU < 150) from the first
    # bill on, since ARPU averages over the months billed so far
    for month in range(3):
        buy(loyalty, "110", T0 + relativedelta(months=month), f"bill-{month}")
    status = loyalty.tier("ann", at=T0 + relativedelta(months=2)).status
    assert (status.tier, status.granted_under) == ("silver", "2025")
    granted_until = status.valid_until
    assert granted_until == T0 + relativedelta(months=6)
    # the new standard (120 <= ARPU < 180) takes effect; 110 a month no longer qualifies,
    # but the member keeps silver until the status granted under the old one ends
    for month in range(3, 6):
        buy(loyalty, "110", T0 + relativedelta(months=month), f"bill-{month}")
        loyalty.run_due(at=T0 + relativedelta(months=month))
    assert loyalty.tier("ann", at=granted_until - timedelta(days=1)).effective == "silver"
    loyalty.run_due(at=granted_until)
    view = loyalty.tier("ann", at=granted_until)
    assert view.effective == "regular"
    assert "re-qualification" in view.history[-1].reason


def test_bank_asset_tiers_from_a_caller_supplied_metric() -> None:
    assets = Window.all_time()
    bank = Program(
        tiers=TierLadder(
            tiers=(
                Tier(code="standard", rank=0),
                Tier(
                    code="silver",
                    rank=1,
                    requirements=(Requirement(metric="assets", at_least="500000", window=assets),),
                ),
                Tier(
                    code="gold",
                    rank=2,
                    requirements=(Requirement(metric="assets", at_least="2000000", window=assets),),
                ),
                Tier(
                    code="diamond",
                    rank=3,
                    mode="all",
                    requirements=(
                        Requirement(metric="assets", at_least="6000000", window=assets),
                        Requirement(metric="purchases", at_least=24, window=Window.rolling(12)),
                    ),
                ),
            )
        )
    )
    loyalty = member(bank)
    status = loyalty.set_metric("ann", "assets", "2500000", at=T0, idempotency_key="aum-2026-01")
    assert status is not None and status.tier == "gold"
    loyalty.set_metric("ann", "assets", "7000000", at=T0, idempotency_key="aum-2026-02")
    assert loyalty.tier("ann", at=T0).effective == "gold", "diamond also needs 24 transactions"
    forecast = loyalty.forecast("ann", at=T0)
    assert (forecast.next_tier, dict(forecast.to_reach)) == ("diamond", {"purchases": Decimal(24)})


def test_hotel_stays_and_nights_from_custom_events() -> None:
    hotel = Program(
        tiers=TierLadder(
            tiers=(
                Tier(code="loyal", rank=0),
                Tier(
                    code="platinum",
                    rank=1,
                    mode="any",
                    requirements=(
                        Requirement(metric="stay", at_least=10, window=Window.calendar_year()),
                        Requirement(
                            metric="stay.nights", at_least=25, window=Window.calendar_year()
                        ),
                    ),
                ),
            )
        )
    )
    loyalty = member(hotel)
    for n in range(3):
        event = CustomEvent(type="stay", attributes={"nights": 9})
        loyalty.record_event(
            "ann", event, at=T0 + timedelta(days=10 * n), idempotency_key=f"stay-{n}"
        )
    assert loyalty.tier("ann", at=T0 + timedelta(days=30)).effective == "platinum"  # 27 nights


def test_relative_tiers_take_the_top_percent() -> None:
    program = Program(
        tiers=TierLadder(
            tiers=(
                Tier(code="member", rank=0),
                Tier(code="gold", rank=1, top_percent="5", rank_by="spend"),
            )
        )
    )
    loyalty = Loyalty(program)
    for n in range(40):
        customer = f"c{n:02d}"
        loyalty.enroll(customer, at=T0, idempotency_key=f"e{n}")
        buy(loyalty, str(100 * (n + 1)), T0, f"o{n}", customer=customer)
    assert loyalty.rank_relative_tiers(at=T0) == 2  # ceil(5% of 40)
    assert [c for c in ("c39", "c38", "c37") if loyalty.tier(c, at=T0).effective == "gold"] == [
        "c39",
        "c38",
    ]


def test_the_ladder_refuses_bad_shapes() -> None:
    with pytest.raises(InvalidArgument, match="lowest tier"):
        TierLadder(tiers=(Tier(code="a", rank=0, requirements=(spend("1"),)),))
    with pytest.raises(InvalidArgument, match="ranks"):
        TierLadder(tiers=(Tier(code="a", rank=0), Tier(code="b", rank=0)))
    with pytest.raises(InvalidArgument, match="below"):
        Requirement(metric="spend", at_least="10", below="5")


def test_a_refunded_purchase_stops_counting_towards_the_tier() -> None:
    loyalty = member(ERPNEXT)
    buy(loyalty, "21000", T0, "o1")
    assert loyalty.tier("ann", at=T0).effective == "gold"
    loyalty.refund(
        "ann", "o1", amount=cny("15000"), at=T0 + timedelta(days=3), idempotency_key="r1"
    )
    # downgrades wait for re-qualification; by then only 6,000 of spend counts
    assert loyalty.tier("ann", at=T0 + timedelta(days=3)).effective == "gold"
    forecast = loyalty.forecast("ann", at=T0 + timedelta(days=3))
    assert dict(forecast.to_keep) == {"spend": Decimal(14000)}
    loyalty.run_due(at=T0 + relativedelta(months=12))
    assert loyalty.tier("ann", at=T0 + relativedelta(months=12)).effective == "bronze"


def test_a_purchase_that_earned_no_points_can_still_be_refunded() -> None:
    # 1 point per 1,000: a purchase of 800 earns nothing, yet its spend counts for tiers
    loyalty = member(ERPNEXT)
    buy(loyalty, "9500", T0, "o1")
    buy(loyalty, "800", T0 + timedelta(days=1), "o2")
    assert loyalty.tier("ann", at=T0 + timedelta(days=1)).effective == "silver"
    receipt = loyalty.refund(
        "ann", "o2", amount=cny("600"), at=T0 + timedelta(days=2), idempotency_key="r1"
    )
    assert receipt.entries == () and receipt.balance.available == 9
    forecast = loyalty.forecast("ann", at=T0 + timedelta(days=2))
    assert dict(forecast.to_keep) == {"spend": Decimal(10000 - 9500 - 200)}
    # the rest of it, then nothing more: refunded shares never pass the whole
    loyalty.refund("ann", "o2", at=T0 + timedelta(days=3), idempotency_key="r2")
    with pytest.raises(OverReversal):
        loyalty.refund("ann", "o2", at=T0 + timedelta(days=3), idempotency_key="r3")
    with pytest.raises(InvalidAmount):
        loyalty.refund("ann", "o2", amount=cny("900"), at=T0, idempotency_key="r4")
    assert dict(loyalty.forecast("ann", at=T0 + timedelta(days=3)).to_keep) == {
        "spend": Decimal(500)
    }
    # a replay returns the first outcome; an unknown purchase is still unknown
    again = loyalty.refund(
        "ann", "o2", amount=cny("600"), at=T0 + timedelta(days=2), idempotency_key="r1"
    )
    assert again.replayed
    with pytest.raises(UnknownEntry):
        loyalty.refund("ann", "no-such-order", at=T0, idempotency_key="r5")


def test_arpu_averages_over_the_months_billed_not_the_windows_nominal_months() -> None:
    arpu = Requirement(
        metric="spend", at_least="150", window=Window.calendar_year(), per_month=True
    )
    program = Program(
        tiers=TierLadder(
            tiers=(
                Tier(code="base", rank=0),
                Tier(code="silver", rank=1, requirements=(arpu,)),
            )
        )
    )
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    loyalty = Loyalty(program)
    loyalty.enroll("ann", at=start, idempotency_key="enroll-ann")
    for month in range(4):
        at = start + relativedelta(months=month)
        buy(loyalty, "200", at, f"bill-{month}")
        # 200 a month is an ARPU of 200 from the first bill on (not 800 / 12 = 66.67)
        assert loyalty.tier("ann", at=at).effective == "silver"


def test_the_arpu_divisor_is_the_months_begun_since_the_window_opened_or_one_joined() -> None:
    history = MetricHistory().add("spend", date(2026, 1, 15), Decimal(300))
    history = history.add("spend", date(2026, 2, 15), Decimal(300))
    joined = datetime(2026, 1, 15, tzinfo=UTC)

    def arpu(window: Window, at: datetime, enrolled_at: datetime = joined) -> Decimal:
        return history.measure(
            "spend", window, at, enrolled_at=enrolled_at, zone=UTC, per_month=True
        )

    year = Window.calendar_year()
    # January and February count whole: the February bill is not in yet
    assert arpu(year, datetime(2026, 2, 14, tzinfo=UTC)) == 150
    assert arpu(year, datetime(2026, 2, 15, tzinfo=UTC)) == 300  # 600 over two months
    assert arpu(year, datetime(2026, 3, 20, tzinfo=UTC)) == 200  # a third month began
    # a member of long standing: the calendar year's months so far
    old = datetime(2020, 6, 1, tzinfo=UTC)
    assert arpu(year, datetime(2026, 2, 20, tzinfo=UTC), old) == 300
    assert arpu(year, datetime(2026, 12, 31, tzinfo=UTC), old) == 50
    assert arpu(Window.rolling(3), datetime(2026, 2, 20, tzinfo=UTC), old) == 200
    assert arpu(Window.all_time(), datetime(2026, 2, 20, tzinfo=UTC)) == 300
    assert (
        Window.rolling(3).months_billed(
            datetime(2026, 2, 20, tzinfo=UTC), enrolled_at=old, zone=UTC
        )
        == 3
    )


def test_the_crossing_purchase_can_earn_at_the_new_tier() -> None:
    ladder = ERPNEXT.tiers
    assert ladder is not None and ladder.upgrade_applies == "next_event"  # the default
    program = attrs.evolve(ERPNEXT, tiers=attrs.evolve(ladder, upgrade_applies="this_event"))
    loyalty = member(program)
    buy(loyalty, "15000", T0, "o1")  # silver
    # 5000 more crosses gold (20000): the purchase itself is priced at gold, 5 x 2
    explanation = buy(loyalty, "5000", T0 + timedelta(days=1), "o2")
    assert "gold-x2: x2 -> 10" in explanation
    assert "tiers: the upgrade to gold applies to this event (upgrade_applies = this_event)" in (
        explanation
    )
    assert "tier silver -> gold: spend 20000 >= 20000 (rolling 12 months)" in explanation
    assert loyalty.balance("ann").available + loyalty.balance("ann").pending == 15 + 10
    assert loyalty.tier("ann", at=T0 + timedelta(days=1)).effective == "gold"
    # by default (ERPNext's "next event" reading of today's behaviour) it earns at silver
    old = member(ERPNEXT)
    buy(old, "15000", T0, "o1")
    assert "gold-x2: x2" not in buy(old, "5000", T0 + timedelta(days=1), "o2")
    assert old.balance("ann").available == 15 + 5


def test_upgrade_applies_is_a_checked_programme_setting_that_round_trips() -> None:
    with pytest.raises(InvalidArgument, match="upgrade_applies"):
        TierLadder(tiers=(Tier(code="base", rank=0),), upgrade_applies="sometimes")
    ladder = TierLadder(tiers=(Tier(code="base", rank=0),), upgrade_applies="this_event")
    program = Program(tiers=ladder)
    data = program.to_dict()
    assert data["tiers"]["upgrade_applies"] == "this_event"
    assert Program.from_dict(data) == program
    data["tiers"]["upgrade_applies"] = "later"
    with pytest.raises(InvalidArgument, match="upgrade_applies"):
        Program.from_dict(data)
