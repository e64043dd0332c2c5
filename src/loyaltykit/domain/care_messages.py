"""Care messages and their content rules (the source's 客户关怀 rules).

A care message is what an associate sends for a care action (a birthday greeting, a
welcome, "we miss you"). The source documents set rules for them: greetings (birthday,
holiday, anniversary, welcome) carry no advertising and no product launches, and every
greeting is signed with the store and the associate's name. :func:`care_message` builds
a message and checks those rules where it is built, so a message that breaks one is
never recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from loyaltykit.domain.care import CareAction
from loyaltykit.errors import ContentRuleBroken, InvalidArgument
from loyaltykit.values import frozen_texts, identifiers, text

__all__ = ["ADVERTISING", "GREETINGS", "CareMessage", "ContentRules", "care_message"]

GREETINGS = frozenset({"birthday", "holiday", "anniversary", "welcome"})
"""The care kinds whose messages are greetings."""

ADVERTISING = (
    "sale",
    "discount",
    "% off",
    "buy now",
    "shop now",
    "new product",
    "new arrival",
    "launch",
    "coupon",
    "promo",
    "促销",
    "折扣",
    "打折",
    "新品",
    "上市",
    "优惠",
    "满减",
    "抢购",
)
"""Words that mark advertising in a greeting (matched case-insensitively; a programme
may declare its own list)."""


def _words(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"content rules: advertising {value!r} is not a list of words")
    words = tuple(text("content rules advertising word", w, max_len=100).lower() for w in value)
    if any(not w.strip() for w in words):
        raise InvalidArgument("content rules: an advertising word is empty")
    return words


@attrs.frozen(kw_only=True)
class ContentRules:
    """What care messages must respect.

    ``greetings`` are the care kinds whose messages are greetings: they may carry no
    offers and none of the ``advertising`` words, and must be signed with the store and
    the associate's name when ``signed`` (the default).

    >>> for problem in ContentRules().problems("birthday", "Happy birthday! 20% off", "", "", ()):
    ...     print(problem)
    a greeting carries no advertising (found "% off")
    a greeting is signed with the store and the associate's name
    """

    greetings: frozenset[str] = attrs.field(default=GREETINGS, converter=frozen_texts)
    advertising: tuple[str, ...] = attrs.field(default=ADVERTISING, converter=_words)
    signed: bool = True

    def problems(
        self, kind: str, body: str, store: str, associate: str, offers: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Every rule a message of ``kind`` with this ``body``, signature and ``offers``
        breaks, in the order the rules are listed (empty when it keeps them all)."""
        if kind not in self.greetings:
            return ()
        found: list[str] = []
        lowered = body.lower()
        hits = [word for word in self.advertising if word in lowered]
        if hits:
            found.append(f'a greeting carries no advertising (found "{hits[0]}")')
        if offers:
            found.append(f"a greeting carries no offers (found {list(offers)})")
        if self.signed and not (store.strip() and associate.strip()):
            found.append("a greeting is signed with the store and the associate's name")
        return tuple(found)


@attrs.frozen(kw_only=True)
class CareMessage:
    """A care message as it goes out: the care action it is for, the ``body`` the
    associate wrote, the signature (``store``, ``associate``), any ``offers`` attached
    (reward ids), and :attr:`text`, the body with its signature."""

    customer_id: str
    action_id: str
    kind: str
    body: str
    store: str = ""
    associate: str = ""
    offers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The message as the member reads it: the body, then the signature."""
        if not (self.store or self.associate):
            return self.body
        signature = ", ".join(part for part in (self.associate, self.store) if part)
        return f"{self.body}\n— {signature}"

    def to_data(self) -> dict[str, Any]:
        """The notice data of the message."""
        return {
            "action_id": self.action_id,
            "kind": self.kind,
            "text": self.text,
            "store": self.store,
            "associate": self.associate,
            "offers": list(self.offers),
        }


_SPACE = re.compile(r"\s+")


def care_message(
    action: CareAction,
    body: str,
    *,
    store: str = "",
    associate: str = "",
    offers: Iterable[str] = (),
    rules: ContentRules | None = None,
) -> CareMessage:
    """The message for ``action``, checked against ``rules`` (the defaults when
    ``None``); raises :class:`~loyaltykit.errors.ContentRuleBroken` listing every rule it
    breaks.

    >>> from datetime import datetime, timezone
    >>> action = CareAction(customer_id="c-1", kind="birthday", id="birthday:2026",
    ...                     due_at=datetime(2026, 5, 1, tzinfo=timezone.utc))
    >>> print(care_message(action, "Happy birthday!", store="Jing'an", associate="Li Na").text)
    Happy birthday!
    — Li Na, Jing'an
    """
    body = text("body", body, max_len=2000)
    if not _SPACE.sub("", body):
        raise InvalidArgument("body: a care message needs some text")
    store = text("store", store, max_len=200, multiline=False).strip()
    associate = text("associate", associate, max_len=200, multiline=False).strip()
    attached = identifiers("offers", list(offers))
    problems = (rules or ContentRules()).problems(action.kind, body, store, associate, attached)
    if problems:
        raise ContentRuleBroken(action.id, problems)
    return CareMessage(
        customer_id=action.customer_id,
        action_id=action.id,
        kind=action.kind,
        body=body,
        store=store,
        associate=associate,
        offers=attached,
    )
