"""Notices: milestones once per crossing, tiers reached, reminder runs, the relay (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Loyalty,
    Milestones,
    Money,
    NoticeRules,
    NoticeStatus,
    Program,
    Purchase,
    Requirement,
    Tier,
    TierLadder,
    Window,
)
from loyaltykit.errors import InsufficientPoints, InvalidArgument, InvalidIdentifier
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.base import Storage
from loyaltykit.testing import RecordingSender

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
MILESTONES = NoticeRules(milestones=Milestones(thresholds=[1000, 2000, 5000]))


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _members(program: Program, storage: Storage | None = None, *ids: str) -> Loyalty:
    loyalty = Loyalty(program, storage=storage, outbox=True)
    for member in ids or ("ann",):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
        loyalty.opt_in(member, "push", at=T0, idempotency_key=f"push-{member}")
    return loyalty


def _milestones(loyalty: Loyalty, member: str = "ann") -> list[int]:
    return [
        n.data["threshold"] for n in loyalty.notices(member) if n.template == "balance.milestone"
    ]


def test_a_milestone_fires_once_per_crossing(storage: Storage) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage)
    for n in range(4):  # 400, 800, 1200, 1600: 1000 crossed once
        loyalty.earn("ann", 400, at=T0, idempotency_key=f"o-{n}")
    assert _milestones(loyalty) == [1000]
    loyalty.redeem_points("ann", 700, at=T0, idempotency_key="r-1")  # 900: below again
    loyalty.earn("ann", 50, at=T0, idempotency_key="o-5")  # 950: nothing
    loyalty.earn("ann", 60, at=T0, idempotency_key="o-6")  # 1010: crossed anew
    assert _milestones(loyalty) == [1000, 1000]
    notice = loyalty.notices("ann")[-1]
    assert notice.data == {"threshold": 1000, "balance": 1010, "point_type": "points"}
    assert notice.status is NoticeStatus.PENDING and notice.channel == "push"


def test_one_command_over_several_thresholds_gives_the_highest_or_each(storage: Storage) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage)
    loyalty.earn("ann", 2500, at=T0, idempotency_key="o-1")
    assert _milestones(loyalty) == [2000]
    each = attrs.evolve(MILESTONES, milestones=Milestones(thresholds=[1000, 2000], notify="each"))
    other = _members(Program(notices=each))
    other.earn("ann", 2500, at=T0, idempotency_key="o-1")
    assert _milestones(other) == [1000, 2000]
    other.earn("ann", 2500, at=T0, idempotency_key="o-2")  # 5000: nothing new declared
    assert _milestones(other) == [1000, 2000]


def test_a_replay_and_a_refused_command_give_no_notice(storage: Storage) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage)
    loyalty.earn("ann", 1500, at=T0, idempotency_key="o-1")
    loyalty.earn("ann", 1500, at=T0, idempotency_key="o-1")  # a replay
    with pytest.raises(InsufficientPoints):
        loyalty.redeem_points("ann", 9000, at=T0, idempotency_key="r-1")
    assert _milestones(loyalty) == [1000]


def test_the_receiver_of_a_transfer_is_told_in_the_transfers_unit_of_work(
    storage: Storage,
) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage, "ann", "bob")
    loyalty.earn("ann", 3000, at=T0, idempotency_key="o-1")
    loyalty.earn("bob", 900, at=T0, idempotency_key="o-1")
    loyalty.transfer("ann", "bob", 1200, at=T0, idempotency_key="gift")  # ann 1800, bob 2100
    assert _milestones(loyalty, "bob") == [2000]
    assert _milestones(loyalty, "ann") == [2000]  # 3000 reached 2000; it stays reached
    events = [e for e in loyalty.pending_events(limit=50) if e.type == "notice"]
    assert [(e.customer_id, e.idempotency_key) for e in events][-1] == ("bob", "gift")
    assert events[-1].payload["data"]["threshold"] == 2000


def test_points_that_expire_take_a_member_below_a_milestone(storage: Storage) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage)
    loyalty.earn("ann", 1000, at=T0, idempotency_key="o-1", expires_at=T0 + timedelta(days=5))
    loyalty.earn("ann", 200, at=T0, idempotency_key="o-2")
    loyalty.expire_due(at=T0 + timedelta(days=6))  # 200 left
    loyalty.earn("ann", 900, at=T0 + timedelta(days=7), idempotency_key="o-3")
    assert _milestones(loyalty) == [1000, 1000]


def test_what_a_member_holds_when_milestones_start_is_no_news(storage: Storage) -> None:
    loyalty = _members(Program(), storage)
    loyalty.earn("ann", 1500, at=T0, idempotency_key="o-1")
    later = Loyalty(Program(notices=MILESTONES), storage=storage)
    later.earn("ann", 100, at=T0, idempotency_key="o-2")
    assert _milestones(later) == []
    later.earn("ann", 500, at=T0, idempotency_key="o-3")
    assert _milestones(later) == [2000]


LADDER = TierLadder(
    tiers=(
        Tier(code="silver", rank=0),
        Tier(
            code="gold",
            rank=1,
            requirements=(Requirement(metric="spend", at_least="1000", window=Window.rolling(6)),),
        ),
    ),
    status_length=relativedelta(months=12),
)
TIERED = Program(
    rules=(BaseRate(id="base", per=Money.of("10", "CNY")),),
    tiers=LADDER,
    notices=NoticeRules(tier_reached=True, channels={"tier.reached": "sms"}),
)


def test_a_member_reaching_a_tier_is_told_once(storage: Storage) -> None:
    loyalty = _members(TIERED, storage)
    for n in range(3):
        purchase = Purchase(amount=Money.of("600", "CNY"))
        loyalty.record_purchase("ann", purchase, at=T0, idempotency_key=f"p-{n}")
    (notice,) = loyalty.notices("ann")
    assert (notice.template, notice.channel) == ("tier.reached", "sms")
    assert notice.data == {"tier": "gold", "from_tier": "silver"}


def test_the_reminder_runs_list_members_and_record_one_notice_each_per_key(
    storage: Storage,
) -> None:
    loyalty = _members(TIERED, storage, "ann", "bob", "cy")
    soon, late = T0 + timedelta(days=20), T0 + timedelta(days=60)
    loyalty.earn("ann", 300, at=T0, idempotency_key="o-1", expires_at=soon)
    loyalty.earn("ann", 50, at=T0, idempotency_key="o-2", expires_at=soon)
    loyalty.earn("bob", 80, at=T0, idempotency_key="o-1", expires_at=late)
    loyalty.earn("cy", 70, at=T0, idempotency_key="o-1", expires_at=soon)
    loyalty.close_account("cy", at=T0, idempotency_key="close")
    run = loyalty.remind_expiring_points(at=T0, idempotency_key="2026-03")
    assert [(line.customer_id, line.points) for line in run.lines] == [("ann", 350)]
    assert run.recorded == 1 and run.until == T0 + timedelta(days=30)
    again = loyalty.remind_expiring_points(at=T0 + timedelta(hours=1), idempotency_key="2026-03")
    assert again.recorded == 0 and [line.notice for line in again.lines] == [run.lines[0].notice]
    (notice,) = loyalty.notices("ann")
    assert notice.data == {"points": 350, "point_type": "points", "until": run.until.isoformat()}
    later = loyalty.remind_expiring_points(
        at=T0 + timedelta(days=35), idempotency_key="2026-04", within=timedelta(days=30)
    )
    assert [line.customer_id for line in later.lines] == ["bob"]
    with pytest.raises(InvalidArgument, match="within"):
        loyalty.remind_expiring_points(at=T0, idempotency_key="k", within=timedelta(0))
    with pytest.raises(InvalidIdentifier):
        loyalty.remind_expiring_points(at=T0, idempotency_key="")


def test_a_tier_about_to_be_lost_is_listed_with_what_keeps_it(storage: Storage) -> None:
    loyalty = _members(TIERED, storage, "ann", "bob")
    purchase = Purchase(amount=Money.of("1200", "CNY"))
    loyalty.record_purchase("ann", purchase, at=T0, idempotency_key="p-1")
    assert loyalty.tier("ann", at=T0).effective == "gold"
    end = loyalty.tier("ann", at=T0).status.valid_until
    assert end is not None
    early = loyalty.remind_tiers_at_risk(at=end - timedelta(days=60), idempotency_key="k-1")
    assert early.lines == ()  # not within 30 days of the end yet
    run = loyalty.remind_tiers_at_risk(at=end - timedelta(days=10), idempotency_key="k-2")
    assert [(line.customer_id, line.tier, line.until) for line in run.lines] == [
        ("ann", "gold", end)
    ]
    notice = next(n for n in loyalty.notices("ann") if n.template == "tier.at_risk")
    assert notice.data["to_keep"] == {"spend": "1000"}  # the year's spend rolled out


def test_the_relay_hands_pending_notices_to_the_sender_and_keeps_failures_pending(
    storage: Storage,
) -> None:
    loyalty = _members(Program(notices=MILESTONES), storage, "ann", "bob")
    loyalty.earn("ann", 1000, at=T0, idempotency_key="o-1")
    loyalty.earn("bob", 2000, at=T0, idempotency_key="o-1")
    loyalty.earn("ann", 4000, at=T0 + timedelta(hours=1), idempotency_key="o-2")
    failing = RecordingSender(fail_on=frozenset({"balance.milestone"}))
    with pytest.raises(ConnectionError):
        loyalty.deliver_notices(failing, at=T0 + timedelta(days=1))
    sender = RecordingSender()
    report = loyalty.deliver_notices(sender, at=T0, limit=10)  # only those due by T0
    assert (report.delivered, report.withheld) == (2, 0)
    assert [(n.customer_id, n.data["threshold"]) for n in sender.sent] == [
        ("ann", 1000),
        ("bob", 2000),
    ]
    loyalty.deliver_notices(sender, at=T0 + timedelta(days=1))
    assert sender.templates() == ["balance.milestone"] * 3
    assert loyalty.deliver_notices(sender, at=T0 + timedelta(days=2)).delivered == 0
    delivered = loyalty.notices("ann", status=NoticeStatus.DELIVERED)
    assert [n.settled_at for n in delivered] == [T0, T0 + timedelta(days=1)]


def test_notice_rules_are_checked_when_the_programme_is_built() -> None:
    with pytest.raises(InvalidArgument, match="thresholds"):
        Milestones(thresholds=[1000, 1000])
    with pytest.raises(InvalidArgument, match="thresholds"):
        Milestones(thresholds=[0])
    with pytest.raises(InvalidArgument, match="notify"):
        Milestones(thresholds=[10], notify="all")
    with pytest.raises(InvalidArgument, match="point_type"):
        Program(notices=NoticeRules(milestones=Milestones(thresholds=[10], point_type="miles")))
    with pytest.raises(InvalidArgument, match="no tiers"):
        Program(notices=NoticeRules(tier_reached=True))
    with pytest.raises(InvalidIdentifier):
        NoticeRules(channel="two words")


def test_the_member_life_tables_load_from_toml_and_round_trip() -> None:
    import tomllib

    import tomli_w

    text = """
