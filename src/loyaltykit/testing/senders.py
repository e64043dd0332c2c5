"""A :class:`~loyaltykit.NoticeSender` for tests: it records what it is given.

>>> sender = RecordingSender()
>>> sender.sent
[]
"""

from __future__ import annotations

from loyaltykit.domain.notices import Notice
from loyaltykit.values import codes

__all__ = ["RecordingSender"]


class RecordingSender:
    """Keeps every notice it is asked to send, in order; ``fail_on`` makes ``send``
    raise for notices of these template keys (to test a relay that fails half-way)."""

    def __init__(self, *, fail_on: frozenset[str] = frozenset()) -> None:
        self.sent: list[Notice] = []
        self.fail_on = codes("fail_on", fail_on)

    def send(self, notice: Notice) -> None:
        """Record ``notice`` (or raise ``ConnectionError`` for a template in ``fail_on``)."""
        if notice.template in self.fail_on:
            raise ConnectionError(f"RecordingSender: refusing {notice.template!r} (fail_on)")
        self.sent.append(notice)

    def templates(self) -> list[str]:
        """The template keys sent, in order."""
        return [notice.template for notice in self.sent]
