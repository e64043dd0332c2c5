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
from loyaltykit.domain.inquiries import erased_inquiry, inquiry_from_record, inquiry_to_record
from loyaltykit.service import commands as c
from loyaltykit.storage.base import StoredRecord, UnitOfWork
from loyaltykit.values import CustomerId, derived_identifier

__all__ = [
    "NOTHING",
    "PUBLIC",
    "ExportView",
    "OutboxView",
    "PersonalData",
    "RecordKind",
    "Redaction",
    "Subject",
    "owned",
]

OutboxView = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""What of a command's stored outcome its outbox event carries."""

Redaction = Callable[[UnitOfWork, StoredRecord], Mapping[str, Any]]
"""A stored record's document with the member's personal data taken out."""


@attrs.frozen(kw_only=True)
class Subject:
    """Whose records a subject-access export gathers: the member, inside one unit of
    work, and every campaign and partner id any programme version declares (their
    records are partitioned by campaign and by partner)."""

    uow: UnitOfWork
    customer_id: CustomerId
    campaigns: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()


ExportView = Callable[[Subject], list[dict[str, Any]]]
"""The member's records of one kind, as the subject-access export shows them."""


def owned(kind: str) -> ExportView:
    """The export view of a kind whose records the member owns: every one, with its id."""

    def view(subject: Subject) -> list[dict[str, Any]]:
        return [
            {"id": stored.id, "record": stored.document}
            for stored in subject.uow.records.of_owner(subject.customer_id, kind)
        ]

    return view


def NOTHING(_subject: Subject) -> list[dict[str, Any]]:
    """The export view of a kind that holds nothing about any member (the survey
    catalogue)."""
    return []


def _participations(subject: Subject) -> list[dict[str, Any]]:
    found = []
    for campaign in subject.campaigns:
        stored = subject.uow.records.get(f"campaign:{campaign}", "participant", subject.customer_id)
        if stored is not None:
            found.append({"id": campaign, "record": stored.document})
    return found


def _partner_memberships(subject: Subject) -> list[dict[str, Any]]:
    found = []
    for partner in subject.partners:
        stored = subject.uow.records.get(
            f"partner:{partner}", "partner_member", subject.customer_id
        )
        if stored is not None:
            found.append({"id": partner, "record": stored.document})
    return found


def _draws(subject: Subject) -> list[dict[str, Any]]:
    member = subject.customer_id
    found = []
    for campaign in subject.campaigns:
        for stored in subject.uow.records.of_owner(f"campaign:{campaign}", "draw"):
            weights = [w for holder, w in stored.document.get("entries", ()) if holder == member]
            won = member in stored.document.get("winners", ())
            if weights or won:
                found.append(
                    {
                        "id": f"{campaign}:{stored.id}",
                        "record": {
                            "campaign": campaign,
                            "draw_id": stored.id,
                            "at": stored.document.get("at"),
                            "entries": sum(weights),
                            "won": won,
                        },
                    }
                )
    return found


def _household(subject: Subject) -> list[dict[str, Any]]:
    membership = subject.uow.state.get(subject.customer_id, "household") or {}
    ids = [*membership.get("past", ()), membership.get("household")]
    found = []
    for household in dict.fromkeys(i for i in ids if i is not None):
        stored = subject.uow.records.get(f"household:{household}", "household", household)
        if stored is not None:
            found.append({"id": stored.id, "record": stored.document})
    return found


def _care_samples(subject: Subject) -> list[dict[str, Any]]:
    # quality control's samples (one a month, owned by no member) that drew the member's calls
    member = subject.customer_id
    found = []
    for stored in subject.uow.records.of_owner("care-quality", "care_sample"):
        calls = [call for call in stored.document.get("calls", ()) if call["customer_id"] == member]
        if calls:
            found.append({"id": stored.id, "record": {"month": stored.id, "calls": calls}})
    return found


def _club_memberships(subject: Subject) -> list[dict[str, Any]]:
    found = []
    for club in subject.uow.records.of_owner("clubs", "club"):
        partition = derived_identifier("club", club.id)
        stored = subject.uow.records.get(partition, "club_member", subject.customer_id)
        if stored is not None:
            found.append({"id": club.id, "record": stored.document})
    return found


def _event_places(subject: Subject) -> list[dict[str, Any]]:
    member, found = subject.customer_id, []
    after: tuple[str, str] | None = None
    while batch := subject.uow.records.scan("member_event", after=after, limit=500):
        after = (batch[-1].owner, batch[-1].id)
        for stored in batch:
            places = [
                p for p in ("booked", "waiting", "checked_in") if member in stored.document[p]
            ]
            if places:
                found.append({"id": stored.id, "record": {"event": stored.id, "places": places}})
    return found


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


_inquiry_view = _keep("id", "kind", "channel", "topic", "customer_id", "at", "answered_at")
# a care call's outcome without its due day (a birthday) or the notes of the caller and QC
_care_call_view = _keep(
    "customer_id",
    "kind",
    "id",
    "points",
    "gift",
    "team",
    "assignee",
    "done_at",
    "outcome",
    "follows",
    "checked",
)
# a sample's month and size (the calls name members: they stay in the store)
_care_sample_view = _keep("month", "population")


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


