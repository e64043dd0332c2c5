"""Consent: which channels a member may be reached on (push, SMS, mail, social...).

Consent is per channel and explicit: a member is reached on a channel only after opting
in to it; opting out or unsubscribing (from a link in a message) stops it until they
opt in again. Every notice honours it: the relay withholds a notice for a channel
without consent and records why (:func:`refusal`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import identifier

__all__ = ["CHANNELS", "Consent", "ConsentState", "Consents", "refusal"]

CHANNELS = ("push", "sms", "mail", "social")
"""The channels the source documents name; a programme may use others (any identifier)."""

_KEPT = 50  # changes kept per member, newest last: consent changes are rare


class ConsentState(enum.Enum):
    """A channel's consent: ``opt_in`` (the member agreed), ``opt_out`` (they said no),
    ``unsubscribed`` (they used an unsubscribe link or reply)."""

    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    UNSUBSCRIBED = "unsubscribed"


def _channel(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("channel", value)


def _source(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 200 or "\n" in value:
        raise InvalidArgument(f"source: {value!r} is not one line of at most 200 characters")


@attrs.frozen(kw_only=True)
class Consent:
    """One change of one channel's consent: its new ``state``, when, and where it came
    from (``source``: "sign-up form", "sms reply STOP", the message's id)."""

    channel: str = attrs.field(validator=_channel)
    state: ConsentState
    at: datetime
    source: str = attrs.field(default="", validator=_source)

    @property
    def granted(self) -> bool:
        """Whether the member may be reached on the channel."""
        return self.state is ConsentState.OPT_IN


@attrs.frozen
class Consents:
    """A member's consent history, oldest first; the latest change per channel counts.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> consents = Consents().changed(Consent(channel="sms", state=ConsentState.OPT_IN, at=at))
    >>> consents.granted("sms"), consents.granted("mail")
    (True, False)
    """

    history: tuple[Consent, ...] = ()

    def changed(self, consent: Consent) -> Consents:
        """The history with one more change (the oldest beyond what is kept dropped, never
        the latest of a channel)."""
        history = (*self.history, consent)
        while len(history) > _KEPT:
            latest = self.current()
            oldest = next((c for c in history if latest.get(c.channel) is not c), None)
            if oldest is None:
                break
            history = tuple(c for c in history if c is not oldest)
        return Consents(history)

    def current(self) -> Mapping[str, Consent]:
        """The latest change per channel."""
        found: dict[str, Consent] = {}
        for consent in self.history:
            found[consent.channel] = consent
        return found

    def granted(self, channel: str) -> bool:
        """Whether the member may be reached on ``channel``."""
        latest = self.current().get(channel)
        return latest is not None and latest.granted

    def channels(self) -> tuple[str, ...]:
        """The channels the member may be reached on, sorted."""
        return tuple(sorted(c for c, consent in self.current().items() if consent.granted))


def refusal(consents: Consents, channel: str) -> str | None:
    """Why a notice must not go out on ``channel`` (``None`` when it may).

    >>> refusal(Consents(), "sms")
    'no consent for sms'
    """
    latest = consents.current().get(channel)
    if latest is None:
        return f"no consent for {channel}"
    if latest.granted:
        return None
    how = "unsubscribed from" if latest.state is ConsentState.UNSUBSCRIBED else "opted out of"
    via = f" ({latest.source})" if latest.source else ""
    return f"{how} {channel} at {latest.at.isoformat()}{via}"


def consents_of(changes: Iterable[Consent]) -> Consents:
    """A member's consents from their changes, oldest first."""
    return Consents(tuple(changes))
