"""Customer commands: enrolment, profile, status, erasure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.customer import (
    Customer,
    Profile,
)
from loyaltykit.domain.records import (
    customer_to_record,
    profile_to_record,
)
from loyaltykit.errors import (
    InvalidArgument,
)
from loyaltykit.service.pipeline import (
    CUSTOMER_COMMANDS,
    Pipeline,
)
from loyaltykit.service.referrals import check_referral
from loyaltykit.storage.base import Scrubbing, UnitOfWork
from loyaltykit.values import (
    CustomerId,
    aware,
    identifier,
)

__all__ = ["CustomerCommands"]


class CustomerCommands(Pipeline):
    """Customer commands: enrolment, profile, status, erasure."""

    # --- customers ------------------------------------------------------------------

    def enroll(
        self,
        customer_id: CustomerId,
        *,
        at: datetime,
        idempotency_key: str,
        profile: Profile | None = None,
        referred_by: CustomerId | None = None,
    ) -> Customer:
        """Enrol a new member; ``referred_by`` links the member who referred them.

        A referral link is refused with :class:`~loyaltykit.errors.ReferralRefused` when
        the referrer is the same person (same id, phone or e-mail) or was referred,
        directly or not, by this member (a cycle).
        """
        command = self._command(at, idempotency_key)
        customer = Customer(
            id=identifier("customer id", customer_id),
            enrolled_at=command.at,
            profile=Profile() if profile is None else profile,
            referred_by=referred_by,
        )

        def action(uow: UnitOfWork, _: dict[CustomerId, Customer]) -> Customer:
            if uow.customers.get(customer.id) is not None:
                raise InvalidArgument(
                    f"customer {customer.id!r} is already enrolled; enrolling again needs "
                    f"the first enrolment's idempotency key, not {idempotency_key!r}"
                )
            if referred_by is not None:
                check_referral(uow, customer, referred_by)  # unknown, self, cycle
            uow.customers.add(customer)
            return customer

        arguments = {"customer": customer_to_record(attrs.evolve(customer, enrolled_at=command.at))}
        del arguments["customer"]["enrolled_at"]
        return self._customer_command(
            "enroll", customer.id, idempotency_key, arguments, action, at=command.at, lock=False
        )

    def customer(self, customer_id: CustomerId) -> Customer:
        """The customer with this id; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
        return self._stored_customer(customer_id)

    def _change_customer(
        self,
        name: str,
        customer_id: CustomerId,
        change: Callable[[Customer], Customer],
        arguments: Mapping[str, Any],
        *,
        at: datetime,
        idempotency_key: str,
    ) -> Customer:
        command = self._command(at, idempotency_key)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Customer:
            changed = change(customers[customer_id])
            uow.customers.update(changed)
            if name == "erase":
                uow.idempotency.redact(customer_id, CUSTOMER_COMMANDS)
                self._erase_records(uow, customer_id)
            return changed

        return self._customer_command(
            name, customer_id, idempotency_key, arguments, action, at=command.at
        )

    def update_profile(
        self, customer_id: CustomerId, profile: Profile, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Replace the customer's profile (keep data current, 定期更新)."""
        if not isinstance(profile, Profile):
            raise InvalidArgument(f"profile: {profile!r} is not a loyaltykit.Profile")
        return self._change_customer(
            "update_profile",
            customer_id,
            lambda customer: customer.with_profile(profile),
            {"profile": profile_to_record(profile)},
            at=at,
            idempotency_key=idempotency_key,
        )

    def suspend(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Put the customer on hold: earning continues, redeeming and transfers stop."""
        return self._change_customer(
            "suspend", customer_id, Customer.suspended, {}, at=at, idempotency_key=idempotency_key
        )

    def reactivate(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Lift a suspension."""
        return self._change_customer(
            "reactivate",
            customer_id,
            Customer.reactivated,
            {},
            at=at,
            idempotency_key=idempotency_key,
        )

    def close_account(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Close the membership; the ledger is kept and can still be corrected."""
        return self._change_customer(
            "close", customer_id, Customer.closed, {}, at=at, idempotency_key=idempotency_key
        )

    def erase(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Remove the customer's personal data (right to erasure); the ledger stays whole.

        Stored outcomes of earlier customer commands are redacted too; replaying one of
        them afterwards returns the customer as they are now.
        """
        when = aware("at", at)
        erased = self._change_customer(
            "erase",
            customer_id,
            lambda customer: customer.erased(when),
            {},
            at=at,
            idempotency_key=idempotency_key,
        )
        # the replaced profile must not stay readable in the backend's files (SQLite's
        # WAL); inside a batch nothing is committed yet, so the next erase scrubs it
        if self._batch.get() is None and isinstance(self.storage, Scrubbing):
            self.storage.scrub()
        return erased
