"""Campaigns through the facade: budgets, member limits, participation, draws, reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.domain.draws import DrawEntry, draw, entries_digest
from loyaltykit.errors import IdempotencyConflict, InvalidArgument, UnknownCampaign

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBER_DAY = datetime(2026, 5, 8, 12, tzinfo=SHANGHAI)


def program(**campaign: object) -> Program:
    member_day = {
        "id": "member-day",
        "schedule": {
            "start": "2026-05-01T00:00:00+08:00",
            "end": "2026-06-01T00:00:00+08:00",
            "recurrence": "FREQ=MONTHLY;BYMONTHDAY=8",
        },
        "effects": [{"kind": "multiply", "factor": "2"}],
        **campaign,
    }
    return Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "campaigns": [member_day],
        }
    )


def loyalty_with(*members: str, **campaign: object) -> Loyalty:
    loyalty = Loyalty(program(**campaign))
    for member in members:
        loyalty.enroll(
            member, at=datetime(2026, 1, 1, tzinfo=SHANGHAI), idempotency_key=f"e-{member}"
        )
    return loyalty


def buy(loyalty: Loyalty, member: str, amount: str, key: str, at: datetime = MEMBER_DAY) -> object:
    return loyalty.record_purchase(
        member, Purchase(amount=Money.of(amount, "CNY")), at=at, idempotency_key=key
    )


def test_the_budget_cuts_the_award_to_what_is_left_and_the_receipt_says_so() -> None:
    loyalty = loyalty_with("a", "b", budget={"points": 20, "money": "1", "point_cost": "0.01"})
    first = buy(loyalty, "a", "120", "p1")
    assert first.balance.available == 24  # type: ignore[attr-defined]
    assert loyalty.campaign_budget("member-day").left == 8
    second = buy(loyalty, "b", "120", "p2")
    assert second.balance.available == 12 + 8  # type: ignore[attr-defined]
    assert "member-day: budget of 20 has 8 left -> cut from 12 to 8" in second.explanation  # type: ignore[attr-defined]
    third = buy(loyalty, "b", "120", "p3")
    assert "member-day: budget of 20 spent -> cut from 12 to 0" in third.explanation  # type: ignore[attr-defined]
    budget = loyalty.campaign_budget("member-day")
    assert (budget.limit, budget.spent, budget.left) == (20, 20, 0)
    assert budget.cost == Money.of("0.20", "CNY")
    assert loyalty.participants("member-day")["b"].points == 8


def test_campaign_points_are_a_lot_of_their_own_named_after_the_campaign() -> None:
    loyalty = loyalty_with("a")
    receipt = buy(loyalty, "a", "120", "p1")
    rules = [dict(entry.metadata)["rules"] for entry in receipt.entries]  # type: ignore[attr-defined]
    assert rules == ["base", "campaign:member-day"]


def test_a_replayed_purchase_takes_nothing_more_from_the_budget() -> None:
    loyalty = loyalty_with("a", budget={"points": 100})
    first = buy(loyalty, "a", "120", "p1")
    again = buy(loyalty, "a", "120", "p1")
    assert again == first and again.replayed  # type: ignore[attr-defined]
    assert loyalty.campaign_budget("member-day").spent == 12


def test_member_limits_hold_across_purchases() -> None:
    loyalty = loyalty_with("a", member_limit={"times": 2, "points": 30, "period": "month"})
    gained = [
        buy(loyalty, "a", "120", f"p{n}").balance.available
        for n in range(4)  # type: ignore[attr-defined]
    ]
    assert gained == [24, 48, 60, 72]  # 12 + 12 extra, then the limit of 2 times
    assert loyalty.participants("member-day")["a"].times == 2
    loyalty2 = loyalty_with("a", member_limit={"points": 30, "period": "month"})
    for n in range(4):
        buy(loyalty2, "a", "120", f"p{n}")
    assert loyalty2.participants("member-day")["a"].points == 30


def test_no_budget_means_no_limit_and_unknown_campaigns_are_named() -> None:
    loyalty = loyalty_with("a")
    buy(loyalty, "a", "120", "p1")
    view = loyalty.campaign_budget("member-day")
    assert (view.limit, view.spent, view.left, view.cost) == (None, 12, None, None)
    with pytest.raises(UnknownCampaign, match=r"'spring'.*member-day"):
        loyalty.campaign_budget("spring")


def test_draw_entries_accumulate_and_the_draw_is_recorded_and_reproducible() -> None:
    loyalty = loyalty_with(
        "a", "b", "c", effects=[{"kind": "draw_entries", "per_event": 1, "per": "100"}]
    )
    buy(loyalty, "a", "50", "p1")
    buy(loyalty, "b", "250", "p2")
    buy(loyalty, "c", "100", "p3")
    buy(loyalty, "c", "10", "p4")
    entries = loyalty.draw_entries("member-day")
    assert entries == (
        DrawEntry(holder="a", weight=1),
        DrawEntry(holder="b", weight=3),
        DrawEntry(holder="c", weight=3),
    )
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    result = loyalty.draw("member-day", winners=2, seed="seed-2026", at=at, idempotency_key="d-1")
    assert result.winners == draw(entries, winners=2, seed="seed-2026")
    assert result.entries_sha256 == entries_digest(entries)
    assert result.reproduce() == result.winners
    assert loyalty.draws("member-day") == (result,)
    replay = loyalty.draw("member-day", winners=2, seed="seed-2026", at=at, idempotency_key="d-1")
    assert replay == result
    with pytest.raises(IdempotencyConflict):
        loyalty.draw("member-day", winners=1, seed="seed-2026", at=at, idempotency_key="d-1")


def test_a_draw_without_a_seed_takes_one_from_the_seed_source_and_records_it() -> None:
    loyalty = loyalty_with("a")
    loyalty.seed_source = lambda: "from-the-edge"
    given = [DrawEntry(holder="x", weight=2), DrawEntry(holder="y")]
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    result = loyalty.draw("member-day", winners=5, entries=given, at=at, idempotency_key="d")
    assert result.seed == "from-the-edge"
    assert sorted(result.winners) == ["x", "y"]  # every entry wins when prizes outnumber them
    with pytest.raises(InvalidArgument, match="winners"):
        loyalty.draw("member-day", winners=0, seed="s", at=at, idempotency_key="d2")


def test_a_tampered_draw_record_does_not_reproduce() -> None:
    loyalty = loyalty_with("a")
    given = [DrawEntry(holder="x"), DrawEntry(holder="y")]
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    result = loyalty.draw(
        "member-day", winners=1, entries=given, seed="s", at=at, idempotency_key="d"
    )
    forged = attrs.evolve(result, entries=(DrawEntry(holder="x", weight=9),))
    with pytest.raises(InvalidArgument, match="do not match their digest"):
        forged.reproduce()


def test_the_campaign_report_compares_participants_before_and_during() -> None:
    loyalty = loyalty_with(
        "a", "b", "c", budget={"points": 1000, "money": "100", "point_cost": "0.01"}
    )
    april = datetime(2026, 4, 20, 12, tzinfo=SHANGHAI)
    buy(loyalty, "a", "100", "a-april", at=april)  # before: a bought once
    buy(loyalty, "b", "100", "b-april-1", at=april)
    buy(loyalty, "b", "100", "b-april-2", at=april + timedelta(days=1))  # b repeated
    buy(loyalty, "a", "100", "a-md-1")  # during: a takes part twice
    buy(loyalty, "a", "100", "a-md-2", at=MEMBER_DAY + timedelta(hours=1))
    buy(loyalty, "c", "100", "c-later", at=MEMBER_DAY + timedelta(days=3))  # not member day
    report = loyalty.campaign_report("member-day", at=datetime(2026, 5, 31, tzinfo=SHANGHAI))
    assert report.participants == 1 and report.points_issued == 20
    assert report.cost == Money.of("0.20", "CNY")
    assert report.during[0] == datetime(2026, 5, 1, tzinfo=SHANGHAI)
    assert report.before == (datetime(2026, 4, 1, tzinfo=SHANGHAI), report.during[0])  # 30 days
    assert (report.participants_during.buyers, report.participants_during.repeaters) == (1, 1)
    assert report.participants_during.rate == 1
    assert (report.participants_before.buyers, report.participants_before.repeaters) == (1, 0)
    assert report.participants_before.rate == 0
    assert (report.others_before.customers, report.others_before.buyers) == (2, 1)
    assert report.others_before.repeaters == 1 and report.others_during.buyers == 1
    assert report.others_during.rate == 0
    with pytest.raises(InvalidArgument, match="before campaign 'member-day' starts"):
        loyalty.campaign_report("member-day", at=datetime(2026, 4, 1, tzinfo=SHANGHAI))


def test_rewards_granted_are_counted_in_the_report() -> None:
    loyalty = loyalty_with("a", effects=[{"kind": "reward", "reward": "coupon-10", "quantity": 2}])
    buy(loyalty, "a", "20", "p1")
    report = loyalty.campaign_report("member-day", at=datetime(2026, 5, 9, tzinfo=SHANGHAI))
    assert report.rewards_granted == (("coupon-10", 2),)
    assert report.points_issued == 0 and report.participants == 1


def test_a_refund_returns_the_clawed_back_campaign_points_to_the_budget() -> None:
    loyalty = loyalty_with("a", "b", budget={"points": 20})
    buy(loyalty, "a", "120", "p1")
    assert loyalty.campaign_budget("member-day").left == 8
    after = MEMBER_DAY + timedelta(hours=2)
    loyalty.refund("a", "p1", amount=Money.of(60, "CNY"), at=after, idempotency_key="r1")
    assert loyalty.campaign_budget("member-day").spent == 6  # half of the 12 came back
    assert loyalty.participants("member-day")["a"].points == 6
    loyalty.refund("a", "p1", at=after, idempotency_key="r2")  # the rest
    assert loyalty.campaign_budget("member-day").spent == 0
    assert loyalty.balance("a").available == 0
    assert buy(loyalty, "b", "200", "p2").balance.available == 40  # type: ignore[attr-defined]


def test_points_already_spent_are_not_returned_to_the_budget() -> None:
    loyalty = loyalty_with("a", budget={"points": 20})
    buy(loyalty, "a", "120", "p1")
    loyalty.redeem_points("a", 24, at=MEMBER_DAY, idempotency_key="spend")
    loyalty.refund("a", "p1", at=MEMBER_DAY + timedelta(hours=1), idempotency_key="r1")
    assert loyalty.campaign_budget("member-day").spent == 12  # the cost was incurred


def test_a_draw_is_a_domain_event_of_the_campaign_when_the_outbox_is_on() -> None:
    loyalty = Loyalty(program(), outbox=True)
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    entries = [DrawEntry(holder="x"), DrawEntry(holder="y")]
    result = loyalty.draw(
        "member-day", winners=1, entries=entries, seed="s", at=at, idempotency_key="d"
    )
    (event,) = loyalty.pending_events()
    assert (event.customer_id, event.type) == ("campaign:member-day", "draw")
    assert event.payload["winners"] == list(result.winners)


def test_a_campaign_dropped_by_a_later_program_version_can_still_be_reported() -> None:
    from loyaltykit import ProgramVersion, ProgramVersions

    later = Program.from_dict(
        {"timezone": "Asia/Shanghai", "rules": [{"id": "base", "kind": "base_rate", "per": "10"}]}
    )
    versions = ProgramVersions(
        (
            ProgramVersion(valid_from=datetime(2026, 1, 1, tzinfo=SHANGHAI), program=program()),
            ProgramVersion(valid_from=datetime(2026, 5, 9, tzinfo=SHANGHAI), program=later),
        )
    )
    loyalty = Loyalty(versions)
    loyalty.enroll("a", at=MEMBER_DAY, idempotency_key="e-a")
    assert buy(loyalty, "a", "120", "p1").balance.available == 24  # type: ignore[attr-defined]
    june = datetime(2026, 6, 8, 12, tzinfo=SHANGHAI)
    assert buy(loyalty, "a", "120", "p2", at=june).balance.available == 36  # type: ignore[attr-defined]
    assert loyalty.campaign_budget("member-day").spent == 12


def test_tier_credits_cut_by_the_budget_do_not_count_towards_the_tier() -> None:
    def tiered(budget: int) -> Loyalty:
        program = Program.from_dict(
            {
                "timezone": "Asia/Shanghai",
                "rules": [
                    {"id": "base", "kind": "base_rate", "per": "10"},
                    {"id": "credits", "kind": "base_rate", "per": "10", "point_type": "tier"},
                ],
                "tiers": {
                    "levels": [
                        {"code": "member", "rank": 0},
                        {
                            "code": "gold",
                            "rank": 1,
                            "requirements": [
                                {
                                    "metric": "qualifying_points",
                                    "at_least": "100",
                                    "window": {"kind": "all_time"},
                                }
                            ],
                        },
                    ]
                },
                "campaigns": [
                    {
                        "id": "double-credits",
                        "schedule": {"start": "2026-05-01T00:00:00+08:00"},
                        "effects": [{"kind": "tier_credits"}],
                        "budget": {"points": budget},
                    }
                ],
            }
        )
        loyalty = Loyalty(program)
        loyalty.enroll("a", at=MEMBER_DAY, idempotency_key="e-a")
        return loyalty

    rich = tiered(budget=1000)
    rich.record_purchase(
        "a", Purchase(amount=Money.of(600, "CNY")), at=MEMBER_DAY, idempotency_key="p"
    )
    assert rich.tier("a", at=MEMBER_DAY).effective == "gold"  # 60 + 60 credits
    poor = tiered(budget=30)
    receipt = poor.record_purchase(
        "a", Purchase(amount=Money.of(600, "CNY")), at=MEMBER_DAY, idempotency_key="p"
    )
    assert poor.balance("a", point_type="tier").available == 90
    assert poor.tier("a", at=MEMBER_DAY).effective == "member"  # 90 < 100
    assert "tier member -> gold" not in receipt.explanation
    assert "budget of 30 has 30 left -> cut from 60 to 30" in receipt.explanation
    poor.record_purchase(
        "a", Purchase(amount=Money.of(100, "CNY")), at=MEMBER_DAY, idempotency_key="q"
    )
    assert poor.tier("a", at=MEMBER_DAY).effective == "gold"  # 90 + 10: the metric is exact


def test_a_second_prize_round_can_leave_out_the_first_rounds_winners() -> None:
    loyalty = loyalty_with("a")
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    given = [DrawEntry(holder=f"m{n}", weight=1 + n % 3) for n in range(10)]
    first = loyalty.draw(
        "member-day", winners=3, entries=given, seed="r1", at=at, idempotency_key="r1"
    )
    second = loyalty.draw(
        "member-day",
        winners=3,
        entries=given,
        seed="r2",
        at=at,
        idempotency_key="r2",
        exclude_previous_winners=True,
    )
    assert not set(first.winners) & set(second.winners)
    assert len(second.entries) == 7 and second.reproduce() == second.winners
    assert [d.draw_id for d in loyalty.draws("member-day")] == ["r1", "r2"]
