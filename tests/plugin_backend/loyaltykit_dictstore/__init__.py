"""A third-party storage backend, as a plugin author would ship it.

``dictstore://`` keeps everything in memory like the reference backend, and counts the
units of work it opened: enough to show that the registry loads plugins by URL scheme
and that a plugin runs loyaltykit's conformance suite unchanged.
"""

from __future__ import annotations

from loyaltykit.storage.memory import MemoryStorage, MemoryUnitOfWork


class DictStorage(MemoryStorage):
    """The plugin's backend."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    @classmethod
    def from_url(cls, url: str) -> DictStorage:
        return cls()

    def unit_of_work(self) -> MemoryUnitOfWork:
        self.opened += 1
        return super().unit_of_work()
