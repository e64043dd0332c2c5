"""The personal-data registry: one place that says, for every command and every kind of
stored record, whether it holds personal data, what of its outcome may leave through the
outbox, and how erasure redacts it.

Nothing here is cooperative: a command or record kind missing from the registry is an
error the first time it is used (and ``tests/unit/test_personal_data.py`` checks that
every command value and every kind the library writes is registered), so a new one
cannot leak into the outbox or survive an erasure silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from loyaltykit.domain.care import care_from_record, care_to_record, erased_care
from loyaltykit.domain.complaint_records import complaint_from_record, complaint_to_record
from loyaltykit.domain.complaints import TRANSITIONS, Complaint
from loyaltykit.domain.feedback import QuestionKind
from loyaltykit.domain.feedback_records import (
    response_from_record,
    response_to_record,
    survey_from_record,
)
from loyaltykit.service import commands as c
from loyaltykit.storage.base import StoredRecord, UnitOfWork
from loyaltykit.values import CustomerId

__all__ = [
    "PUBLIC",
    "OutboxView",
    "PersonalData",
    "RecordKind",
    "Redaction",
]

OutboxView = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""What of a command's stored outcome its outbox event carries."""

Redaction = Callable[[UnitOfWork, StoredRecord], Mapping[str, Any]]
"""A stored record's document with the member's personal data taken out."""


def PUBLIC(outcome: Mapping[str, Any]) -> Mapping[str, Any]:
    """The view of an outcome that holds no personal data: all of it."""
    return outcome


def _keep(*names: str) -> OutboxView:
    def view(outcome: Mapping[str, Any]) -> Mapping[str, Any]:
        return {name: outcome.get(name) for name in names}

    return view


_customer_view = _keep("id", "status")
_complaint_view = _keep(
    "id",
    "customer_id",
    "channel",
    "category",
    "subcategory",
    "severity",
    "priority",
    "state",
    "goodwill_points",
)
_response_view = _keep(
    "id", "survey_id", "customer_id", "at", "channel", "complaint_id", "campaign"
)


def _customer_event(outcome: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"customer_id": outcome.get("id"), "status": outcome.get("status")}