[notices]
channel = "sms"
tier_reached = true
channels = { "points.expiring" = "mail" }
milestones = { thresholds = [5000, 1000], notify = "each" }
content = { advertising = ["sale"], greetings = ["birthday"] }

[velocity]
rules = [{ id = "transfers", commands = "transfer", per = "hour", at_most = 5 }]

[approvals]
adjust_above = 5000

[rating_exclusions]
tags = ["staff"]
id_prefixes = ["test-"]

[[tiers.levels]]
code = "member"
rank = 0
"""
    program = Program.from_dict(tomllib.loads(text))
    assert program.notices.milestones == Milestones(thresholds=[1000, 5000], notify="each")
    assert program.notices.channel_of("points.expiring") == "mail"
    assert program.notices.content.advertising == ("sale",)
    assert program.velocity.rules[0].at_most == 5
    assert program.approvals.adjust_above == 5000
    assert program.rating_exclusions.id_prefixes == ("test-",)
    assert Program.from_dict(tomllib.loads(tomli_w.dumps(program.to_dict()))) == program


def test_member_life_tables_report_every_problem_with_its_path() -> None:
    from loyaltykit.errors import ProgramError

    with pytest.raises(ProgramError) as error:
        Program.from_dict(
            {
                "notices": {"milestones": {"thresholds": [0]}, "colour": "red"},
                "velocity": {"rules": [{"id": "v", "commands": "login", "per": "hour",
                                        "at_most": 1}]},
                "approvals": {"adjust_above": "lots"},
            }
        )  # fmt: skip
    problems = "\n".join(error.value.problems)
    assert "notices.colour" in problems and "notices.milestones" in problems
    assert "velocity.rules[0]" in problems and "approvals.adjust_above" in problems
