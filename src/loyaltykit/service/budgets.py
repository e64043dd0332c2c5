"""Budgets that paid a credit get back what a reversal claws back of it."""

from __future__ import annotations

from loyaltykit.domain.ledger import Entry
from loyaltykit.service.campaigns import give_back
from loyaltykit.service.complaints import ComplaintCommands
from loyaltykit.storage.base import UnitOfWork

__all__ = ["Budgets"]


class Budgets:
    """Every budget a credit can be paid from: a campaign's, the complaint goodwill budget.

    The ledger's reversal calls :meth:`give_back` for each credit it clawed back (in the
    reversal's unit of work); a new kind of budget is added here, in one place.
    """

    def __init__(self, complaints: ComplaintCommands) -> None:
        self.complaints = complaints

    def give_back(self, uow: UnitOfWork, entry: Entry) -> None:
        """Return what the latest reversal of ``entry`` clawed back to its budget."""
        give_back(uow, entry)
        self.complaints.give_back_goodwill(uow, entry)
