"""The subject-access export: everything stored about a member, the counterpart of
erase; every registered record kind has an export view (issue 17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Loyalty,
    Milestones,
    Money,
    NoticeRules,
    Profile,
    Program,
    Purchase,
    Question,
    Requirement,
    Survey,
    Tier,
    TierLadder,
    Window,
)
from loyaltykit.errors import UnknownCustomer
from loyaltykit.policy.rules import BaseRate
from loyaltykit.service.personal import PersonalData, RecordKind
from loyaltykit.storage.base import Storage

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
PROGRAM = Program(
    rules=(BaseRate(id="base", per=Money.of("1", "CNY")),),
    tiers=TierLadder(
        tiers=(
            Tier(code="silver", rank=0),
            Tier(
                code="gold",
                rank=1,
                requirements=(
                    Requirement(metric="spend", at_least="500", window=Window.rolling(12)),
                ),
            ),
        ),
        status_length=relativedelta(months=12),
    ),
    notices=NoticeRules(milestones=Milestones(thresholds=[100])),
)
SURVEY = Survey(
    id="after-visit",
    title="Your visit",
    questions=(
        Question.scale("satisfied", "How satisfied are you?", measures="csat"),
        Question.free_text("comment", "Anything else?"),
    ),
)


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _member(storage: Storage) -> Loyalty:
    loyalty = Loyalty(PROGRAM, storage=storage, outbox=True)
    profile = Profile(name="Wang Fang", email="wf@example.com")
    loyalty.enroll("ann", at=T0, idempotency_key="e-1", profile=profile)
    loyalty.opt_in("ann", "sms", at=T0, idempotency_key="c-1", source="sign-up form")
    purchase = Purchase(amount=Money.of("600", "CNY"))
    loyalty.record_purchase("ann", purchase, at=T0, idempotency_key="p-1")
    loyalty.file_complaint(
        "C-1", channel="hotline", category="service", content="waited 40 minutes", at=T0,
        idempotency_key="f-1", actor="op-1", customer_id="ann",
    )  # fmt: skip
    loyalty.publish_survey(SURVEY, at=T0, idempotency_key="s-1")
    loyalty.submit_survey_response(
        "ann", "after-visit", {"satisfied": 4, "comment": "lovely staff"}, at=T0,
        idempotency_key="r-1",
    )  # fmt: skip
    return loyalty


def test_the_export_holds_everything_stored_about_the_member(storage: Storage) -> None:
    loyalty = _member(storage)
    document = loyalty.export_member("ann", at=T0)
    json.dumps(document)  # one JSON document
    assert document["format"] == "loyaltykit.subject-access/1"
    assert document["profile"]["profile"]["name"] == "Wang Fang"
    assert [e["amount"] for e in document["ledger"]["points"]] == [600]
    assert document["tier"]["status"]["tier"] == "gold"
    assert [h["to"] for h in document["tier"]["history"]] == ["gold"]
    assert [(c["channel"], c["state"]) for c in document["consents"]] == [("sms", "opt_in")]
    records = document["records"]
    assert set(records) == set(PersonalData().kinds)
    assert [r["record"]["content"] for r in records["complaint"]] == ["waited 40 minutes"]
    assert "lovely staff" in json.dumps(records["survey_response"])
    assert [r["record"]["template"] for r in records["notice"]] == ["balance.milestone"]
    assert records["survey"] == []  # the catalogue holds nothing about a member
    assert {r["record"]["type"] for r in records["outbox"]} >= {"enroll", "record_purchase"}
    with pytest.raises(UnknownCustomer):
        loyalty.export_member("nobody", at=T0)


def test_the_export_holds_the_members_cards_and_stored_value(storage: Storage) -> None:
    loyalty = _member(storage)
    card = loyalty.issue_card("ann", at=T0, idempotency_key="card-1")
    loyalty.issue_stored_value(
        "wallet", Money.of("50", "CNY"), holder="ann", at=T0, idempotency_key="w-1"
    )
    document = loyalty.export_member("ann", at=T0)
    json.dumps(document)
    assert [c["number"] for c in document["cards"]] == [card.number]
    (wallet,) = document["stored_value"]
    assert wallet["account"]["holder"] == "ann" and len(wallet["entries"]) == 1


def test_after_erasure_the_export_shows_what_is_left(storage: Storage) -> None:
    loyalty = _member(storage)
    loyalty.erase("ann", at=T0, idempotency_key="x-1")
    text = json.dumps(loyalty.export_member("ann", at=T0))
    assert "Wang Fang" not in text and "wf@example.com" not in text
    assert "lovely staff" not in text and "waited 40 minutes" not in text
    assert '"amount": 600' in text  # the ledger stays whole


def test_every_registered_record_kind_has_an_export_view() -> None:
    registry = PersonalData()
    missing = [kind.kind for kind in registry.kinds.values() if kind.export is None]
    assert missing == [], f"give these record kinds an export view: {missing}"
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e-1")
    kinds = (*registry.kinds.values(), RecordKind(kind="loot"))
    loyalty.kernel.personal = PersonalData(kinds=kinds)
    with pytest.raises(LookupError, match="'loot'"):
        loyalty.export_member("ann", at=T0)
