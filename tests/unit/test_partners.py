"""Coalition partners: points they award, rewards they supply, settlement and goals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    GoalMetric,
    Loyalty,
    Money,
    Partner,
    PartnerGoal,
    PointType,
    Program,
    ProgramVersion,
    ProgramVersions,
    Purchase,
    Reward,
    RewardCatalog,
)
from loyaltykit.errors import (
    AccountNotActive,
    IdempotencyConflict,
    InvalidAmount,
    InvalidArgument,
    InvalidIdentifier,
    ProgramError,
    UnknownGoal,
    UnknownPartner,
    VelocityExceeded,
)
from loyaltykit.formats.json import from_json_dict, json_schema, to_json_dict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
JAN, FEB, MAR = T0, T0 + relativedelta(months=1), T0 + relativedelta(months=2)
APR = T0 + relativedelta(months=3)
CINEMA = Partner(
    id="cinema",
    name="Starlight Cinema",
    currency="CNY",
    point_price=Money.of("0.02", "CNY"),
    goals=(
        PartnerGoal(id="q1-issued", metric="points_issued", target=1000, start=JAN, end=APR),
        PartnerGoal(id="q1-members", metric="members_acquired", target=3, start=JAN, end=APR),
        PartnerGoal(id="feb-tickets", metric="redemptions", target=2, start=FEB, end=MAR),
    ),
)
SUPPLIER = Partner(id="bakery", currency="CNY")  # supplies rewards, awards no points
PROGRAM = Program(
    point_types=(
        PointType(code="points", expire_after=relativedelta(months=2)),
        PointType(code="tier", redeemable=False, transferable=False),
    ),
    partners=(CINEMA, SUPPLIER),
    catalog=RewardCatalog.of(
        Reward(id="ticket", kind="ticket", price=500, partner="cinema", cost=Money.of("30", "CNY")),
        Reward(id="cake", kind="gift", price=200, partner="bakery", cost=Money.of("12.5", "CNY")),
        Reward(id="mug", kind="gift", price=100),
    ),
)


@pytest.fixture(params=["memory", "sqlite"])
def loyalty(request: pytest.FixtureRequest, tmp_path: Path) -> Loyalty:
    storage = None if request.param == "memory" else f"sqlite:///{tmp_path}/partners.db"
    loyalty = Loyalty(PROGRAM, storage=storage)
    for member in ("c-1", "c-2", "c-3"):
        loyalty.enroll(member, at=T0, idempotency_key=f"enroll-{member}")
    return loyalty


@pytest.fixture(params=["postgres", "mariadb"])
def server(request: pytest.FixtureRequest) -> Iterator[Loyalty]:
    """PostgreSQL or MariaDB, when their test URLs are set (skipped otherwise)."""
    from tests.databases import storage_factory

    url: str = request.getfixturevalue(f"{request.param}_url")
    storage = storage_factory(url)()
    loyalty = Loyalty(PROGRAM, storage=storage)
    for member in ("c-1", "c-2", "c-3"):
        loyalty.enroll(member, at=T0, idempotency_key=f"enroll-{member}")
    yield loyalty
    storage.close()
    storage.engine.dispose()


@pytest.mark.parametrize("scenario", ["refund", "redemptions", "goals", "expiry"])
def test_settlements_and_goals_on_the_database_servers(server: Loyalty, scenario: str) -> None:
    {
        "refund": test_a_refund_counts_in_its_own_period_and_closed_periods_do_not_change,
        "redemptions": test_a_redeemed_partner_reward_is_owed_to_it_until_cancelled,
        "goals": test_goal_progress_at_any_instant_and_the_evaluation_at_period_end,
        "expiry": test_expired_partner_points_are_counted_but_cost_nothing_more,
    }[scenario](server)


def quarter(loyalty: Loyalty, partner: str = "cinema") -> object:
    return loyalty.partner_settlement(partner, start=JAN, end=APR)


def test_an_award_is_owed_by_the_partner_at_its_price(loyalty: Loyalty) -> None:
    receipt = loyalty.award_partner_points(
        "cinema", "c-1", 1500, at=JAN + timedelta(days=3), idempotency_key="film-1"
    )
    assert receipt.balance.available == 1500
    metadata = dict(receipt.entries[0].metadata)
    assert metadata["partner"] == "cinema" and metadata["point_price"] == "0.02"
    settlement = loyalty.partner_settlement("cinema", start=JAN, end=APR)
    assert settlement.points_issued == 1500
    assert settlement.members_acquired == 1
    assert settlement.owed_by_partner == Money.of("30.00", "CNY")
    assert settlement.owed_to_partner == Money.of("0.00", "CNY")
    assert settlement.net == Money.of("30.00", "CNY")
    # a movement outside the period is not in it
    assert loyalty.partner_settlement("cinema", start=FEB, end=APR).points_issued == 0


def test_an_award_is_idempotent_and_its_key_names_what_differs(loyalty: Loyalty) -> None:
    at = JAN + timedelta(days=1)
    first = loyalty.award_partner_points("cinema", "c-1", 100, at=at, idempotency_key="k")
    again = loyalty.award_partner_points("cinema", "c-1", 100, at=at, idempotency_key="k")
    assert again.replayed and again.entries == first.entries
    with pytest.raises(IdempotencyConflict, match="points"):
        loyalty.award_partner_points("cinema", "c-1", 200, at=at, idempotency_key="k")
    with pytest.raises(IdempotencyConflict, match="partner_id"):
        loyalty.award_partner_points("bakery", "c-1", 100, at=at, idempotency_key="k")
    assert loyalty.partner_settlement("cinema", start=JAN, end=APR).points_issued == 100


def test_bad_awards_are_refused_by_name_and_change_nothing(loyalty: Loyalty) -> None:
    at = JAN + timedelta(days=1)
    with pytest.raises(UnknownPartner, match="'gym'"):
        loyalty.award_partner_points("gym", "c-1", 100, at=at, idempotency_key="a")
    with pytest.raises(InvalidArgument, match="awards no points"):
        loyalty.award_partner_points("bakery", "c-1", 100, at=at, idempotency_key="b")
    with pytest.raises(InvalidIdentifier, match="partner_id"):
        loyalty.award_partner_points("x" * 65, "c-1", 100, at=at, idempotency_key="c")
    with pytest.raises(InvalidAmount):
        loyalty.award_partner_points("cinema", "c-1", 0, at=at, idempotency_key="d")
    loyalty.close_account("c-2", at=at, idempotency_key="close")
    with pytest.raises(AccountNotActive):
        loyalty.award_partner_points("cinema", "c-2", 100, at=at, idempotency_key="e")
    assert loyalty.balance("c-1", at=at).available == 0
    assert loyalty.partner_settlement("cinema", start=JAN, end=APR).members_acquired == 0
    with pytest.raises(UnknownPartner):
        loyalty.partner_settlement("gym", start=JAN, end=APR)
    with pytest.raises(InvalidArgument, match="not after start"):
        loyalty.partner_settlement("cinema", start=APR, end=JAN)


def test_a_refund_counts_in_its_own_period_and_closed_periods_do_not_change(
    loyalty: Loyalty,
) -> None:
    loyalty.award_partner_points(
        "cinema", "c-1", 1000, at=JAN + timedelta(days=5), idempotency_key="a"
    )
    january = loyalty.partner_settlement("cinema", start=JAN, end=FEB)
    loyalty.reverse("c-1", "a", at=FEB + timedelta(days=1), idempotency_key="r1", portion="1/2")
    loyalty.reverse("c-1", "a", at=FEB + timedelta(days=2), idempotency_key="r2", portion="1/3")
    assert loyalty.partner_settlement("cinema", start=JAN, end=FEB) == january
    february = loyalty.partner_settlement("cinema", start=FEB, end=MAR)
    assert february.points_issued == 0
    assert february.points_reversed == 500 + 333  # cumulative rounding down: 1/2, then 5/6
    assert february.owed_by_partner == Money.of("-16.66", "CNY")
    whole = quarter(loyalty)
    assert whole == loyalty.partner_settlement("cinema", start=JAN, end=APR)  # a rerun
    assert whole.points_issued - whole.points_reversed == 167  # type: ignore[attr-defined]


def test_expired_partner_points_are_counted_but_cost_nothing_more(loyalty: Loyalty) -> None:
    loyalty.award_partner_points(
        "cinema", "c-1", 300, at=JAN + timedelta(days=1), idempotency_key="a"
    )
    loyalty.earn("c-1", 50, at=JAN + timedelta(days=1), idempotency_key="own")  # not the partner's
    loyalty.redeem_points("c-1", 100, at=JAN + timedelta(days=2), idempotency_key="spend")
    loyalty.expire_due(at=MAR + timedelta(days=5))
    march = loyalty.partner_settlement("cinema", start=MAR, end=APR)
    assert march.points_expired == 200  # the partner's lot expired first... what was left
    assert march.owed_by_partner == Money.of("0.00", "CNY")
    assert quarter(loyalty).owed_by_partner == Money.of("6.00", "CNY")  # type: ignore[attr-defined]


def test_a_redeemed_partner_reward_is_owed_to_it_until_cancelled(
    loyalty: Loyalty,
) -> None:
    loyalty.earn("c-1", 2000, at=JAN, idempotency_key="points")
    loyalty.redeem("c-1", "ticket", 2, at=FEB + timedelta(days=1), idempotency_key="t-1")
    loyalty.redeem("c-1", "cake", at=FEB + timedelta(days=1), idempotency_key="c-1")
    loyalty.redeem("c-1", "mug", at=FEB + timedelta(days=1), idempotency_key="m-1")
    february = loyalty.partner_settlement("cinema", start=FEB, end=MAR)
    assert (february.units_redeemed, february.points_redeemed) == (2, 1000)
    assert february.owed_to_partner == Money.of("60.00", "CNY")
    assert february.net == Money.of("-60.00", "CNY")
    assert loyalty.partner_settlement("bakery", start=FEB, end=MAR).owed_to_partner == Money.of(
        "12.50", "CNY"
    )
    loyalty.cancel_redemption("c-1", "t-1", at=MAR + timedelta(days=1), idempotency_key="undo")
    assert loyalty.partner_settlement("cinema", start=FEB, end=MAR) == february
    march = loyalty.partner_settlement("cinema", start=MAR, end=APR)
    assert (march.units_cancelled, march.points_restored) == (2, 1000)
    assert march.owed_to_partner == Money.of("-60.00", "CNY")
    assert quarter(loyalty).owed_to_partner == Money.of("0.00", "CNY")  # type: ignore[attr-defined]


def test_goal_progress_at_any_instant_and_the_evaluation_at_period_end(loyalty: Loyalty) -> None:
    loyalty.award_partner_points(
        "cinema", "c-1", 600, at=JAN + timedelta(days=1), idempotency_key="a"
    )
    loyalty.award_partner_points(
        "cinema", "c-2", 300, at=FEB + timedelta(days=1), idempotency_key="b"
    )
    loyalty.earn("c-3", 2000, at=JAN, idempotency_key="points")
    loyalty.redeem("c-3", "ticket", at=FEB + timedelta(days=2), idempotency_key="t")
    early = {p.goal.id: p for p in loyalty.partner_progress("cinema", at=JAN + timedelta(days=10))}
    assert set(early) == {"q1-issued", "q1-members"}  # February's goal has not begun
    assert early["q1-issued"].achieved == 600
    assert early["q1-issued"].share == Decimal("0.6000")
    assert early["q1-issued"].remaining == 400 and not early["q1-issued"].over
    late = {p.goal.id: p for p in loyalty.partner_progress("cinema", at=APR + timedelta(days=1))}
    assert late["q1-issued"].achieved == 900 and late["q1-issued"].over
    assert late["feb-tickets"].achieved == 1
    with pytest.raises(InvalidArgument, match="evaluated once its period is over"):
        loyalty.partner_evaluation("cinema", "q1-issued", at=MAR)
    verdict = loyalty.partner_evaluation("cinema", "q1-issued", at=APR)
    assert (verdict.verdict, verdict.achieved, verdict.difference) == ("missed", 900, -100)
    assert verdict.settlement == quarter(loyalty)
    members = loyalty.partner_evaluation("cinema", "q1-members", at=APR)
    assert members.achieved == 2 and not members.met
    loyalty.award_partner_points("cinema", "c-3", 200, at=MAR, idempotency_key="c")
    assert loyalty.partner_evaluation("cinema", "q1-issued", at=APR).met
    assert loyalty.partner_evaluation("cinema", "q1-members", at=APR).met
    with pytest.raises(UnknownGoal):
        loyalty.partner_evaluation("cinema", "q9", at=APR)


def test_a_partner_that_left_the_programme_is_still_settled() -> None:
    later = Program(point_types=PROGRAM.point_types)
    versions = ProgramVersions(
        (
            ProgramVersion(valid_from=T0, program=PROGRAM),
            ProgramVersion(valid_from=MAR, program=later),
        )
    )
    loyalty = Loyalty(versions)
    loyalty.enroll("c-1", at=T0, idempotency_key="enroll")
    loyalty.award_partner_points("cinema", "c-1", 100, at=FEB, idempotency_key="a")
    with pytest.raises(UnknownPartner):
        loyalty.award_partner_points("cinema", "c-1", 100, at=MAR, idempotency_key="b")
    assert loyalty.partner_settlement("cinema", start=JAN, end=APR).points_issued == 100


def test_the_member_s_export_lists_the_partners_they_earned_with(loyalty: Loyalty) -> None:
    loyalty.award_partner_points("cinema", "c-1", 100, at=FEB, idempotency_key="a")
    records = loyalty.export_member("c-1", at=FEB)["records"]
    assert records["partner_member"] == [{"id": "cinema", "record": {"first_at": FEB.isoformat()}}]


def test_the_programme_checks_its_partners_and_their_rewards() -> None:
    with pytest.raises(InvalidArgument, match="used more than once"):
        Program(partners=(CINEMA, CINEMA))
    with pytest.raises(InvalidArgument, match="'gym' is not declared"):
        Program(
            partners=(CINEMA,),
            catalog=RewardCatalog.of(
                Reward(id="t", kind="gift", partner="gym", cost=Money.of("1", "CNY"))
            ),
        )
    with pytest.raises(InvalidArgument, match="needs the cost"):
        Program(
            partners=(CINEMA,),
            catalog=RewardCatalog.of(Reward(id="t", kind="gift", partner="cinema")),
        )
    with pytest.raises(InvalidArgument, match="in CNY"):
        Program(
            partners=(CINEMA,),
            catalog=RewardCatalog.of(
                Reward(id="t", kind="gift", partner="cinema", cost=Money.of("1", "EUR"))
            ),
        )
    with pytest.raises(InvalidArgument, match="point_type"):
        Program(partners=(Partner(id="x", currency="CNY", point_type="miles"),))
    with pytest.raises(InvalidAmount, match="point_price"):
        Partner(id="x", currency="CNY", point_price=Money.of("1", "EUR"))
    with pytest.raises(InvalidArgument, match="not after start"):
        PartnerGoal(id="g", metric="redemptions", target=1, start=APR, end=JAN)
    with pytest.raises(InvalidArgument, match="metric"):
        PartnerGoal(id="g", metric="likes", target=1, start=JAN, end=APR)
    with pytest.raises(InvalidAmount, match="target"):
        PartnerGoal(id="g", metric=GoalMetric.REDEMPTIONS, target=0, start=JAN, end=APR)
    with pytest.raises(InvalidArgument, match="used more than once"):
        Partner(id="x", currency="CNY", goals=(CINEMA.goals[0], CINEMA.goals[0]))


def test_partners_round_trip_through_the_dict_form_and_report_every_problem() -> None:
    assert Program.from_dict(PROGRAM.to_dict()) == PROGRAM
    with pytest.raises(ProgramError) as raised:
        Program.from_dict(
            {
                "partners": [
                    {"id": "x", "point_price": "-1", "colour": "red"},
                    {"id": "y", "goals": [{"id": "g", "metric": "likes", "target": 1}]},
                ]
            }
        )
    problems = raised.value.problems
    assert "partners[0].point_price: '-1' must be a positive amount" in problems
    assert any(p.startswith("partners[0].colour: unknown field") for p in problems)
    assert any(p.startswith("partners[1].goals[0].metric: 'likes'") for p in problems)
    assert "partners[1].goals[0].start: is required" in problems


FUNDED = Program.from_dict(
    {
        "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
        "campaigns": [
            {
                "id": "cinema-night",
                "schedule": {"start": "2026-01-01T00:00:00+00:00"},
                "audience": {"condition": "event.channel == 'cinema'"},
                "effects": [{"kind": "bonus", "points": 50}],
            }
        ],
        "partners": [{"id": "cinema", "point_price": "0.02", "campaigns": ["cinema-night"]}],
    }
)


@pytest.fixture(params=["memory", "sqlite"])
def funded(request: pytest.FixtureRequest, tmp_path: Path) -> Loyalty:
    storage = None if request.param == "memory" else f"sqlite:///{tmp_path}/funded.db"
    loyalty = Loyalty(FUNDED, storage=storage)
    loyalty.enroll("c-1", at=T0, idempotency_key="enroll")
    return loyalty


def test_the_points_of_a_campaign_the_partner_funds_are_the_partner_s(funded: Loyalty) -> None:
    at = JAN + timedelta(days=2)
    cinema = Purchase(amount=Money.of("100", "CNY"), channel="cinema")
    elsewhere = Purchase(amount=Money.of("100", "CNY"), channel="web")
    funded.record_purchase("c-1", cinema, at=at, idempotency_key="film")
    funded.record_purchase("c-1", elsewhere, at=at, idempotency_key="shoes")
    assert funded.balance("c-1", at=at).available == 10 + 50 + 10
    january = funded.partner_settlement("cinema", start=JAN, end=FEB)
    assert (january.points_issued, january.members_acquired) == (50, 1)
    assert january.owed_by_partner == Money.of("1.00", "CNY")
    funded.refund("c-1", "film", amount=Money.of("50", "CNY"), at=FEB, idempotency_key="film-back")
    february = funded.partner_settlement("cinema", start=FEB, end=MAR)
    assert february.points_reversed == 25
    assert february.owed_by_partner == Money.of("-0.50", "CNY")
    assert funded.partner_settlement("cinema", start=JAN, end=FEB) == january


def test_a_funded_campaign_must_be_declared_funded_once_and_priced() -> None:
    campaigns = FUNDED.campaigns
    price = Money.of("0.02", "CNY")
    with pytest.raises(InvalidArgument, match="'nope' is not declared"):
        Program(
            campaigns=campaigns,
            partners=(Partner(id="a", currency="CNY", point_price=price, campaigns=["nope"]),),
        )
    with pytest.raises(InvalidArgument, match="funded by 'a' already"):
        Program(
            campaigns=campaigns,
            partners=(
                Partner(id="a", currency="CNY", point_price=price, campaigns=["cinema-night"]),
                Partner(id="b", currency="CNY", point_price=price, campaigns=["cinema-night"]),
            ),
        )
    with pytest.raises(InvalidArgument, match="needs a point_price"):
        Partner(id="a", currency="CNY", campaigns=["cinema-night"])
    assert Program.from_dict(FUNDED.to_dict()) == FUNDED


def test_partner_awards_count_against_the_earn_velocity_rules() -> None:
    limited = Program.from_dict(
        {
            "partners": [{"id": "cinema", "point_price": "0.02"}],
            "velocity": {
                "rules": [{"id": "two-an-hour", "commands": "earn", "per": "hour", "at_most": 2}]
            },
        }
    )
    loyalty = Loyalty(limited)
    loyalty.enroll("c-1", at=T0, idempotency_key="enroll")
    for key in ("a", "b"):
        loyalty.award_partner_points("cinema", "c-1", 10, at=T0, idempotency_key=key)
    with pytest.raises(VelocityExceeded):
        loyalty.award_partner_points("cinema", "c-1", 10, at=T0, idempotency_key="c")
    assert loyalty.partner_settlement("cinema", start=T0, end=APR).points_issued == 20


def test_the_partner_results_have_a_json_form_that_reads_back_equal(loyalty: Loyalty) -> None:
    loyalty.award_partner_points("cinema", "c-1", 700, at=JAN, idempotency_key="a")
    results = (
        loyalty.partner_settlement("cinema", start=JAN, end=APR),
        loyalty.partner_progress("cinema", at=FEB)[0],
        loyalty.partner_evaluation("cinema", "q1-issued", at=APR),
    )
    for result in results:
        document = json.loads(json.dumps(to_json_dict(result)))
        jsonschema.validate(document, json_schema(type(result)))
        assert from_json_dict(type(result), document) == result


@pytest.mark.parametrize(
    "spoof",
    [
        {"event": "partner_award", "partner": "cinema", "point_price": "9", "currency": "CNY"},
        {"rules": "campaign:cinema-night"},
    ],
)
def test_a_plain_earn_cannot_pass_for_the_partner_s(
    loyalty: Loyalty, spoof: dict[str, str]
) -> None:
    """The names the library writes on entries to attribute them are refused in a
    caller's metadata: an earn cannot be made to count in a partner's settlement."""
    loyalty.award_partner_points("cinema", "c-1", 100, at=JAN, idempotency_key="a-1")
    before = loyalty.partner_settlement("cinema", start=JAN, end=APR)
    with pytest.raises(InvalidArgument, match=repr(sorted(spoof)[0])):
        loyalty.earn("c-1", 1000, at=JAN + timedelta(days=1), idempotency_key="e", metadata=spoof)
    assert loyalty.balance("c-1").available == 100
    assert loyalty.partner_settlement("cinema", start=JAN, end=APR) == before
