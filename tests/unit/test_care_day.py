"""The manager's day (issue 17): holiday greetings on a holiday calendar, churn warnings
as care tasks, assignment by tier and region, call outcomes read back, follow-up offers as
the fourth step, and quality control's monthly sample of completed calls."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, Money, Profile, Program, Purchase
from loyaltykit.domain.care import (
    CareAssignment,
    CareConfig,
    CareRoute,
    CareTrigger,
    Holiday,
    due_care,
)
from loyaltykit.domain.care_quality import check_call, draw_sample
from loyaltykit.domain.customer import Customer
from loyaltykit.errors import CareSampleDrawn, InvalidArgument, NotFound, ProgramError
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENROLLED = datetime(2025, 1, 5, 10, tzinfo=SHANGHAI)
SPRING = Holiday(
    id="spring-festival", name="Spring Festival", dates={date(2026, 2, 17), date(2027, 2, 6)}
)
NEW_YEAR = Holiday(id="new-year", name="New Year", every_year="01-01")


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    from tests.databases import storage_factory

    path = tmp_path_factory.mktemp("care") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")()


def ids(config: CareConfig, at: datetime, **facts: object) -> list[str]:
    member = Customer(id="m-1", enrolled_at=ENROLLED)
    found = due_care(config, member, at=at, zone=SHANGHAI, last_purchase=at, **facts)  # type: ignore[arg-type]
    return [action.id for action in found]


# --- the pure rules ---------------------------------------------------------------


def test_holiday_greetings_fall_due_on_their_day_for_the_grace_days() -> None:
    config = CareConfig(
        triggers=(CareTrigger(kind="holiday", holidays=(SPRING, NEW_YEAR)),), grace_days=3
    )
    assert ids(config, datetime(2026, 2, 16, 23, tzinfo=SHANGHAI)) == []
    assert ids(config, datetime(2026, 2, 17, 8, tzinfo=SHANGHAI)) == [
        "holiday:spring-festival:2026"
    ]
    assert ids(config, datetime(2026, 2, 20, 8, tzinfo=SHANGHAI)) == [
        "holiday:spring-festival:2026"
    ]
    assert ids(config, datetime(2026, 2, 21, 8, tzinfo=SHANGHAI)) == []
    # a yearly day, and the late run just after New Year's Eve reaches back a year
    assert ids(config, datetime(2027, 1, 2, tzinfo=SHANGHAI)) == ["holiday:new-year:2027"]
    assert ids(config, datetime(2026, 1, 1, tzinfo=SHANGHAI)) == ["holiday:new-year:2026"]


def test_a_greeting_names_the_holiday_and_is_a_routine_follow_up() -> None:
    config = CareConfig(
        triggers=(
            CareTrigger(kind="holiday", holidays=(NEW_YEAR,), points=8),
            CareTrigger(kind="churn", drop=Decimal("0.5")),
        )
    )
    member = Customer(id="m-1", enrolled_at=ENROLLED)
    at = datetime(2026, 1, 1, 9, tzinfo=SHANGHAI)
    found = due_care(config, member, at=at, zone=SHANGHAI, spending_drop=Decimal("0.62"))
    assert [(a.kind, a.id, a.detail, a.points) for a in found] == [
        ("churn", "churn:2026-01", "spending fell 62% (2026-01)", 0),  # step 2 before step 3
        ("holiday", "holiday:new-year:2026", "New Year 2026", 8),
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CareTrigger(kind="holiday"), "set holidays"),
        (lambda: CareTrigger(kind="churn"), "set drop"),
        (lambda: CareTrigger(kind="churn", drop=Decimal("1.5")), "1.5"),
        (lambda: Holiday(id="x", name="X"), "every_year"),
        (lambda: Holiday(id="x", name="X", every_year="13-01"), "13-01"),
        (lambda: Holiday(id="x", name=" "), "name"),
        (lambda: CareTrigger(kind="holiday", holidays=(NEW_YEAR, NEW_YEAR)), "more than once"),
        (lambda: CareAssignment(associates={"pudong": ""}), "associate"),
    ],
)
def test_bad_holiday_churn_or_assignment_settings_are_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()  # type: ignore[operator]


def test_a_holiday_table_in_a_programme_loads_and_round_trips() -> None:
    program = Program.from_dict(PROGRAM)
    care = program.care
    assert care is not None
    holiday = care.trigger("holiday")
    assert holiday is not None and {h.id for h in holiday.holidays} == {
        "spring-festival",
        "new-year",
    }
    assert care.assignment.routes[0] == CareRoute(team="call-centre", tiers={"diamond"})
    again = Program.from_dict(program.to_dict())
    assert again.care == care


def test_a_bad_holiday_table_names_where_it_is_wrong() -> None:
    broken = {
        **PROGRAM,
        "care": {"holiday": {"calendar": [{"id": "x", "name": "X", "dates": ["2026-02-30"]}]}},
    }
    with pytest.raises(ProgramError, match=r"care\.holiday\.calendar\[0\]\.dates\[0\]"):
        Program.from_dict(broken)


# --- through the facade, on memory and SQLite --------------------------------------

PROGRAM: dict[str, object] = {
    "timezone": "Asia/Shanghai",
    "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
    "tiers": {
        "levels": [
            {"code": "member", "rank": 0},
            {"code": "gold", "rank": 1, "requirements": [{"metric": "spend", "at_least": "2000"}]},
            {
                "code": "diamond",
                "rank": 2,
                "requirements": [{"metric": "spend", "at_least": "10000"}],
            },
        ]
    },
    "care": {
        "grace_days": 3,
        "holiday": {
            "calendar": [
                {"id": "spring-festival", "name": "Spring Festival", "dates": ["2026-02-17"]},
                {"id": "new-year", "name": "New Year", "every_year": "01-01"},
            ]
        },
        "churn": {"drop": "0.5", "recent_months": 2, "baseline_months": 6},
        "assignment": {
            "default_team": "stores",
            "routes": [
                {"team": "call-centre", "tiers": ["diamond"]},
                {"team": "call-centre", "tiers": ["gold"], "regions": ["shanghai"]},
            ],
            "associates": {"pudong": "wang-li"},
        },
    },
}


def service(storage: Storage, *, rated: bool = True) -> Loyalty:
    loyalty = Loyalty(Program.from_dict(PROGRAM), storage=storage)
    members = {
        "dia": {"region": "hangzhou"},
        "gold-city": {"region": "shanghai"},
        "near": {"region": "pudong"},
        "own": {"region": "pudong", "associate": "li-na"},
        "far": {"region": "lhasa"},
    }
    for name, attributes in members.items():
        loyalty.enroll(
            name, at=ENROLLED, idempotency_key=f"e-{name}", profile=Profile(attributes=attributes)
        )
    buy = {"dia": 12000, "gold-city": 2500} if rated else {}
    for name, amount in buy.items():  # rated within the year before the runs
        loyalty.record_purchase(
            name,
            Purchase(amount=Money.of(amount, "CNY")),
            at=datetime(2025, 12, 1, tzinfo=SHANGHAI),
            idempotency_key=f"buy-{name}",
        )
    return loyalty


def test_a_holiday_run_greets_everyone_once_assigned_by_tier_region_and_associate(
    storage: Storage,
) -> None:
    loyalty = service(storage)
    at = datetime(2026, 2, 17, 7, tzinfo=SHANGHAI)
    greetings = [a for a in loyalty.run_due(at=at).care if a.kind == "holiday"]
    assert {(a.customer_id, a.team, a.assignee) for a in greetings} == {
        ("dia", "call-centre", None),  # diamond: the call centre
        ("gold-city", "call-centre", None),  # a city VIP
        ("near", "stores", "wang-li"),  # the associate of their region
        ("own", "stores", "li-na"),  # their own associate is closest
        ("far", "stores", None),  # no associate: the stores' queue
    }
    assert {a.id for a in greetings} == {"holiday:spring-festival:2026"}
    assert loyalty.run_due(at=at + timedelta(hours=3)).care == ()


def test_a_spending_drop_becomes_a_care_task_by_itself_once_a_month(storage: Storage) -> None:
    loyalty = service(storage, rated=False)
    for month in range(3, 9):  # steady spending from March to August 2025
        loyalty.record_purchase(
            "far",
            Purchase(amount=Money.of(300, "CNY")),
            at=datetime(2025, month, 15, tzinfo=SHANGHAI),
            idempotency_key=f"far-{month}",
        )
    loyalty.record_purchase(
        "near",
        Purchase(amount=Money.of(300, "CNY")),
        at=datetime(2025, 10, 1, tzinfo=SHANGHAI),
        idempotency_key="near-once",
    )
    october = datetime(2025, 10, 20, tzinfo=SHANGHAI)
    churn = [a for a in loyalty.run_due(at=october).care if a.kind == "churn"]
    assert [(a.customer_id, a.id) for a in churn] == [("far", "churn:2025-10")]
    assert [a.kind for a in loyalty.run_due(at=october + timedelta(days=5)).care] == []
    november = [a.id for a in loyalty.run_due(at=datetime(2025, 11, 3, tzinfo=SHANGHAI)).care]
    assert "churn:2025-11" in november


def test_a_calls_outcome_and_note_are_read_back_and_an_offer_is_the_fourth_step(
    storage: Storage,
) -> None:
    loyalty = service(storage)
    at = datetime(2026, 2, 17, 9, tzinfo=SHANGHAI)
    loyalty.run_due(at=at)
    call = loyalty.record_care_call(
        "near",
        "holiday:spring-festival:2026",
        outcome="reached",
        note="asked about the spring menu",
        offer="tea-voucher",
        at=at,
        idempotency_key="call-near",
    )
    assert (call.outcome, call.note, call.done_at) == ("reached", "asked about the spring menu", at)
    assert loyalty.care_action("near", "holiday:spring-festival:2026") == call
    worklist = loyalty.care_actions(at=at)
    offer = worklist[-1]  # follow-up offers come last in the manager's day
    assert (offer.kind, offer.id, offer.gift, offer.follows, offer.assignee) == (
        "offer",
        "offer:holiday:spring-festival:2026",
        "tea-voucher",
        "holiday:spring-festival:2026",
        "wang-li",
    )
    assert all(a.id != "holiday:spring-festival:2026" or a.customer_id != "near" for a in worklist)
    assert [a.id for a in loyalty.care_history("near")] == [
        "holiday:spring-festival:2026",
        "offer:holiday:spring-festival:2026",
    ]
    with pytest.raises(InvalidArgument, match="outcome"):
        loyalty.record_care_call("near", "x", outcome="great", at=at, idempotency_key="k")
    with pytest.raises(NotFound):
        loyalty.care_action("near", "birthday:1999")


def test_quality_control_samples_the_months_completed_calls_and_sums_them_up(
    storage: Storage,
) -> None:
    loyalty = service(storage)
    at = datetime(2026, 2, 17, 9, tzinfo=SHANGHAI)
    loyalty.run_due(at=at)
    for name in ("dia", "gold-city", "near", "own"):
        loyalty.record_care_call(
            name,
            "holiday:spring-festival:2026",
            outcome="reached",
            at=at,
            idempotency_key=f"call-{name}",
        )
    sample = loyalty.sample_care_calls(
        "2026-02", size=3, seed="qc-feb", at=at + timedelta(days=12), idempotency_key="qc-feb"
    )
    assert (sample.population, sample.sampled, sample.checked, sample.result) == (
        4,
        3,
        0,
        "pending",
    )
    # the same seed draws the same calls
    expected = draw_sample(
        "2026-02",
        [
            loyalty.care_action(n, "holiday:spring-festival:2026")
            for n in ("own", "near", "dia", "gold-city")
        ],
        size=3,
        seed="qc-feb",
    )
    assert sample == expected
    with pytest.raises(CareSampleDrawn):
        loyalty.sample_care_calls("2026-02", size=3, seed="x", at=at, idempotency_key="qc-again")
    first, second, third = sample.calls
    for call, passed in ((first, True), (second, False), (third, True)):
        summary = loyalty.check_care_call(
            "2026-02",
            call.customer_id,
            call.action_id,
            passed=passed,
            note="script followed" if passed else "greeting carried an advert",
            at=at + timedelta(days=13),
            idempotency_key=f"check-{call.customer_id}",
        )
    assert (summary.checked, summary.passed, summary.failed, summary.result) == (3, 2, 1, "failed")
    assert loyalty.care_sample("2026-02") == summary
    checked = loyalty.care_action(second.customer_id, second.action_id)
    assert (checked.checked, checked.check_note) == (False, "greeting carried an advert")
    outside = [
        c
        for c in ("dia", "gold-city", "near", "own")
        if c not in {x.customer_id for x in sample.calls}
    ]
    with pytest.raises(NotFound, match="not in the 2026-02 sample"):
        loyalty.check_care_call(
            "2026-02",
            outside[0],
            "holiday:spring-festival:2026",
            passed=True,
            at=at,
            idempotency_key="check-outside",
        )
    with pytest.raises(NotFound, match="2026-03"):
        loyalty.care_sample("2026-03")


def test_a_sample_is_drawn_from_the_months_calls_only() -> None:
    def done(n: int, day: int) -> object:
        from loyaltykit.domain.care import CareAction

        return CareAction(
            customer_id=f"m-{n}",
            kind="holiday",
            id="holiday:x:2026",
            due_at=datetime(2026, 2, 1, tzinfo=SHANGHAI),
            done_at=datetime(2026, 2, day, tzinfo=SHANGHAI),
        )

    sample = draw_sample("2026-02", [done(n, 3) for n in range(5)], size=10, seed="s")  # type: ignore[misc]
    assert sample.sampled == 5  # fewer calls than the size: all of them
    with pytest.raises(InvalidArgument):
        draw_sample("2026-02", [], size=0, seed="s")
    with pytest.raises(NotFound):
        check_call(sample, "m-9", "holiday:x:2026", passed=True)


def test_a_calls_outbox_event_carries_neither_the_birthday_nor_the_notes() -> None:
    program = Program.from_dict({"timezone": "Asia/Shanghai", "care": {"birthday": {"points": 10}}})
    loyalty = Loyalty(program, outbox=True)
    loyalty.enroll(
        "ann", at=ENROLLED, idempotency_key="e", profile=Profile(birthday=date(1990, 6, 1))
    )
    at = datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)
    loyalty.run_due(at=at)
    at += timedelta(days=2)  # called two days later: the call's instant is no birthday
    loyalty.complete_care("ann", "birthday:2026", at=at, idempotency_key="c1", note="Li Wei")
    loyalty.record_care_call(
        "ann", "birthday:2026", outcome="reached", note="call 138 0000", at=at, idempotency_key="c2"
    )
    events = [
        e for e in loyalty.pending_events() if e.type in {"complete_care", "record_care_call"}
    ]
    assert [e.payload["outcome"] for e in events] == ["done", "reached"]
    text = repr([dict(e.payload) for e in events])
    assert all("due_at" not in e.payload for e in events)  # midnight of the birthday
    for secret in ("06-01", "05-31T16", "Li Wei", "138 0000"):
        assert secret not in text
