"""Complaints handled the ISO 10002 way: a state machine, roles, SLA clocks, QC review.

A :class:`Complaint` is registered (``received``) and then moves only by named
transitions, each allowed from some states and to some roles:

=====================  ==========================================  ==================
transition             from                                        roles
=====================  ==========================================  ==================
``acknowledge``        received                                    customer service
``assess``             acknowledged                                customer service, supervisor
``investigate``        assessed, reopened                          business department, supervisor
``propose``            investigating                               business department
``submit_for_review``  resolution_proposed                         business dept., customer service
``approve``            qc_review -> resolution_proposed (approved)  quality control
``reject``             qc_review -> investigating                  quality control
``respond``            resolution_proposed                         customer service
``reinvestigate``      responded -> investigating                  customer service
``close``              responded                                   customer service
``request_info``       acknowledged, assessed, investigating       customer service
``customer_replied``   waiting_on_customer -> the state before     customer service
``escalate``           any open state but waiting_on_customer      supervisor
``resume``             escalated -> the state before               supervisor
``reopen``             closed (within the reopen window)           customer service
``withdraw``           any open state                              customer service
=====================  ==========================================  ==================

Customer service owns every contact with the customer; the business department
investigates and proposes; quality control reviews a proposal before the answer goes
out when the policy's :class:`QcRule` says so (``respond`` is refused until QC approved).
An illegal transition raises :class:`~loyaltykit.errors.IllegalTransition` naming the
state, the transition and why. Every step is appended to ``history`` with its actor,
role and instant; nothing is ever rewritten.

SLA clocks (acknowledge, first response, resolution) run in business time on the
calendars the :class:`SlaPolicy` names, and pause while the complaint waits on the
customer. Everything here is pure: instants are passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Protocol, runtime_checkable

import attrs

from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.errors import (
    ComplaintFull,
    IllegalTransition,
    InvalidAmount,
    InvalidArgument,
    NotAuthorized,
)
from loyaltykit.values import (
    MAX_ACTOR_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_TEXT_LENGTH,
    CustomerId,
    aware,
    codes,
    identifier,
    label,
    mapping_of,
    sequence_of,
    text,
)

__all__ = [
    "ALLOW_ALL",
    "ANONYMOUS",
    "CHANNELS",
    "GOODWILL_PERIODS",
    "MAX_COMPLAINT_STEPS",
    "TRANSITIONS",
    "AllowAll",
    "Authorizer",
    "ClockStatus",
    "Complaint",
    "ComplaintPolicy",
    "ComplaintState",
    "ComplaintTaxonomy",
    "GoodwillBudget",
    "Priority",
    "Proposal",
    "QcRule",
    "Role",
    "Severity",
    "SlaAlerts",
    "SlaClock",
    "SlaPolicy",
    "Step",
    "Target",
    "as_authorizer",
    "check_authorized",
]

ANONYMOUS = "complaint:anonymous"
"""The partition key that owns complaints filed without a customer id."""

CHANNELS = ("hotline", "email", "online_form", "in_person", "suggestion_box", "social_media")
"""The usual intake channels; any identifier is accepted."""

_ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)


class ComplaintState(enum.Enum):
    """Where a complaint stands."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    INVESTIGATING = "investigating"
    RESOLUTION_PROPOSED = "resolution_proposed"
    QC_REVIEW = "qc_review"
    RESPONDED = "responded"
    CLOSED = "closed"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        """Whether the complaint is still being handled (not closed nor withdrawn)."""
        return self not in (ComplaintState.CLOSED, ComplaintState.WITHDRAWN)


class Role(enum.Enum):
    """Who may do what (see the module table)."""

    CUSTOMER_SERVICE = "customer_service"
    BUSINESS_DEPARTMENT = "business_department"
    QUALITY_CONTROL = "quality_control"
    SUPERVISOR = "supervisor"


@runtime_checkable
class Authorizer(Protocol):
    """Who may act in which role: supplied by the embedding service, which knows its
    staff (the library only knows the names it is given).

    ``allowed(actor, role, action)`` answers for one step: ``action`` is the
    transition (``"approve"``, ``"propose"``...) or ``"file"``.
    """

    def allowed(self, actor: str, role: Role, action: str) -> bool:
        """Whether ``actor`` may take ``action`` in ``role``."""
        ...


@attrs.frozen
class AllowAll:
    """The default authorizer: every actor may act in every role (the caller's word is
    taken, as before authorizers existed). Supply your own in production."""

    def allowed(self, actor: str, role: Role, action: str) -> bool:
        """Always ``True``."""
        return True


ALLOW_ALL = AllowAll()
"""The default :class:`Authorizer`."""


@attrs.frozen
class _CallableAuthorizer:
    function: Callable[[str, Role, str], bool]

    def allowed(self, actor: str, role: Role, action: str) -> bool:
        return bool(self.function(actor, role, action))


def as_authorizer(value: Authorizer | Callable[[str, Role, str], bool] | None) -> Authorizer:
    """An :class:`Authorizer` from one, a plain ``(actor, role, action) -> bool``
    callable, or ``None`` (:data:`ALLOW_ALL`)."""
    if value is None:
        return ALLOW_ALL
    if isinstance(value, Authorizer):
        return value
    if callable(value):
        return _CallableAuthorizer(value)
    raise InvalidArgument(f"authorize: {value!r} is neither an Authorizer nor a callable")


