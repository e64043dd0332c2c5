"""Campaigns: schedules, audiences, effects, stacking, loading, and the engine's trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Customer, Money, Profile
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.campaigns import (
    Bonus,
    Budget,
    DrawEntries,
    MemberLimit,
    Multiply,
    RewardGrant,
    Schedule,
    SpendBonus,
    TierCredits,
    period_key,
)
from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.formats.programs import Program
from loyaltykit.policy.campaigns import Audience, Campaign
from loyaltykit.policy.engine import CampaignAward, CustomerState, PolicyEngine
from loyaltykit.policy.rules import BaseRate, Multiplier

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 1, 1, tzinfo=SHANGHAI)
MEMBER_DAY = Schedule(start=START, recurrence="FREQ=MONTHLY;BYMONTHDAY=8")
ALWAYS = Schedule(start=START)
MAY_8 = datetime(2026, 5, 8, 12, tzinfo=SHANGHAI)


def local(*parts: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


# --- schedules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "active"),
    [
        (local(2026, 5, 8, 0, 0), True),
        (local(2026, 5, 8, 23, 59), True),
        (local(2026, 5, 9, 0, 0), False),
        (local(2026, 5, 7, 23, 59), False),
        (local(2026, 2, 8, 12), True),
        (local(2025, 12, 8, 12), False),  # before the start
    ],
)
def test_member_day_is_the_8th_of_every_month(at: datetime, active: bool) -> None:
    assert (MEMBER_DAY.inactive(at, SHANGHAI) is None) is active


def test_member_day_is_judged_in_the_programs_time_zone() -> None:
    # 2026-05-07 20:00 UTC is already the 8th in Shanghai
    at = datetime(2026, 5, 7, 20, tzinfo=UTC)
    assert MEMBER_DAY.inactive(at, SHANGHAI) is None
    new_york = Schedule(start=local(2026, 1, 1, zone=NEW_YORK), recurrence=MEMBER_DAY.recurrence)
    assert new_york.inactive(at, NEW_YORK) == "not an occurrence of FREQ=MONTHLY;BYMONTHDAY=8"
    assert new_york.inactive(datetime(2026, 5, 9, 3, tzinfo=UTC), NEW_YORK) is None


def test_every_weekend_in_december() -> None:
    weekends = Schedule(start=START, recurrence="FREQ=WEEKLY;BYDAY=SA,SU;BYMONTH=12")
    december = [local(2026, 12, day, 15) for day in range(1, 32)]
    active = [at.day for at in december if weekends.inactive(at, SHANGHAI) is None]
    assert active == [at.day for at in december if at.weekday() >= 5]
    assert len(active) == 8
    assert weekends.inactive(local(2026, 11, 28, 15), SHANGHAI) is not None  # a November Saturday


def test_a_recurrence_keeps_local_wall_time_across_daylight_saving() -> None:
    # New York moves its clocks on 2026-03-08; "the 8th" still starts at local midnight
    schedule = Schedule(
        start=local(2026, 1, 1, zone=NEW_YORK), recurrence="FREQ=MONTHLY;BYMONTHDAY=8"
    )
    assert schedule.inactive(local(2026, 3, 8, 0, 30, zone=NEW_YORK), NEW_YORK) is None
    assert schedule.inactive(local(2026, 3, 8, 23, 30, zone=NEW_YORK), NEW_YORK) is None
    assert schedule.inactive(local(2026, 3, 9, 0, 30, zone=NEW_YORK), NEW_YORK) is not None


def test_a_window_ends_exclusively_and_reports_why() -> None:
    window = Schedule(start=START, end=local(2026, 2, 1))
    assert window.inactive(local(2026, 1, 31, 23, 59), SHANGHAI) is None
    assert window.inactive(local(2026, 2, 1), SHANGHAI) == "ended (2026-02-01T00:00:00+08:00)"
    assert window.inactive(local(2025, 12, 31), SHANGHAI).startswith("not started")  # type: ignore[union-attr]


def test_an_occurrence_can_last_hours() -> None:
    happy_hour = Schedule(
        start=local(2026, 1, 1, 18), recurrence="FREQ=DAILY", duration=relativedelta(hours=2)
    )
    assert happy_hour.inactive(local(2026, 6, 3, 19, 59), SHANGHAI) is None
    assert happy_hour.inactive(local(2026, 6, 3, 20, 0), SHANGHAI) is not None
    assert happy_hour.inactive(local(2026, 6, 3, 17, 59), SHANGHAI) is not None


def test_occurrences_lists_the_days_in_a_window() -> None:
    found = MEMBER_DAY.occurrences(local(2026, 1, 1), local(2026, 4, 1), SHANGHAI)
    assert [at.date().isoformat() for at in found] == ["2026-01-08", "2026-02-08", "2026-03-08"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": datetime(2026, 1, 1)}, "aware"),
        ({"start": START, "end": START}, "not after start"),
        ({"start": START, "recurrence": "FREQ=SOMETIMES"}, "FREQ=SOMETIMES"),
        ({"start": START, "recurrence": "DTSTART:20260101\nRRULE:FREQ=DAILY"}, "DTSTART"),
        ({"start": START, "duration": relativedelta(days=-1)}, "positive"),
    ],
)
def test_bad_schedules_are_refused_naming_the_value(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Schedule(**arguments)  # type: ignore[arg-type]


def test_period_keys() -> None:
    at = local(2026, 5, 8, 12)
    assert [period_key(p, at) for p in ("day", "week", "month", "year", "lifetime")] == [
        "2026-05-08",
        "2026-W19",
        "2026-05",
        "2026",
        "all",
    ]


# --- effects and limits ------------------------------------------------------------


def test_effects_compute_their_extra_points() -> None:
    assert Multiply(factor="2").extra(12, "ROUND_DOWN") == 12
    assert Multiply(factor="1.5").extra(7, "ROUND_DOWN") == 3  # 10.5 -> 10
    assert TierCredits().point_type == "tier" and TierCredits().extra(40, "ROUND_DOWN") == 40
    spend = SpendBonus(threshold=Money.of(300, "CNY"), points=50)
    assert [spend.extra(Money.of(a, "CNY")) for a in ("299.99", "300", "950")] == [0, 50, 50]
    again = SpendBonus(threshold=Money.of(300, "CNY"), points=50, repeat=True)
    assert again.extra(Money.of("950", "CNY")) == 150
    assert again.extra(Money.of("950", "EUR")) == 0 and again.extra(None) == 0
    entries = DrawEntries(per_event=1, per=Money.of(100, "CNY"))
    assert entries.entries(Money.of("250", "CNY")) == 3 and entries.entries(None) == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Multiply(factor="1"), "above 1"),
        (lambda: Bonus(points=0), "positive int"),
        (lambda: DrawEntries(), "give nothing"),
        (lambda: MemberLimit(period="month"), "set times, points or both"),
        (lambda: MemberLimit(times=1, period="fortnight"), "fortnight"),
        (lambda: Budget(), "set points, money or both"),
        (lambda: Budget(points=5, point_cost=Money.of("0.01", "CNY")), "needs a money budget"),
        (
            lambda: Budget(money=Money.of(10, "CNY"), point_cost=Money.of("0.01", "EUR")),
            "differ in currency",
        ),
        (lambda: RewardGrant(reward="bad id!"), "reward"),
    ],
)
def test_bad_effects_are_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()  # type: ignore[operator]


def test_a_budget_in_money_becomes_points() -> None:
    budget = Budget(points=10_000, money=Money.of(50, "CNY"), point_cost=Money.of("0.01", "CNY"))
    assert budget.limit == 5_000
    assert budget.cost(1234) == Money.of("12.34", "CNY")
    assert Budget(points=7).limit == 7 and Budget(points=7).cost(3) is None


# --- audience ------------------------------------------------------------------------


def context(
    tier: str | None = None, tags: frozenset[str] = frozenset(), segment: str | None = None
) -> dict[str, object]:
    customer: dict[str, object] = {"tier": tier, "tags": tags}
    if segment is not None:
        customer["segment"] = segment
    return {"customer": customer, "event": {"amount": Decimal(100)}, "at": local(2026, 5, 8)}


def test_audience_checks_tier_tags_segment_and_condition() -> None:
    audience = Audience(
        tiers={"gold"},
        tags={"family", "vip"},
        segments={"high-value"},
        condition="event.amount >= 100",
    )
    assert audience.refusal(context("gold", frozenset({"vip"}), "high-value")) is None
    assert audience.refusal(context("silver")) == "tier silver not in ['gold']"
    assert audience.refusal(context("gold", frozenset({"sport"}))) == (
        "tags ['sport'] have none of ['family', 'vip']"
    )
    assert audience.refusal(context("gold", frozenset({"vip"}), "potential")) == (
        "segment potential not in ['high-value']"
    )
    poor = context("gold", frozenset({"vip"}), "high-value")
    poor["event"] = {"amount": Decimal(99)}
    assert audience.refusal(poor) == "condition not met: event.amount >= 100"
    assert Audience().refusal(context()) is None
    with pytest.raises(InvalidArgument, match="is a string"):
        Audience(tiers="gold")  # type: ignore[arg-type]


# --- the engine ----------------------------------------------------------------------

BASE = BaseRate(id="base", per=Money.of(10, "CNY"))


def campaign(id: str, *effects: object, **fields: object) -> Campaign:
    arguments: dict[str, object] = {"id": id, "schedule": ALWAYS, "effects": effects, **fields}
    return Campaign(**arguments)  # type: ignore[arg-type]


def evaluate(
    *campaigns: Campaign,
    amount: str = "120",
    tier: str | None = None,
    counters: dict[str, int] | None = None,
    at: datetime = MAY_8,
    rules: tuple[object, ...] = (BASE,),
) -> tuple[int, str, tuple[CampaignAward, ...]]:
    program = Program(timezone="Asia/Shanghai", rules=rules, campaigns=campaigns)  # type: ignore[arg-type]
    customer = Customer(id="c-1", enrolled_at=START, profile=Profile(tags={"vip"}))
    state = CustomerState(customer=customer, tier=tier, counters=counters or {})
    decision = PolicyEngine().evaluate(program, state, Purchase(amount=Money.of(amount, "CNY")), at)
    return decision.points(), decision.explain(), decision.awards


def test_member_day_doubles_and_says_so() -> None:
    points, trace, awards = evaluate(
        campaign("member-day", Multiply(factor="2"), schedule=MEMBER_DAY)
    )
    assert points == 24
    assert "+ member-day: x2 -> 24 (+12 points)" in trace
    assert [a.award.campaign for a in awards] == ["member-day"]
    assert awards[0].earns[0].rules == ("campaign:member-day",)
    points, trace, _ = evaluate(
        campaign("member-day", Multiply(factor="2"), schedule=MEMBER_DAY), at=local(2026, 5, 9, 12)
    )
    assert points == 12
    assert "- member-day: not active: schedule not an occurrence" in trace


def test_audience_refusal_is_in_the_trace() -> None:
    gold_only = campaign("gold-week", Bonus(points=5), audience=Audience(tiers={"gold"}))
    points, trace, _ = evaluate(gold_only, tier="silver")
    assert points == 12
    assert "- gold-week: audience: tier silver not in ['gold']" in trace
    assert evaluate(gold_only, tier="gold")[0] == 17


def test_each_effect_through_the_engine() -> None:
    spend = SpendBonus(threshold=Money.of(100, "CNY"), points=30, repeat=True)
    assert evaluate(campaign("c", spend), amount="250")[0] == 25 + 60
    assert evaluate(campaign("c", Bonus(points=7)))[0] == 19
    _, trace, awards = evaluate(
        campaign("c", RewardGrant(reward="coupon-10"), DrawEntries(per_event=2))
    )
    assert awards[0].award.rewards == (("coupon-10", 1),) and awards[0].award.entries == 2
    assert "reward coupon-10 x1" in trace


def test_double_tier_credits_count_towards_the_tier() -> None:
    rules = (BASE, BaseRate(id="tier-base", point_type="tier", per=Money.of(10, "CNY")))
    program = Program(
        timezone="Asia/Shanghai",
        rules=rules,
        campaigns=(campaign("double-credits", TierCredits()),),
    )
    state = CustomerState(customer=Customer(id="c-1", enrolled_at=START))
    decision = PolicyEngine().evaluate(
        program, state, Purchase(amount=Money.of(120, "CNY")), local(2026, 5, 8)
    )
    assert decision.points("tier") == 24 and decision.points("points") == 12
    samples = {e.metric: e.value for e in decision.effects if hasattr(e, "metric")}
    assert samples["qualifying_points"] == 24


def test_stacking_campaigns_add_their_multipliers_without_compounding() -> None:
    points, trace, _ = evaluate(
        campaign("double", Multiply(factor="2")), campaign("triple", Multiply(factor="3"))
    )
    assert points == 12 * 4
    assert "+ triple: x3 -> 36 (+24 points)" in trace


def test_an_exclusive_campaign_stops_those_after_it_by_priority() -> None:
    points, trace, _ = evaluate(
        campaign("bonus", Bonus(points=5), priority=50),
        campaign("member-day", Multiply(factor="2"), priority=10, stacking="exclusive"),
    )
    assert points == 24
    assert "- bonus: not stacked: member-day is exclusive" in trace
    assert trace.index("member-day") < trace.index("bonus")


def test_an_exclusive_campaign_that_does_not_apply_stops_nothing() -> None:
    points, _, _ = evaluate(
        campaign(
            "vip",
            Multiply(factor="2"),
            priority=1,
            stacking="exclusive",
            audience=Audience(tiers={"gold"}),
        ),
        campaign("bonus", Bonus(points=5)),
    )
    assert points == 17


def test_basis_total_multiplies_after_the_rules_multipliers_and_base_before() -> None:
    rules = (BASE, Multiplier(id="gold-x1.5", factor="1.5"))
    on_total = evaluate(campaign("c", Multiply(factor="2")), rules=rules)[0]
    on_base = evaluate(campaign("c", Multiply(factor="2"), basis="base"), rules=rules)[0]
    assert (on_total, on_base) == (18 + 18, 18 + 12)


def test_member_limits_read_the_members_counters() -> None:
    limited = campaign(
        "md", Bonus(points=50), member_limit=MemberLimit(times=2, points=80, period="month")
    )
    assert evaluate(limited)[0] == 62
    assert evaluate(limited, counters={"campaign:md:points:2026-05": 60})[0] == 12 + 20
    points, trace, _ = evaluate(limited, counters={"campaign:md:times:2026-05": 2})
    assert points == 12 and "- md: member limit: 2 per month used" in trace
    # last month's use does not count in May
    assert evaluate(limited, counters={"campaign:md:times:2026-04": 2})[0] == 62


def test_campaigns_for_other_events_are_not_mentioned() -> None:
    survey = campaign("survey-week", Bonus(points=5), events=("survey",))
    _, trace, awards = evaluate(survey)
    assert "survey-week" not in trace and awards == ()
    program = Program(timezone="Asia/Shanghai", campaigns=(survey,))
    decision = PolicyEngine().evaluate(
        program,
        CustomerState(customer=Customer(id="c-1", enrolled_at=START)),
        CustomEvent(type="survey"),
        local(2026, 5, 8),
    )
    assert decision.points() == 5


def test_a_campaign_with_nothing_to_give_says_so() -> None:
    points, trace, awards = evaluate(campaign("c", Multiply(factor="2")), amount="5")
    assert points == 0 and awards == ()
    assert "- c: gives nothing here (x2 -> 0 (+0 points))" in trace


def test_program_refuses_duplicate_campaigns_and_unknown_point_types() -> None:
    with pytest.raises(InvalidArgument, match=r"ids \['a'\]"):
        Program(campaigns=(campaign("a", Bonus(points=1)), campaign("a", Bonus(points=2))))
    with pytest.raises(InvalidArgument, match=r"point types \['miles'\]"):
        Program(campaigns=(campaign("a", Bonus(points=1, point_type="miles")),))


# --- loading ---------------------------------------------------------------------------

DATA = {
    "name": "jade",
    "timezone": "Asia/Shanghai",
    "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
    "campaigns": [
        {
            "id": "member-day",
            "name": "Member day",
            "objective": "visits on a quiet day",
            "theme": "members first",
            "priority": 10,
            "stacking": "exclusive",
            "schedule": {
                "start": "2026-01-01T00:00:00+08:00",
                "end": "2027-01-01T00:00:00+08:00",
                "recurrence": "FREQ=MONTHLY;BYMONTHDAY=8",
                "duration": {"hours": 12},
            },
            "audience": {"tiers": ["gold"], "tags": ["vip"], "condition": "event.amount >= 10"},
            "effects": [
                {"kind": "multiply", "factor": "2"},
                {"kind": "spend_bonus", "threshold": "300", "points": 50, "repeat": True},
                {"kind": "tier_credits", "factor": "3"},
                {"kind": "reward", "reward": "coupon-10", "quantity": 2},
                {"kind": "draw_entries", "per_event": 1, "per": "100"},
                {"kind": "bonus", "points": 5},
            ],
            "member_limit": {"times": 1, "points": 500, "period": "month"},
            "budget": {"points": 100000, "money": "500", "point_cost": "0.01"},
        }
    ],
    "care": {
        "grace_days": 3,
        "birthday": {"points": 100, "gift": "cake"},
        "inactive": {"days": 90},
        "welcome": {"tiers": ["gold"], "gift": "welcome-pack"},
        "anniversary": {"points": 20},
    },
}


def test_campaigns_and_care_round_trip_through_the_dict_form() -> None:
    program = Program.from_dict(DATA)
    (member_day,) = program.campaigns
    assert member_day.schedule.duration == relativedelta(hours=12)
    assert member_day.budget is not None and member_day.budget.limit == 50_000
    assert program.care is not None and program.care.trigger("inactive").days == 90  # type: ignore[union-attr]
    assert Program.from_dict(program.to_dict()) == program
    assert Program.from_json(__import__("json").dumps(program.to_dict())) == program


def test_campaigns_load_from_toml_with_native_datetimes(tmp_path: object) -> None:
    path = tmp_path / "program.toml"  # type: ignore[operator]
    path.write_text(
        'timezone = "Asia/Shanghai"\n'
        "[[campaigns]]\n"
        'id = "weekend"\n'
        'effects = [{ kind = "multiply", factor = "2" }]\n'
        "[campaigns.schedule]\n"
        "start = 2026-12-01T00:00:00+08:00\n"
        'recurrence = "FREQ=WEEKLY;BYDAY=SA,SU;BYMONTH=12"\n'
    )
    program = Program.from_toml(path)
    assert program.campaigns[0].schedule.start == local(2026, 12, 1)


def test_loading_reports_every_campaign_problem_with_its_path() -> None:
    bad = {
        "campaigns": [
            {
                "id": "x",
                "schedule": {"start": "2026-01-01T00:00:00"},
                "effects": [{"kind": "nope"}, {"kind": "multiply", "factor": "-2"}],
                "budget": {"points": "lots"},
                "colour": "red",
            },
            {"id": "y", "effects": []},
        ],
        "care": {"birthday": {"points": -1}, "holiday": {}},
    }
    with pytest.raises(ProgramError) as raised:
        Program.from_dict(bad)
    problems = "\n".join(raised.value.problems)
    for expected in (
        "campaigns[0].schedule.start: '2026-01-01T00:00:00' has no UTC offset",
        "campaigns[0].effects[0].kind: 'nope' is not one of",
        "campaigns[0].effects[1].factor: '-2' must be a positive number",
        "campaigns[0].budget.points: 'lots' is not an integer",
        "campaigns[0].colour: unknown field",
        "campaigns[1].schedule: is required",
        "care.holiday: care trigger holiday: set holidays",  # a holiday needs its calendar
        "care.birthday: care.points: -1 must be an int of 0 or more",
    ):
        assert expected in problems, problems


def test_a_campaign_with_a_python_condition_cannot_be_dumped() -> None:
    program = Program(
        campaigns=(campaign("c", Bonus(points=1), audience=Audience(condition=lambda c: True)),)
    )
    with pytest.raises(InvalidArgument, match="Python callable"):
        program.to_dict()


def test_end_minus_start_window() -> None:
    window = Schedule(start=START, end=START + timedelta(days=10))
    assert window.window(START + timedelta(days=30)) == (START, START + timedelta(days=10))
    assert ALWAYS.window(START + timedelta(days=3)) == (START, START + timedelta(days=3))


@pytest.mark.parametrize(
    ("events", "message"),
    [("purchase", "is a string"), ((), "at least one"), (("bad type!",), "bad type")],
)
def test_campaign_events_are_event_types(events: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        campaign("c", Bonus(points=1), events=events)