def _redact_complaint(_uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    complaint: Complaint = complaint_from_record(stored.document).redacted()
    return complaint_to_record(complaint)


def _redact_response(uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    """Free-text answers go; chosen options and scores stay (they are statistics)."""
    response = response_from_record(stored.document)
    survey = uow.records.get("survey:catalog", "survey", response.survey_id)
    choices = (
        set()
        if survey is None
        else {
            q.id
            for q in survey_from_record(survey.document).questions
            if q.kind is QuestionKind.CHOICE
        }
    )
    kept = tuple((q, a) for q, a in response.answers if not isinstance(a, str) or q in choices)
    # the profile tags copied into it go too: the response then counts as untagged
    return response_to_record(attrs.evolve(response, answers=kept, tags=frozenset()))


def _redact_care(_uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    """Kind, occasion and points stay (the ledger refers to them); the day shrinks to its
    year and the detail goes."""
    return {**stored.document, **care_to_record(erased_care(care_from_record(stored.document)))}


@attrs.frozen(kw_only=True)
class RecordKind:
    """A kind of stored record: ``redact`` is how erasure takes the member's personal
    data out of one, or ``None`` when the kind holds none; ``retire`` takes a redacted
    record off its worklist (its ``due_at`` is cleared)."""

    kind: str
    redact: Redaction | None = None
    retire: bool = False


_COMMAND_VIEWS: dict[type[c.CommandValue], OutboxView] = {
    # customers: the profile never leaves
    c.Enroll: _customer_event,
    c.UpdateProfile: _customer_event,
    c.Suspend: _customer_event,
    c.Reactivate: _customer_event,
    c.CloseAccount: _customer_event,
    c.Erase: _customer_event,
    c.LinkReferrer: _customer_event,
    # the ledger, the engine and tiers: points, ids and instants only
    c.EarnPoints: PUBLIC,
    c.RedeemPoints: PUBLIC,
    c.AdjustPoints: PUBLIC,
    c.TransferPoints: PUBLIC,
    c.ReversePoints: PUBLIC,
    c.Refund: PUBLIC,
    c.RecordPurchase: PUBLIC,
    c.RecordEvent: PUBLIC,
    c.GrantTier: PUBLIC,
    c.SetMetric: PUBLIC,
    # rewards (voucher codes are bearer secrets consumers need to send to the member)
    c.Redeem: PUBLIC,
    c.GrantReward: PUBLIC,
    c.PayWithPoints: PUBLIC,
    c.CancelRedemption: PUBLIC,
    c.FulfilRedemption: PUBLIC,
    c.UseVoucher: PUBLIC,
    # campaigns and care
    c.Draw: PUBLIC,
    c.CompleteCare: PUBLIC,  # trigger kinds, due dates and the call's outcome
    # feedback and complaints: what the member wrote never leaves
    c.PublishSurvey: PUBLIC,
    c.SubmitSurveyResponse: _response_view,
    c.FileComplaint: _complaint_view,
    c.ComplaintStep: _complaint_view,
    # stored value and member cards: codes, numbers, amounts, ids and instants only. A
    # gift card code is a bearer secret the consumer must send to the buyer, like a
    # voucher code. Erasure keeps balances (money owed, kept under the pseudonymous
    # holder id like the points ledger) and card rows (a number is never reused): see
    # docs/concepts/stored-value.md and docs/concepts/member-cards.md
    c.IssueStoredValue: PUBLIC,
    c.TopUpStoredValue: PUBLIC,
    c.PayWithStoredValue: PUBLIC,
    c.RefundToStoredValue: PUBLIC,
    c.IssueCard: PUBLIC,
    c.BlockCard: PUBLIC,
    c.ReplaceCard: PUBLIC,
}

_RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind(kind="complaint", redact=_redact_complaint),
    RecordKind(kind="survey_response", redact=_redact_response),
    RecordKind(kind="survey"),
    RecordKind(kind="care", redact=_redact_care, retire=True),  # a birthday's day
    RecordKind(kind="redemption"),
    RecordKind(kind="voucher"),
    RecordKind(kind="participant"),
    RecordKind(kind="draw"),
    RecordKind(kind="referral"),
    RecordKind(kind="unearned_purchase"),
    RecordKind(kind="outbox"),  # payloads are outbox views: ids and states
)


class PersonalData:
    """The registry (see the module's text)."""

    def __init__(
        self,
        views: Mapping[type[c.CommandValue], OutboxView] | None = None,
        kinds: tuple[RecordKind, ...] | None = None,
    ) -> None:
        self.views = dict(_COMMAND_VIEWS if views is None else views)
        self.kinds = {kind.kind: kind for kind in (_RECORD_KINDS if kinds is None else kinds)}

    def outbox_view(
        self, command: type[c.CommandValue], outcome: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """What the outbox event of a ``command`` carries of its outcome."""
        view = self.views.get(command)
        if view is None:
            raise LookupError(
                f"{command.__name__} is not in the personal-data registry "
                "(loyaltykit.service.personal): say what of its outcome may leave"
            )
        return view(outcome)

    def check_kind(self, kind: str) -> None:
        """Refuse a record kind the registry does not list."""
        if kind not in self.kinds:
            raise LookupError(
                f"record kind {kind!r} is not in the personal-data registry "
                "(loyaltykit.service.personal): say whether it holds personal data"
            )

    def private_commands(self) -> frozenset[str]:
        """The names of the commands whose stored outcomes hold personal data."""
        names = {command.kind for command, view in self.views.items() if view is not PUBLIC}
        return frozenset(names | {f"complaint.{transition}" for transition in TRANSITIONS})

    def erase(self, uow: UnitOfWork, customer_id: CustomerId) -> None:
        """Take the member's personal data out of every record kind that holds some, and
        out of the stored outcomes of their commands."""
        for kind in self.kinds.values():
            if kind.redact is None:
                continue
            for stored in uow.records.of_owner(customer_id, kind.kind):
                uow.records.put(
                    stored.owner,
                    stored.kind,
                    stored.id,
                    kind.redact(uow, stored),
                    due_at=None if kind.retire else stored.due_at,
                    lookup=stored.lookup,
                )
        uow.idempotency.redact(customer_id, self.private_commands())