def check_authorized(authorizer: Authorizer, actor: str, role: Role | str, action: str) -> Role:
    """The role, once ``authorizer`` allowed ``actor`` to take ``action`` in it; raises
    :class:`~loyaltykit.errors.NotAuthorized` otherwise (and ``InvalidArgument`` for an
    unknown role)."""
    who = _role(role)
    if not authorizer.allowed(actor, who, action):
        raise NotAuthorized(actor, who.value, action)
    return who


class Severity(enum.Enum):
    """How serious the initial assessment found the complaint."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class Priority(enum.Enum):
    """How urgently it is handled; escalation raises it one level."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for low to 3 for urgent."""
        return list(Priority).index(self)

    def raised(self) -> Priority:
        """One level up (urgent stays urgent)."""
        members = list(Priority)
        return members[min(self.rank + 1, len(members) - 1)]


S = ComplaintState
_CS, _BD, _QC, _SUP = (
    Role.CUSTOMER_SERVICE,
    Role.BUSINESS_DEPARTMENT,
    Role.QUALITY_CONTROL,
    Role.SUPERVISOR,
)
_OPEN = frozenset(state for state in S if state.is_open)
# transition -> (states it leaves, the state it enters (None: the remembered one), roles)
TRANSITIONS: dict[str, tuple[frozenset[ComplaintState], ComplaintState | None, frozenset[Role]]] = {
    "acknowledge": (frozenset({S.RECEIVED}), S.ACKNOWLEDGED, frozenset({_CS})),
    "assess": (frozenset({S.ACKNOWLEDGED}), S.ASSESSED, frozenset({_CS, _SUP})),
    "investigate": (frozenset({S.ASSESSED, S.REOPENED}), S.INVESTIGATING, frozenset({_BD, _SUP})),
    "propose": (frozenset({S.INVESTIGATING}), S.RESOLUTION_PROPOSED, frozenset({_BD})),
    "submit_for_review": (frozenset({S.RESOLUTION_PROPOSED}), S.QC_REVIEW, frozenset({_BD, _CS})),
    "approve": (frozenset({S.QC_REVIEW}), S.RESOLUTION_PROPOSED, frozenset({_QC})),
    "reject": (frozenset({S.QC_REVIEW}), S.INVESTIGATING, frozenset({_QC})),
    "respond": (frozenset({S.RESOLUTION_PROPOSED}), S.RESPONDED, frozenset({_CS})),
    "reinvestigate": (frozenset({S.RESPONDED}), S.INVESTIGATING, frozenset({_CS})),
    "close": (frozenset({S.RESPONDED}), S.CLOSED, frozenset({_CS})),
    "request_info": (
        frozenset({S.ACKNOWLEDGED, S.ASSESSED, S.INVESTIGATING}),
        S.WAITING_ON_CUSTOMER,
        frozenset({_CS}),
    ),
    "customer_replied": (frozenset({S.WAITING_ON_CUSTOMER}), None, frozenset({_CS})),
    "escalate": (_OPEN - {S.WAITING_ON_CUSTOMER}, S.ESCALATED, frozenset({_SUP})),
    "resume": (frozenset({S.ESCALATED}), None, frozenset({_SUP})),
    "reopen": (frozenset({S.CLOSED}), S.REOPENED, frozenset({_CS})),
    "withdraw": (_OPEN, S.WITHDRAWN, frozenset({_CS})),
}
"""The transition table the module docs show."""


def _text(what: str, value: Any) -> str:
    return text(what, value, max_len=MAX_TEXT_LENGTH)


def _actor(value: Any) -> str:
    actor = label("actor", value, max_len=MAX_ACTOR_LENGTH)
    if not actor.strip():
        raise InvalidArgument(f"actor: {value!r} is empty; every step names who took it")
    return actor


def _same_person(first: str, second: str) -> bool:
    # actor ids come from the embedding service; spacing and case do not make a new person
    return first.strip().casefold() == second.strip().casefold()