def _redact_inquiry(_uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    """Kind, channel, topic and times stay (they are counted); the text goes."""
    return inquiry_to_record(erased_inquiry(inquiry_from_record(stored.document)))


def _redact_care(_uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    """Kind, occasion and points stay (the ledger refers to them); the day shrinks to its
    year and the detail goes."""
    return {**stored.document, **care_to_record(erased_care(care_from_record(stored.document)))}


def _redact_notice(_uow: UnitOfWork, stored: StoredRecord) -> Mapping[str, Any]:
    """Template keys, points, tiers and instants stay; a care message's text and
    signature go (an associate's words may name the member)."""
    data = dict(stored.document.get("data") or {})
    for name in ("text", "store", "associate"):
        if name in data:
            data[name] = ""
    return {**stored.document, "data": data}


@attrs.frozen(kw_only=True)
class RecordKind:
    """A kind of stored record: ``redact`` is how erasure takes the member's personal
    data out of one, or ``None`` when the kind holds none; ``retire`` takes a redacted
    record off its worklist (its ``due_at`` is cleared); ``export`` finds the member's
    records of the kind for the subject-access export (``None``: not declared, and the
    export refuses to run without it)."""

    kind: str
    redact: Redaction | None = None
    retire: bool = False
    export: ExportView | None = None


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
    # checkout: a priced basket, voucher codes and points
    c.Checkout: PUBLIC,
    c.RefundOrder: PUBLIC,
    c.BuyPoints: PUBLIC,
    c.RefundBoughtPoints: PUBLIC,
    # coalition partners: a partner id, points, the price of a point
    c.AwardPartnerPoints: PUBLIC,
    # campaigns and care
    c.Draw: PUBLIC,
    c.CompleteCare: _care_call_view,  # trigger kinds, who worked it, the call's outcome
    c.RecordCareCall: _care_call_view,
    c.SampleCareCalls: _care_sample_view,
    c.CheckCareCall: _care_sample_view,
    # consent and care messages (what an associate wrote may name the member)
    c.ChangeConsent: PUBLIC,  # a channel, its state, when and where
    c.SendCareMessage: _keep("id", "customer_id", "template", "channel", "status"),
    # abuse limits and approvals: points, names of staff, reasons (like adjust)
    c.RequestAdjustment: PUBLIC,
    c.DecideAdjustment: PUBLIC,
    # households: ids, points, instants
    c.CreateHousehold: PUBLIC,
    c.JoinHousehold: PUBLIC,
    c.LeaveHousehold: PUBLIC,
    c.PoolPoints: PUBLIC,
    c.RedeemHouseholdPoints: PUBLIC,
    # feedback and complaints: what the member wrote never leaves
    c.PublishSurvey: PUBLIC,
    c.SubmitSurveyResponse: _response_view,
    c.FileComplaint: _complaint_view,
    # invitations carry ids and instants; inquiries never their text
    c.SetSurveyTrigger: PUBLIC,
    # clubs and member events: ids, capacities, rosters of member ids
    c.CreateClub: PUBLIC,
    c.JoinClub: PUBLIC,
    c.LeaveClub: PUBLIC,
    c.CreateMemberEvent: PUBLIC,
    c.BookEvent: PUBLIC,
    c.CancelBooking: PUBLIC,
    c.CheckInToEvent: PUBLIC,
    c.InviteToSurveys: PUBLIC,
    c.AnswerSurveyInvitation: PUBLIC,
    c.TakeInquiry: _inquiry_view,
    c.AnswerInquiry: _inquiry_view,
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
    RecordKind(kind="complaint", redact=_redact_complaint, export=owned("complaint")),
    RecordKind(kind="survey_response", redact=_redact_response, export=owned("survey_response")),
    RecordKind(kind="survey", export=NOTHING),  # the catalogue: questions, no answers
    RecordKind(kind="care", redact=_redact_care, retire=True, export=owned("care")),
    RecordKind(kind="redemption", export=owned("redemption")),
    RecordKind(kind="voucher", export=owned("voucher")),
    RecordKind(kind="participant", export=_participations),
    RecordKind(kind="draw", export=_draws),
    RecordKind(kind="referral", export=owned("referral")),  # the members they referred
    RecordKind(kind="unearned_purchase", export=owned("unearned_purchase")),
    RecordKind(kind="outbox", export=owned("outbox")),  # payloads are outbox views
    RecordKind(kind="order", export=owned("order")),  # a checkout's priced basket
    RecordKind(kind="notice", redact=_redact_notice, export=owned("notice")),
    RecordKind(kind="flag", export=owned("flag")),  # velocity rule, counts, command
    RecordKind(kind="adjustment_request", export=owned("adjustment_request")),
    RecordKind(kind="household", export=_household),  # member ids and points
    RecordKind(kind="survey_trigger", export=NOTHING),  # which events send a survey
    RecordKind(kind="survey_invitation", export=owned("survey_invitation")),  # ids, instants
    RecordKind(kind="inquiry", redact=_redact_inquiry, export=owned("inquiry")),
    # member ids and verdicts; the notes are on "care"
    RecordKind(kind="care_sample", export=_care_samples),
    RecordKind(kind="club", export=NOTHING),  # the catalogue of clubs
    RecordKind(kind="club_member", export=_club_memberships),  # member id, joined, left
    RecordKind(kind="member_event", export=_event_places),  # rosters of member ids
    # a member listed under a coalition partner: the member id and the first award
    RecordKind(kind="partner_member", export=_partner_memberships),
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

    def export(self, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        """The member's records of every registered kind, by kind; refuses to run when a
        kind declares no export view (so a new kind cannot be left out unnoticed)."""
        missing = sorted(kind.kind for kind in self.kinds.values() if kind.export is None)
        if missing:
            raise LookupError(
                f"record kinds {missing} have no export view in the personal-data registry "
                "(loyaltykit.service.personal): say how a member's records of them are found"
            )
        return {
            name: kind.export(subject)
            for name, kind in sorted(self.kinds.items())
            if kind.export is not None
        }

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
