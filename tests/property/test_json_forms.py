"""The public JSON form: every result the facade returns survives to_json_dict ->
JSON text -> from_json_dict unchanged, and its document validates against its schema.

The results come from real facade commands on a programme with earning rules, tiers,
a catalogue, a draw campaign, complaints and a survey; hypothesis draws the amounts,
the instants and the time zones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltykit import (
    Balance,
    ComplaintPolicy,
    Customer,
    Decision,
    DomainEvent,
    DueReport,
    Entry,
    Lot,
    Loyalty,
    Money,
    Profile,
    Program,
    Purchase,
    Question,
    Receipt,
    Redemption,
    SettlementReport,
    Statement,
    Survey,
    SurveyResponse,
    TierView,
    Voucher,
)
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.complaints import GoodwillBudget, SlaPolicy, Target
from loyaltykit.formats.json import dumps, from_json_dict, json_schema, loads, to_json_dict

PROGRAM = attrs.evolve(
    Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "currency": "CNY",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "tiers": {
                "levels": [
                    {"code": "member", "rank": 0},
                    {
                        "code": "gold",
                        "rank": 1,
                        "requirements": [{"metric": "spend", "at_least": "500"}],
                    },
                ]
            },
            "rewards": [
                {"id": "mug", "kind": "gift", "points": 5, "stock": 1000, "cost": "18"},
                {
                    "id": "coupon-20",
                    "kind": "coupon",
                    "points": 5,
                    "voucher": {"length": 12, "valid_for": {"days": 30}, "value": "20"},
                    "condition": "customer.tier == 'gold' or customer.tier == 'member'",
                },
            ],
            "campaigns": [
                {
                    "id": "draw",
                    "schedule": {"start": "2026-01-01T00:00:00+08:00"},
                    "effects": [{"kind": "draw_entries", "per_event": 1}],
                }
            ],
        }
    ),
    complaints=ComplaintPolicy(
        calendars={"hotline": BusinessCalendar.twenty_four_seven()},
        sla=(
            SlaPolicy(
                id="standard",
                acknowledge=Target(within=timedelta(hours=2), calendar="hotline"),
                first_response=Target(within=timedelta(hours=18)),
                resolution=Target(within=timedelta(hours=45)),
            ),
        ),
        goodwill=GoodwillBudget(points=1000, period="month"),
    ),
)
SURVEY = Survey(
    id="after-visit",
    title="How was it?",
    questions=(
        Question.nps("recommend", "Would you recommend us?"),
        Question.free_text("comment", "Anything else?"),
    ),
)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])

# what a person types: no control characters or lone surrogates (refused as InvalidText)
TYPED = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"))


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    moment = draw(
        st.datetimes(min_value=datetime(2026, 2, 1), max_value=datetime(2026, 12, 1))
    ).replace(tzinfo=UTC)
    return moment.astimezone(draw(ZONES))


@st.composite
def results(draw: st.DrawFn) -> list[tuple[type[Any], Any]]:
    """Every kind of result, as a run of real commands with drawn amounts and instants."""
    at = draw(instants())
    spend = draw(st.decimals(min_value=10, max_value=2000, places=2))
    tags = draw(st.frozensets(st.sampled_from(["vip", "family", "new"]), max_size=2))
    loyalty = Loyalty(PROGRAM, outbox=True)
    found: list[tuple[type[Any], Any]] = []
    customer = loyalty.enroll(
        "ann",
        at=at,
        idempotency_key="e-ann",
        profile=Profile(name="Ann 安", tags=tags, attributes={"store": "sh-01", "visits": 3}),
    )
    loyalty.enroll("ben", at=at, idempotency_key="e-ben")
    purchase = Purchase(amount=Money.of(spend, "CNY"))
    receipt = loyalty.record_purchase("ann", purchase, at=at, idempotency_key="p-1")
    replay = loyalty.record_purchase("ann", purchase, at=at, idempotency_key="p-1")
    assert replay.replayed
    later = at + timedelta(days=draw(st.integers(0, 400)), seconds=draw(st.integers(0, 86399)))
    found += [(Customer, customer), (Receipt, receipt), (Receipt, replay)]
    found.append((Decision, loyalty.quote("ann", purchase, at=at)))
    found.append(
        (
            Receipt,
            loyalty.adjust("ann", 40, at=at, idempotency_key="a", reason="gift", actor="op-1"),
        )
    )
    found.append((Receipt, loyalty.transfer("ann", "ben", 10, at=at, idempotency_key="t")))
    found.append((Redemption, loyalty.redeem("ann", "mug", at=at, idempotency_key="r-1")))
    coupon = loyalty.redeem("ann", "coupon-20", at=at, idempotency_key="r-2")
    found += [(Redemption, coupon), *((Voucher, v) for v in loyalty.vouchers("ann"))]
    found.append((type(check := loyalty.validate_voucher("ann", coupon.vouchers[0], at=at)), check))
    found.append((Balance, loyalty.balance("ann")))
    found.append((Balance, loyalty.balance("ann", at=later, expiring_within=timedelta(days=90))))
    found.append((Statement, loyalty.statement("ann")))
    found.append((TierView, loyalty.tier("ann", at=at)))
    found.append((DueReport, loyalty.run_due(at=later)))
    found.append((SettlementReport, loyalty.expire_due(at=later)))
    complaint = loyalty.file_complaint(
        "C-1",
        channel="hotline",
        category="service",
        content=draw(st.text(TYPED, max_size=30)),
        at=at,
        idempotency_key="c-1",
        actor="op-1",
        customer_id="ann",
    )
    found.append((type(complaint), complaint))
    found.append(
        (
            type(complaint),
            loyalty.acknowledge_complaint("C-1", at=at, idempotency_key="c-2", actor="op-1"),
        )
    )
    loyalty.publish_survey(SURVEY, at=at, idempotency_key="s")
    answer = {"recommend": draw(st.integers(0, 10)), "comment": draw(st.text(TYPED, max_size=20))}
    found.append(
        (
            SurveyResponse,
            loyalty.submit_survey_response("ann", SURVEY.id, answer, at=at, idempotency_key="sr"),
        )
    )
    for kind, value in (
        ("draw", loyalty.draw("draw", winners=1, seed="s", at=later, idempotency_key="d")),
        ("segments", loyalty.segments(at=later)),
        ("liability", loyalty.points_liability(at=later)),
        ("report", loyalty.campaign_report("draw", at=later)),
        ("forecast", loyalty.forecast("ann", at=at)),
    ):
        found.append((type(value), value))
        assert kind
    found.append((type(scores := loyalty.survey_scores(SURVEY.id)), scores))
    found += [(type(event), event) for event in loyalty.pending_events(limit=20)]
    found += [(Entry, entry) for entry in receipt.entries]
    found += [(type(offer), offer) for offer in loyalty.offers("ann", at=at)]
    found += [(type(event), event) for event in loyalty.draw_entries("draw")]
    lots = loyalty.storage.unit_of_work()
    with lots as uow:
        found += [(Lot, lot) for lot in uow.ledger.lots("ann", "points")]
    return found


def _round_trip(cls: type[Any], value: Any) -> None:
    document = to_json_dict(value)
    text = json.dumps(document)  # plain JSON data: no custom encoder needed
    assert json.loads(text) == document
    again = from_json_dict(cls, json.loads(text))
    assert again == value
    assert to_json_dict(again) == document  # the form is stable: written the same again
    assert loads(cls, dumps(value)) == value
    jsonschema.validate(document, json_schema(cls))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=results())
def test_every_result_round_trips_keeps_replayed_and_fits_its_schema(
    found: list[tuple[type[Any], Any]],
) -> None:
    kinds = {cls for cls, _ in found}
    assert kinds >= {Receipt, Balance, Statement, TierView, DueReport, SettlementReport, Decision}
    assert kinds >= {Entry, Lot, Customer, Redemption, Voucher, SurveyResponse, DomainEvent}
    for cls, value in found:
        _round_trip(cls, value)
    receipts = [value for cls, value in found if cls is Receipt]
    assert any(receipt.replayed for receipt in receipts)
    for receipt in receipts:
        assert from_json_dict(Receipt, to_json_dict(receipt)).replayed is receipt.replayed


@given(
    amount=st.decimals(
        min_value=-(10**15) + 1,
        max_value=10**15 - 1,
        allow_nan=False,
        allow_infinity=False,
        places=4,
    ),
    currency=st.sampled_from(["CNY", "JPY", "EUR"]),
)
def test_money_round_trips_with_its_exact_amount(amount: Any, currency: str) -> None:
    money = Money.of(amount, currency)
    document = to_json_dict(money)
    assert isinstance(document["amount"], str)
    assert from_json_dict(Money, document) == money
    jsonschema.validate(document, json_schema(Money))


def test_instants_are_written_in_utc_with_their_offset() -> None:
    at = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=8)))
    settlement = SettlementReport(at=at, accounts=1, entries=2, expired=3, released=0)
    assert to_json_dict(settlement)["at"] == "2026-05-01T04:00:00+00:00"
    assert from_json_dict(SettlementReport, to_json_dict(settlement)).at == at


def test_a_document_that_describes_no_valid_value_is_refused_by_name() -> None:
    from loyaltykit.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="Money JSON form"):
        from_json_dict(Money, {"amount": 12.5, "currency": "CNY"})
    with pytest.raises(InvalidArgument, match="currency"):
        from_json_dict(Money, {"amount": "12.50", "currency": "yuan"})
    with pytest.raises(InvalidArgument, match="no time zone"):
        from_json_dict(
            SettlementReport,
            {"at": "2026-05-01T00:00:00", "accounts": 0, "entries": 0, "expired": 0, "released": 0},
        )
    with pytest.raises(InvalidArgument, match="extra"):
        from_json_dict(Money, {"amount": "1", "currency": "CNY", "rate": "2"})
    with pytest.raises(InvalidArgument, match="not a loyaltykit result"):
        to_json_dict({"a": 1})


def test_a_python_condition_is_written_but_cannot_be_read_back() -> None:
    from loyaltykit.domain.rewards import Eligibility
    from loyaltykit.errors import InvalidArgument
    from loyaltykit.policy.rules import check

    def is_vip(context: Any) -> bool:
        return True

    document = to_json_dict(Eligibility(condition=check(is_vip)))
    assert document["condition"] == {"source": "is_vip", "language": "python"}
    with pytest.raises(InvalidArgument, match="Python callable"):
        from_json_dict(Eligibility, document)