def _positive_duration(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= _ZERO:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive timedelta")


# --- taxonomy, SLA and the policy ----------------------------------------------------


def _categories(value: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    found = mapping_of("taxonomy categories", value, (list, tuple, set, frozenset))
    return {
        label("taxonomy category", category): codes(f"taxonomy categories[{category!r}]", subs)
        for category, subs in found.items()
    }


@attrs.frozen(kw_only=True)
class ComplaintTaxonomy:
    """The categories complaints are filed under, each with its subcategories.

    An empty taxonomy accepts any category; a category mapped to no subcategory
    accepts none but the empty one.
    """

    categories: Mapping[str, frozenset[str]] = attrs.field(factory=dict, converter=_categories)

    def check(self, category: str, subcategory: str = "") -> None:
        """Raise :class:`InvalidArgument` unless the pair is in the taxonomy."""
        identifier("category", category)
        if subcategory:
            identifier("subcategory", subcategory)
        if not self.categories:
            return
        if category not in self.categories:
            raise InvalidArgument(
                f"category: {category!r} is not in the taxonomy {sorted(self.categories)}"
            )
        allowed = self.categories[category]
        if subcategory and subcategory not in allowed:
            raise InvalidArgument(
                f"subcategory: {subcategory!r} is not under {category!r} (known: {sorted(allowed)})"
            )


@attrs.frozen(kw_only=True)
class Target:
    """A duration of business time on a named calendar of the policy."""

    within: timedelta = attrs.field(validator=_positive_duration)
    calendar: str = "default"


_CLOCKS = ("acknowledge", "first_response", "resolution")

MAX_COMPLAINT_STEPS = 100
"""The most steps a complaint's history holds (filing included): a complaint is stored
as one document, so its history is bounded; one that needs more is closed and followed
by a new complaint. The stored size is bounded too (``MAX_COMPLAINT_BYTES``)."""


def _share(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Fraction) or not 0 <= value < 1:
        raise InvalidArgument(f"warn_share: {value!r} must be a Fraction in [0, 1)")


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """SLA targets for the complaints it selects (``None`` selects any value).

    The most specific policy wins: each of category, channel and priority that
    matches counts, and the first of equally specific ones in declaration order wins.
    A clock is *about to breach* once ``warn_share`` of its target is left.
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("sla id", v))
    acknowledge: Target
    first_response: Target
    resolution: Target
    category: str | None = None
    channel: str | None = None
    priority: Priority | None = None
    warn_share: Fraction = attrs.field(default=Fraction(1, 5), validator=_share)

    def score(self, category: str, channel: str, priority: Priority) -> int | None:
        """How specifically this policy selects the complaint; ``None`` if it does not."""
        score = 0
        for wanted, actual in (
            (self.category, category),
            (self.channel, channel),
            (self.priority, priority),
        ):
            if wanted is None:
                continue
            if wanted != actual:
                return None
            score += 1
        return score

    def target(self, clock: str) -> Target:
        """The target of clock ``acknowledge``, ``first_response`` or ``resolution``."""
        found: Target = getattr(self, clock)
        return found


# typed converters (not converter=tuple/frozenset), so mypy sees what __init__ takes
def _severities(value: Iterable[Severity]) -> frozenset[Severity]:
    return frozenset(sequence_of("qc severities", value, Severity))


def _qc_categories(value: Iterable[str]) -> frozenset[str]:
    return codes("qc categories", value)


def _sla_policies(value: Iterable[SlaPolicy]) -> tuple[SlaPolicy, ...]:
    return sequence_of("complaint sla", value, SlaPolicy)


@attrs.frozen(kw_only=True)
class QcRule:
    """Which proposals quality control reviews before the answer goes out: any
    complaint in ``categories``, of a severity in ``severities``, or granting at least
    ``goodwill_from`` points (``None``: goodwill alone never requires it).

    ``four_eyes`` (the default) asks for a second person: whoever proposed a resolution
    may not approve it, whatever role they claim. Turn it off only where one person
    holds both roles on purpose."""

    categories: frozenset[str] = attrs.field(default=frozenset(), converter=_qc_categories)
    severities: frozenset[Severity] = attrs.field(default=frozenset(), converter=_severities)
    goodwill_from: int | None = None
    four_eyes: bool = attrs.field(default=True)

    @four_eyes.validator
    def _check_four_eyes(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise InvalidArgument(f"qc.four_eyes: {value!r} must be true or false")

    def requires(self, complaint: Complaint) -> bool:
        """Whether ``complaint``'s current proposal needs QC approval."""
        if complaint.category in self.categories:
            return True
        if complaint.severity is not None and complaint.severity in self.severities:
            return True
        proposal = complaint.proposal
        return (
            self.goodwill_from is not None
            and proposal is not None
            and proposal.goodwill_points >= self.goodwill_from
        )


GOODWILL_PERIODS = ("day", "week", "month", "year", "lifetime")


@attrs.frozen(kw_only=True)
class GoodwillBudget:
    """At most ``points`` goodwill points granted per ``period`` (local to the program's
    time zone) over every complaint, and at most ``per_complaint`` on one complaint."""

    points: int
    period: str = "month"
    per_complaint: int | None = None
    point_type: str = "points"

    def __attrs_post_init__(self) -> None:
        for what, value in (("points", self.points), ("per_complaint", self.per_complaint)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise InvalidAmount(f"goodwill {what}", value, "a positive int")
        if self.period not in GOODWILL_PERIODS:
            raise InvalidArgument(
                f"goodwill period: {self.period!r} is not one of {list(GOODWILL_PERIODS)}"
            )

    def counter(self, local: datetime) -> str:
        """The shared counter name for the period containing local instant ``local``."""
        if self.period == "day":
            key = local.strftime("%Y-%m-%d")
        elif self.period == "week":
            year, week, _ = local.isocalendar()
            key = f"{year}-W{week:02d}"
        elif self.period == "month":
            key = local.strftime("%Y-%m")
        elif self.period == "year":
            key = f"{local.year:04d}"
        else:
            key = "all"
        return f"goodwill:{self.point_type}:{key}"


def _default_sla() -> tuple[SlaPolicy, ...]:
    return (
        SlaPolicy(
            id="default",
            acknowledge=Target(within=timedelta(hours=9)),
            first_response=Target(within=timedelta(hours=27)),
            resolution=Target(within=timedelta(hours=45)),
        ),
    )


def _calendars(value: Mapping[str, BusinessCalendar]) -> dict[str, BusinessCalendar]:
    calendars = mapping_of("calendars", value, BusinessCalendar)
    calendars.setdefault("default", BusinessCalendar())
    for name, calendar in calendars.items():
        if not isinstance(calendar, BusinessCalendar):
            raise InvalidArgument(f"calendars[{name!r}]: {calendar!r} is not a BusinessCalendar")
    return calendars


@attrs.frozen(kw_only=True)
class ComplaintPolicy:
    """How a programme handles complaints: taxonomy, calendars, SLA policies, the QC
    rule, the reopen window and the goodwill budget.

    The default accepts any category, works 09:00-18:00 Monday to Friday in UTC and
    expects an acknowledgement within one working day, a first response within three
    and a resolution within five.
    """

    taxonomy: ComplaintTaxonomy = attrs.field(factory=ComplaintTaxonomy)
    calendars: Mapping[str, BusinessCalendar] = attrs.field(factory=dict, converter=_calendars)
    sla: tuple[SlaPolicy, ...] = attrs.field(factory=_default_sla, converter=_sla_policies)
    qc: QcRule = attrs.field(factory=QcRule)
    reopen_within: timedelta = attrs.field(default=timedelta(days=14), validator=_positive_duration)
    goodwill: GoodwillBudget | None = None

    def __attrs_post_init__(self) -> None:
        if not self.sla:
            raise InvalidArgument("complaints sla: at least one SLA policy is needed")
        ids = [policy.id for policy in self.sla]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidArgument(f"complaints sla: ids {duplicates} are used more than once")
        for policy in self.sla:
            for clock in _CLOCKS:
                name = policy.target(clock).calendar
                if name not in self.calendars:
                    raise InvalidArgument(
                        f"sla {policy.id!r} {clock}: calendar {name!r} is not declared "
                        f"(calendars: {sorted(self.calendars)})"
                    )
        if not any(
            p.category is None and p.channel is None and p.priority is None for p in self.sla
        ):
            raise InvalidArgument("complaints sla: one policy must select every complaint")

    def calendar(self, name: str) -> BusinessCalendar:
        """The calendar called ``name``."""
        try:
            return self.calendars[name]
        except KeyError:
            raise InvalidArgument(
                f"calendar {name!r} is not declared (calendars: {sorted(self.calendars)})"
            ) from None

    def sla_for(self, category: str, channel: str, priority: Priority) -> SlaPolicy:
        """The most specific SLA policy selecting this complaint."""
        best: tuple[int, SlaPolicy] | None = None
        for policy in self.sla:
            score = policy.score(category, channel, priority)
            if score is not None and (best is None or score > best[0]):
                best = (score, policy)
        assert best is not None  # a catch-all policy is required
        return best[1]


# --- clocks -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SlaClock:
    """One SLA clock: ``target`` business time on ``calendar`` from ``started_at``.

    ``pauses`` are the spans (wall-clock instants) the complaint waited on the customer;
    ``paused_since`` is set while it waits. They are measured in business time on the
    clock's calendar when the clock is read, so the clock itself holds only instants.
    ``warned`` and ``escalated`` record that the batch already reported the warning and
    escalated the breach, so neither repeats.
    """

    name: str
    target: timedelta
    calendar: str
    started_at: datetime
    stopped_at: datetime | None = None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    paused_since: datetime | None = None
    warn_share: Fraction = Fraction(1, 5)
    warned: bool = False
    escalated: bool = False

    @property
    def running(self) -> bool:
        """Not stopped yet (paused clocks are running)."""
        return self.stopped_at is None

    def paused(self, calendar: BusinessCalendar, until: datetime | None = None) -> timedelta:
        """Business time spent paused (up to ``until`` for an ongoing pause)."""
        total = sum((calendar.between(start, end) for start, end in self.pauses), _ZERO)
        if self.paused_since is not None and until is not None:
            total += calendar.between(self.paused_since, until)
        return total

    def used(self, at: datetime, calendar: BusinessCalendar) -> timedelta:
        """Business time counted against the target by ``at`` (pauses excluded)."""
        end = at if self.stopped_at is None else min(at, self.stopped_at)
        spent = calendar.between(self.started_at, end)
        for start, stop in self.pauses:
            spent -= calendar.between(max(start, self.started_at), min(stop, end))
        if self.paused_since is not None:
            spent -= calendar.between(self.paused_since, end)
        return max(spent, _ZERO)

    def remaining(self, at: datetime, calendar: BusinessCalendar) -> timedelta:
        """Target minus :meth:`used` (negative once breached)."""
        return self.target - self.used(at, calendar)

    def reaches(self, amount: timedelta, calendar: BusinessCalendar) -> datetime | None:
        """The instant at which :meth:`used` reaches ``amount``, pauses so far taken into
        account; ``None`` while paused (nobody knows when the customer will reply)."""
        if self.paused_since is not None:
            return None
        left, cursor = amount, self.started_at
        for start, end in self.pauses:
            work = calendar.between(cursor, start)
            if work >= left:
                break
            left -= work
            cursor = max(cursor, end)
        return calendar.add(cursor, left)

    def deadline(self, calendar: BusinessCalendar) -> datetime | None:
        """When the whole target is used if nothing pauses it again; ``None`` while paused."""
        return self.reaches(self.target, calendar)

    def breach_at(self, calendar: BusinessCalendar) -> datetime | None:
        """The first instant at which the clock is breached; ``None`` while paused."""
        return self.reaches(self.target + _TICK, calendar)

    def warning_at(self, calendar: BusinessCalendar) -> datetime | None:
        """When the clock is about to breach (``warn_share`` of the target left);
        ``None`` while paused."""
        lead = self.target * self.warn_share.numerator / self.warn_share.denominator
        return self.reaches(self.target - lead, calendar)

    def breached(self, at: datetime, calendar: BusinessCalendar) -> bool:
        """Whether more than the target was used by ``at`` (or when it stopped)."""
        return self.used(at, calendar) > self.target

    def pause(self, at: datetime) -> SlaClock:
        """Stop counting from ``at`` (waiting on the customer)."""
        if not self.running or self.paused_since is not None:
            return self
        return attrs.evolve(self, paused_since=at)

    def resume(self, at: datetime) -> SlaClock:
        """Count again from ``at``; the paused span is never counted."""
        if self.paused_since is None:
            return self
        return attrs.evolve(self, pauses=(*self.pauses, (self.paused_since, at)), paused_since=None)

    def stop(self, at: datetime) -> SlaClock:
        """Stop for good at ``at``."""
        if not self.running:
            return self
        return attrs.evolve(self.resume(at), stopped_at=at)


@attrs.frozen(kw_only=True)
class ClockStatus:
    """A clock seen at an instant."""

    complaint_id: str
    clock: str
    deadline: datetime | None
    remaining: timedelta
    breached: bool
    about_to_breach: bool


@attrs.frozen(kw_only=True)
class SlaAlerts:
    """What one SLA run found: clocks about to breach, clocks that breached, and the
    complaints it escalated. Each warning and each breach is reported once."""

    at: datetime
    warnings: tuple[ClockStatus, ...] = ()
    breaches: tuple[ClockStatus, ...] = ()
    escalated: tuple[str, ...] = ()


# --- the complaint ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Step:
    """One line of a complaint's history."""

    transition: str
    from_state: ComplaintState | None
    to_state: ComplaintState
    actor: str
    role: Role
    at: datetime
    note: str = ""


@attrs.frozen(kw_only=True)
class Proposal:
    """A resolution the business department proposed: what is done, the goodwill points
    granted with the answer (0 for none) and catalogue rewards (a voucher, a gift) by
    reference, for the catalogue to issue. ``approved`` once QC approved it."""

    resolution: str
    goodwill_points: int = 0
    rewards: tuple[str, ...] = ()
    approved: bool = False


def _role(value: Any) -> Role:
    try:
        return value if isinstance(value, Role) else Role(value)
    except ValueError:
        raise InvalidArgument(f"role: {value!r} is not one of {[r.value for r in Role]}") from None


@attrs.frozen(kw_only=True)
class Complaint:
    """A registered complaint. Build with :meth:`file`; move with the transition methods,
    each of which returns a new complaint with one more history step."""

    id: str
    customer_id: CustomerId | None
    contact: str | None
    channel: str
    received_at: datetime
    category: str
    subcategory: str
    content: str
    remedy_requested: str
    severity: Severity | None
    priority: Priority
    sla: str
    state: ComplaintState
    history: tuple[Step, ...]
    clocks: tuple[SlaClock, ...]
    resume_state: ComplaintState | None = None
    proposal: Proposal | None = None
    goodwill_points: int = 0
    goodwill_rewards: tuple[str, ...] = ()
    goodwill_entry: str | None = None
    satisfaction: int | None = None
    closed_at: datetime | None = None
    reopened: int = 0

    @property
    def owner(self) -> str:
        """The storage partition: the customer id, or :data:`ANONYMOUS`."""
        return self.customer_id or ANONYMOUS

    @classmethod
    def file(
        cls,
        complaint_id: str,
        *,
        policy: ComplaintPolicy,
        channel: str,
        received_at: datetime,
        category: str,
        content: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        customer_id: CustomerId | None = None,
        contact: str | None = None,
        subcategory: str = "",
        remedy_requested: str = "",
        priority: Priority | str = Priority.NORMAL,
    ) -> Complaint:
        """Register a complaint (state ``received``) and start its SLA clocks."""
        complaint_id = identifier("complaint_id", complaint_id)
        at = aware("received_at", received_at)
        if customer_id is None and not contact:
            raise InvalidArgument("a complaint needs a customer_id or an anonymous contact")
        if customer_id is not None:
            identifier("customer_id", customer_id)
        policy.taxonomy.check(category, subcategory)
        level = _priority(priority)
        chosen = policy.sla_for(category, identifier("channel", channel), level)
        clocks = tuple(
            SlaClock(
                name=name,
                target=chosen.target(name).within,
                calendar=chosen.target(name).calendar,
                started_at=at,
                warn_share=chosen.warn_share,
            )
            for name in _CLOCKS
        )
        step = Step(
            transition="file",
            from_state=None,
            to_state=S.RECEIVED,
            actor=_actor(actor),
            role=_role(role),
            at=at,
        )
        return cls(
            id=complaint_id,
            customer_id=customer_id,
            contact=None
            if contact is None
            else label("contact", contact, max_len=MAX_LABEL_LENGTH),
            channel=channel,
            received_at=at,
            category=category,
            subcategory=subcategory,
            content=_text("content", content),
            remedy_requested=_text("remedy_requested", remedy_requested),
            severity=None,
            priority=level,
            sla=chosen.id,
            state=S.RECEIVED,
            history=(step,),
            clocks=clocks,
        )

    # --- the transitions ------------------------------------------------------------

    def acknowledge(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """Tell the customer the complaint was received; stops the acknowledge clock."""
        return self._step("acknowledge", actor, role, at, note, stop=("acknowledge",))

    def assess(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        severity: Severity | str,
        priority: Priority | str,
        policy: ComplaintPolicy,
        category: str | None = None,
        subcategory: str | None = None,
        note: str = "",
    ) -> Complaint:
        """The initial assessment: severity and priority (and a corrected category).
        The running clocks take the targets of the SLA policy that now applies."""
        stepped = self._step("assess", actor, role, at, note)
        level = _priority(priority)
        grade = _severity(severity)
        new_category = self.category if category is None else category
        new_sub = self.subcategory if subcategory is None else subcategory
        policy.taxonomy.check(new_category, new_sub)
        chosen = policy.sla_for(new_category, self.channel, level)
        clocks = tuple(
            _retarget(clock, chosen.target(clock.name), chosen.warn_share)
            for clock in stepped.clocks
        )
        return attrs.evolve(
            stepped,
            severity=grade,
            priority=level,
            category=new_category,
            subcategory=new_sub,
            sla=chosen.id,
            clocks=clocks,
        )

    def investigate(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """The business department takes the case."""
        return self._step("investigate", actor, role, at, note)

    def propose(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        resolution: str,
        goodwill_points: int = 0,
        rewards: tuple[str, ...] = (),
        policy: ComplaintPolicy,
        note: str = "",
    ) -> Complaint:
        """The business department proposes a resolution, with goodwill points or none,
        and catalogue rewards by reference (``rewards``, reward ids)."""
        stepped = self._step("propose", actor, role, at, note)
        if isinstance(goodwill_points, bool) or not isinstance(goodwill_points, int):
            raise InvalidAmount("goodwill_points", goodwill_points, "an int of zero or more")
        if goodwill_points < 0:
            raise InvalidAmount("goodwill_points", goodwill_points, "an int of zero or more")
        budget = policy.goodwill
        if goodwill_points and self.customer_id is None:
            raise InvalidArgument(
                "goodwill_points: an anonymous complaint has no account to credit"
            )
        if goodwill_points and budget is None:
            raise InvalidArgument("goodwill_points: the complaint policy has no goodwill budget")
        if (
            budget is not None
            and budget.per_complaint is not None
            and self.goodwill_points + goodwill_points > budget.per_complaint
        ):
            raise InvalidAmount(
                "goodwill_points",
                goodwill_points,
                f"at most {budget.per_complaint - self.goodwill_points} on this complaint",
            )
        return attrs.evolve(
            stepped,
            proposal=Proposal(
                resolution=_text("resolution", resolution),
                goodwill_points=goodwill_points,
                rewards=tuple(identifier("reward", reward) for reward in rewards),
            ),
        )

    def submit_for_review(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """Send the proposal to quality control."""
        return self._step("submit_for_review", actor, role, at, note)

    def approve(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        note: str = "",
        policy: ComplaintPolicy | None = None,
    ) -> Complaint:
        """Quality control approves the proposal: customer service may now respond.

        Under the QC rule's ``four_eyes`` (the default, also without a ``policy``) the
        actor who proposed the resolution may not approve it.
        """
        stepped = self._step("approve", actor, role, at, note)
        rule = QcRule() if policy is None else policy.qc
        proposer = self.proposer
        if rule.four_eyes and proposer is not None and _same_person(actor, proposer):
            raise IllegalTransition(
                self.id,
                self.state.value,
                "approve",
                f"{proposer!r} proposed it; a second person must approve it",
            )
        assert stepped.proposal is not None  # qc_review is entered from a proposal only
        return attrs.evolve(stepped, proposal=attrs.evolve(stepped.proposal, approved=True))

    def reject(self, *, actor: str, role: Role | str, at: datetime, note: str = "") -> Complaint:
        """Quality control sends the case back to the business department."""
        return attrs.evolve(self._step("reject", actor, role, at, note), proposal=None)

    def respond(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        policy: ComplaintPolicy,
        note: str = "",
    ) -> Complaint:
        """Customer service communicates the decision (stops the first-response clock)
        and the proposal's goodwill points count as granted (see :meth:`granted`).

        Refused while the proposal needs QC approval it does not have.
        """
        if (
            self.state is S.RESOLUTION_PROPOSED
            and self.proposal is not None
            and not self.proposal.approved
            and policy.qc.requires(self)
        ):
            raise IllegalTransition(
                self.id, self.state.value, "respond", "quality control must approve it first"
            )
        stepped = self._step("respond", actor, role, at, note, stop=("first_response",))
        proposal = self.proposal
        if proposal is None:  # pragma: no cover - respond leaves resolution_proposed only
            return stepped
        return attrs.evolve(
            stepped,
            goodwill_points=self.goodwill_points + proposal.goodwill_points,
            goodwill_rewards=(*self.goodwill_rewards, *proposal.rewards),
        )

    @property
    def proposer(self) -> str | None:
        """Who proposed the current resolution (``None`` when there is none)."""
        if self.proposal is None:
            return None
        return next(
            (step.actor for step in reversed(self.history) if step.transition == "propose"),
            None,
        )

    def granted(self, entry_id: str) -> Complaint:
        """The complaint with the ledger entry that paid its goodwill recorded."""
        return attrs.evolve(self, goodwill_entry=entry_id)

    def goodwill_taken_back(self, points: int) -> Complaint:
        """The complaint after a reversal clawed back ``points`` of its goodwill: they no
        longer count as granted (the report and the per-complaint limit see the rest)."""
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise InvalidAmount("points", points, "a positive int")
        if points > self.goodwill_points:
            raise InvalidAmount(
                "points", points, f"at most the {self.goodwill_points} granted on {self.id}"
            )
        return attrs.evolve(self, goodwill_points=self.goodwill_points - points)

    def reinvestigate(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """The customer does not accept the answer: back to the business department."""
        return attrs.evolve(self._step("reinvestigate", actor, role, at, note), proposal=None)

    def close(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        satisfaction: int | None = None,
        note: str = "",
    ) -> Complaint:
        """Close the case, recording the customer's satisfaction (1 to 5) if given."""
        stepped = self._step("close", actor, role, at, note, stop=_CLOCKS)
        if satisfaction is not None and (
            isinstance(satisfaction, bool)
            or not isinstance(satisfaction, int)
            or not 1 <= satisfaction <= 5
        ):
            raise InvalidAmount("satisfaction", satisfaction, "an int from 1 to 5")
        return attrs.evolve(stepped, satisfaction=satisfaction, closed_at=stepped.history[-1].at)

    def request_info(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """Ask the customer for information; every running clock pauses."""
        stepped = self._step("request_info", actor, role, at, note)
        return attrs.evolve(
            stepped,
            resume_state=self.state,
            clocks=tuple(clock.pause(stepped.history[-1].at) for clock in stepped.clocks),
        )

    def customer_replied(
        self, *, actor: str, role: Role | str, at: datetime, note: str = ""
    ) -> Complaint:
        """The customer answered: the clocks run again, the case goes back where it was."""
        stepped = self._step("customer_replied", actor, role, at, note)
        when = stepped.history[-1].at
        return attrs.evolve(
            stepped,
            resume_state=None,
            clocks=tuple(clock.resume(when) for clock in stepped.clocks),
        )

    def escalate(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        note: str = "",
        clock: str | None = None,
    ) -> Complaint:
        """Hand the case to a supervisor and raise its priority one level. ``clock``
        names the breached clock when the SLA batch escalates (it escalates once)."""
        stepped = self._step("escalate", actor, role, at, note)
        clocks = stepped.clocks
        if clock is not None:
            clocks = _mark_last(clocks, clock, escalated=True)
        return attrs.evolve(
            stepped,
            priority=self.priority.raised(),
            resume_state=self.resume_state if self.state is S.ESCALATED else self.state,
            clocks=clocks,
        )

    def resume(self, *, actor: str, role: Role | str, at: datetime, note: str = "") -> Complaint:
        """The supervisor hands the case back to where it was escalated from."""
        return attrs.evolve(self._step("resume", actor, role, at, note), resume_state=None)

    def reopen(
        self,
        *,
        actor: str,
        role: Role | str,
        at: datetime,
        policy: ComplaintPolicy,
        note: str = "",
    ) -> Complaint:
        """Reopen a closed case within the policy's reopen window; a new resolution
        clock starts."""
        when = aware("at", at)
        if (
            self.state is S.CLOSED
            and self.closed_at is not None
            and when - self.closed_at > policy.reopen_within
        ):
            raise IllegalTransition(
                self.id,
                self.state.value,
                "reopen",
                f"closed at {self.closed_at.isoformat()}, more than "
                f"{policy.reopen_within} before {when.isoformat()}",
            )
        stepped = self._step("reopen", actor, role, at, note)
        last = next(c for c in reversed(self.clocks) if c.name == "resolution")
        fresh = attrs.evolve(
            last,
            started_at=when,
            stopped_at=None,
            pauses=(),
            paused_since=None,
            warned=False,
            escalated=False,
        )
        return attrs.evolve(
            stepped,
            clocks=(*stepped.clocks, fresh),
            reopened=self.reopened + 1,
            closed_at=None,
            satisfaction=None,
            proposal=None,
        )

    def withdraw(self, *, actor: str, role: Role | str, at: datetime, note: str = "") -> Complaint:
        """The customer withdraws the complaint; every clock stops."""
        return self._step("withdraw", actor, role, at, note, stop=_CLOCKS)

    # --- clocks -----------------------------------------------------------------------

    def clock(self, name: str) -> SlaClock:
        """The current clock called ``name`` (after a reopen, the newest resolution one)."""
        for clock in reversed(self.clocks):
            if clock.name == name:
                return clock
        raise InvalidArgument(f"clock: {name!r} is not one of {list(_CLOCKS)}")

    def statuses(self, at: datetime, policy: ComplaintPolicy) -> tuple[ClockStatus, ...]:
        """Every current clock seen at ``at``."""
        when = aware("at", at)
        found = []
        for name in _CLOCKS:
            clock = self.clock(name)
            calendar = policy.calendar(clock.calendar)
            remaining = clock.remaining(when, calendar)
            lead = clock.target * clock.warn_share.numerator / clock.warn_share.denominator
            found.append(
                ClockStatus(
                    complaint_id=self.id,
                    clock=name,
                    deadline=clock.deadline(calendar),
                    remaining=remaining,
                    breached=remaining < _ZERO,
                    about_to_breach=clock.running
                    and clock.paused_since is None
                    and _ZERO <= remaining <= lead,
                )
            )
        return tuple(found)

    def next_due(self, policy: ComplaintPolicy) -> datetime | None:
        """When the SLA batch must look at the complaint next: the earliest warning not
        yet given or breach not yet escalated of a running, unpaused clock."""
        if not self.state.is_open:
            return None
        due: list[datetime] = []
        for name in _CLOCKS:
            clock = self.clock(name)
            if not clock.running or clock.paused_since is not None or clock.escalated:
                continue
            calendar = policy.calendar(clock.calendar)
            moment = clock.breach_at(calendar) if clock.warned else clock.warning_at(calendar)
            if moment is not None:
                due.append(moment)
        return min(due) if due else None

    def check_sla(
        self, at: datetime, policy: ComplaintPolicy, *, actor: str
    ) -> tuple[Complaint, SlaAlerts]:
        """What the SLA batch does at ``at``: warn once of each clock about to breach,
        and escalate once each clock that breached (to a supervisor, raising the
        priority; a complaint already escalated is escalated again). Paused and stopped
        clocks are left alone."""
        when = aware("at", at)
        complaint = self
        warnings: list[ClockStatus] = []
        breaches: list[ClockStatus] = []
        if not self.state.is_open:
            return self, SlaAlerts(at=when)
        for status in self.statuses(when, policy):
            clock = complaint.clock(status.clock)
            if not clock.running or clock.paused_since is not None or clock.escalated:
                continue
            if status.breached:
                breaches.append(status)
                complaint = complaint.warned(status.clock)
                step_at = max(when, complaint.history[-1].at)
                complaint = complaint.escalate(
                    actor=actor,
                    role=Role.SUPERVISOR,
                    at=step_at,
                    note=f"SLA {status.clock} breached",
                    clock=status.clock,
                )
            elif status.about_to_breach and not clock.warned:
                warnings.append(status)
                complaint = complaint.warned(status.clock)
        escalated = (self.id,) if breaches else ()
        return complaint, SlaAlerts(
            at=when, warnings=tuple(warnings), breaches=tuple(breaches), escalated=escalated
        )

    def redacted(self) -> Complaint:
        """The complaint without personal data (erasure): content, remedy asked,
        contact and step notes are emptied; the facts and the history stay."""
        return attrs.evolve(
            self,
            content="",
            remedy_requested="",
            contact=None,
            history=tuple(attrs.evolve(step, note="") for step in self.history),
        )

    def warned(self, clock: str) -> Complaint:
        """The complaint with ``clock``'s warning recorded as given."""
        return attrs.evolve(self, clocks=_mark_last(self.clocks, clock, warned=True))

    # --- the machinery ----------------------------------------------------------------

    def allowed(self, role: Role | str | None = None) -> tuple[str, ...]:
        """The transitions the table allows from the current state (for ``role``)."""
        who = None if role is None else _role(role)
        return tuple(
            name
            for name, (sources, _, roles) in TRANSITIONS.items()
            if self.state in sources and (who is None or who in roles)
        )

    def _step(
        self,
        transition: str,
        actor: str,
        role: Role | str,
        at: datetime,
        note: str,
        *,
        stop: tuple[str, ...] = (),
    ) -> Complaint:
        when = aware("at", at)
        who = _role(role)
        sources, target, roles = TRANSITIONS[transition]
        if self.state not in sources:
            raise IllegalTransition(
                self.id,
                self.state.value,
                transition,
                f"allowed from {sorted(s.value for s in sources)}",
            )
        if who not in roles:
            raise IllegalTransition(
                self.id,
                self.state.value,
                transition,
                f"role {who.value!r} may not; allowed: {sorted(r.value for r in roles)}",
            )
        if len(self.history) >= MAX_COMPLAINT_STEPS:
            raise ComplaintFull(self.id, transition, f"at most {MAX_COMPLAINT_STEPS} steps")
        last = self.history[-1].at
        if when < last:
            raise InvalidArgument(
                f"at: {when.isoformat()} is before the complaint's last step at {last.isoformat()}"
            )
        entered = target if target is not None else self.resume_state
        assert entered is not None  # customer_replied / resume only follow a remembered state
        step = Step(
            transition=transition,
            from_state=self.state,
            to_state=entered,
            actor=_actor(actor),
            role=who,
            at=when,
            note=_text("note", note),
        )
        clocks = tuple(
            clock.stop(when) if clock.name in stop and clock is self.clock(clock.name) else clock
            for clock in self.clocks
        )
        return attrs.evolve(self, state=entered, history=(*self.history, step), clocks=clocks)


def _retarget(clock: SlaClock, target: Target, warn_share: Fraction) -> SlaClock:
    """A running clock with a new target; a warning given under the old target is
    given again if the new one warrants it (an escalated breach stays escalated)."""
    if not clock.running or (clock.target, clock.calendar, clock.warn_share) == (
        target.within,
        target.calendar,
        warn_share,
    ):
        return clock
    return attrs.evolve(
        clock,
        target=target.within,
        calendar=target.calendar,
        warn_share=warn_share,
        warned=clock.escalated,
    )


def _mark_last(
    clocks: tuple[SlaClock, ...], name: str, *, warned: bool = False, escalated: bool = False
) -> tuple[SlaClock, ...]:
    index = max(i for i, clock in enumerate(clocks) if clock.name == name)
    return tuple(
        attrs.evolve(c, warned=c.warned or warned, escalated=c.escalated or escalated)
        if i == index
        else c
        for i, c in enumerate(clocks)
    )


def _priority(value: Any) -> Priority:
    try:
        return value if isinstance(value, Priority) else Priority(value)
    except ValueError:
        raise InvalidArgument(
            f"priority: {value!r} is not one of {[p.value for p in Priority]}"
        ) from None


def _severity(value: Any) -> Severity:
    try:
        return value if isinstance(value, Severity) else Severity(value)
    except ValueError:
        raise InvalidArgument(
            f"severity: {value!r} is not one of {[s.value for s in Severity]}"
        ) from None
