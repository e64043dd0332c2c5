"""Customer commands: enrolment, profile, status, erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from loyaltykit.domain.customer import Customer, Profile
from loyaltykit.errors import CustomerAlreadyExists
from loyaltykit.service.codecs import customer_codec, existing
from loyaltykit.service.commands import (
    CloseAccount,
    CommandValue,
    Enroll,
    Erase,
    Reactivate,
    Suspend,
    UpdateProfile,
)
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.service.referrals import check_referral
from loyaltykit.storage.base import Scrubbing
from loyaltykit.values import CustomerId

__all__ = ["CustomerCommands"]


class CustomerCommands:
    """Customer commands: enrolment, profile, status, erasure."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

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
        directly or not, by this member (a cycle). An id already enrolled under another
        key is :class:`~loyaltykit.errors.CustomerAlreadyExists`.
        """
        command = Enroll(
            customer_id=customer_id,
            at=at,
            idempotency_key=idempotency_key,
            profile=profile,
            referred_by=referred_by,
        )
        return self.kernel.execute(command, self._enroll, customer_codec(command.owner))

    def _enroll(self, work: Work) -> Customer:
        command = work.command
        assert isinstance(command, Enroll)
        customer = Customer(
            id=command.customer_id,
            enrolled_at=command.at,
            profile=command.profile,
            referred_by=command.referred_by,
        )
        if work.uow.customers.get(customer.id) is not None:
            raise CustomerAlreadyExists(customer.id)
        if command.referred_by is not None:
            check_referral(work.uow, customer, command.referred_by)  # unknown, self, cycle
        work.uow.customers.add(customer)
        return customer

    def customer(self, customer_id: CustomerId) -> Customer:
        """The customer with this id; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
        with self.kernel.reading() as uow:
            return existing(uow, customer_id)

    def _change_customer(
        self, command: CommandValue, change: Callable[[Customer], Customer]
    ) -> Customer:
        def handler(work: Work) -> Customer:
            changed = change(work.customer(command.owner))
            work.uow.customers.update(changed)
            if isinstance(command, Erase):
                self.kernel.personal.erase(work.uow, command.owner)
            return changed

        return self.kernel.execute(command, handler, customer_codec(command.owner))

    def update_profile(
        self, customer_id: CustomerId, profile: Profile, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Replace the customer's profile (keep data current, 定期更新)."""
        command = UpdateProfile(
            customer_id=customer_id, profile=profile, at=at, idempotency_key=idempotency_key
        )
        return self._change_customer(command, lambda c: c.with_profile(command.profile))

    def suspend(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Put the customer on hold: earning continues, redeeming and transfers stop."""
        command = Suspend(customer_id=customer_id, at=at, idempotency_key=idempotency_key)
        return self._change_customer(command, Customer.suspended)

    def reactivate(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Lift a suspension."""
        command = Reactivate(customer_id=customer_id, at=at, idempotency_key=idempotency_key)
        return self._change_customer(command, Customer.reactivated)

    def close_account(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Close the membership; the ledger is kept and can still be corrected."""
        command = CloseAccount(customer_id=customer_id, at=at, idempotency_key=idempotency_key)
        return self._change_customer(command, Customer.closed)

    def erase(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Remove the customer's personal data (right to erasure); the ledger stays whole.

        Every record kind the personal-data registry lists as holding personal data is
        redacted, and so are the stored outcomes of the commands whose outcomes hold
        some; replaying one of them afterwards returns the customer as they are now.
        """
        command = Erase(customer_id=customer_id, at=at, idempotency_key=idempotency_key)
        erased = self._change_customer(command, lambda customer: customer.erased(command.at))
        # the replaced profile must not stay readable in the backend's files (SQLite's
        # WAL); inside a batch nothing is committed yet, so the next erase scrubs it
        storage = self.kernel.storage
        if not self.kernel.in_batch and isinstance(storage, Scrubbing):
            storage.scrub()
        return erased
