"""The subject-access export: everything stored about a member as one JSON document,
the counterpart of ``erase``.

The document gathers the member's profile, every account with its ledger entries and
lots, the member aggregate's documents (tier status and history, activity, metrics),
consents and notice state, and the member's records of every kind the personal-data
registry lists (redemptions, vouchers, complaints, survey responses, care actions,
notices, campaign participations and draws, referrals, outbox events...). The registry
says for each kind how the member's records are found, and refuses to export while a
kind does not say, so a new kind cannot be left out of the export unnoticed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyaltykit.domain import stored_value
from loyaltykit.domain.cards import card_to_record
from loyaltykit.domain.records import (
    account_to_record,
    customer_to_record,
    entry_to_record,
    lot_to_record,
)
from loyaltykit.formats.consent import CONSENT, consents_document, consents_from_document
from loyaltykit.formats.households import MEMBERSHIP
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER
from loyaltykit.formats.member_life import VELOCITY
from loyaltykit.formats.notices import NOTICE_STATE
from loyaltykit.service.codecs import existing
from loyaltykit.service.kernel import Kernel
from loyaltykit.service.personal import Subject
from loyaltykit.values import CustomerId, aware

__all__ = ["EXPORT_FORMAT", "Exports"]

EXPORT_FORMAT = "loyaltykit.subject-access/1"
"""The export document's ``format``: its shape is versioned like stored data."""


class Exports:
    """The subject-access export (right of access)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def export_member(self, customer_id: CustomerId, *, at: datetime) -> dict[str, Any]:
        """Everything stored about the member, as one JSON-compatible document (see the
        module's text and ``docs/concepts/personal-data.md``), read in one unit of work.
        ``at`` is the instant the export is made (written into it as ``exported_at``).

        ``json.dumps(loyalty.export_member("c-1", at=now))`` is the file to hand over.
        """
        when = aware("at", at)
        campaigns = tuple(
            sorted(
                {
                    campaign.id
                    for version in self.kernel.versions.versions
                    for campaign in version.program.campaigns
                }
            )
        )
        partners = tuple(
            sorted(
                {
                    partner.id
                    for version in self.kernel.versions.versions
                    for partner in version.program.partners
                }
            )
        )
        with self.kernel.reading() as uow:
            customer = existing(uow, customer_id)
            accounts = uow.ledger.accounts(customer_id)
            tier = uow.state.get(customer_id, TIER)
            consents = consents_from_document(uow.state.get(customer_id, CONSENT))
            document: dict[str, Any] = {
                "format": EXPORT_FORMAT,
                "customer_id": customer_id,
                "exported_at": when.isoformat(),
                "profile": customer_to_record(customer),
                "accounts": [account_to_record(account) for account in accounts],
                "ledger": {
                    account.point_type: [
                        entry_to_record(entry)
                        for entry in uow.ledger.entries(customer_id, account.point_type)
                    ]
                    for account in accounts
                },
                "lots": {
                    account.point_type: [
                        lot_to_record(lot)
                        for lot in uow.ledger.lots(customer_id, account.point_type)
                    ]
                    for account in accounts
                },
                "tier": {
                    "status": None if tier is None else tier.get("status"),
                    "history": [] if tier is None else list(tier.get("history", ())),
                },
                "activity": uow.state.get(customer_id, ACTIVITY),
                "metrics": uow.state.get(customer_id, METRICS),
                "consents": consents_document(consents)["history"],
                "notice_state": uow.state.get(customer_id, NOTICE_STATE),
                "velocity": uow.state.get(customer_id, VELOCITY),
                "household_membership": uow.state.get(customer_id, MEMBERSHIP),
                "cards": [card_to_record(card) for card in uow.cards.of_customer(customer_id)],
                "stored_value": [
                    {
                        "account": stored_value.account_to_record(account),
                        "entries": [
                            stored_value.entry_to_record(entry)
                            for entry in uow.stored_value.entries(account.code)
                        ],
                    }
                    for account in uow.stored_value.of_holder(customer_id)
                ],
                "records": self.kernel.personal.export(
                    Subject(
                        uow=uow, customer_id=customer_id, campaigns=campaigns, partners=partners
                    )
                ),
            }
        return document
