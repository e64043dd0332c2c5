"""Velocity rules as a guard of the command kernel: counted per member under the
member's lock, in the command's unit of work; a command beyond a rule is refused (the
flag, and a suspension, kept in a unit of work of their own) or let through flagged."""

from __future__ import annotations

import hashlib

from loyaltykit.domain.customer import SPENDING_STATUSES, CustomerStatus
from loyaltykit.errors import VelocityExceeded
from loyaltykit.formats.member_life import FLAG, VELOCITY, flag_from_record, flag_to_record
from loyaltykit.policy.program import Program
from loyaltykit.policy.velocity import Breach, Flag, breaches
from loyaltykit.service.codecs import existing
from loyaltykit.service.kernel import Kernel, Refused, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId

__all__ = ["VelocityGuard"]


class VelocityGuard:
    """The programme's velocity rules, applied to every command they count."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        kernel.guards.append(self)

    def guards(self, program: Program) -> bool:
        """Whether ``program`` declares velocity rules."""
        return bool(program.velocity.rules)

    def check(self, work: Work) -> None:
        """Count the command for its member; refuse it, or flag the member, beyond a
        rule."""
        command, program = work.command, work.program
        if not program.velocity.counting(command.name):
            return
        customer_id = command.owner
        spends = any(rule.commands != "earn" for rule in program.velocity.counting(command.name))
        if spends and work.customer(customer_id).status not in SPENDING_STATUSES:
            return  # the command itself refuses a member on hold: no count, no flag
        uow = work.uow
        stored = uow.state.get(customer_id, VELOCITY) or {}
        counts = {rule: (entry["period"], int(entry["count"])) for rule, entry in stored.items()}
        updated, found = breaches(program.velocity, command.name, counts, command.at, program.zone)
        refusing = [b for b in found if b.rule.action != "flag"]
        if refusing:
            flags = [self._flag(work, breach) for breach in found]
            suspend = any(b.rule.action == "suspend" for b in refusing)

            def trace(uow: UnitOfWork) -> None:
                self._keep(uow, customer_id, flags, suspend=suspend)

            first = refusing[0]
            raise Refused(
                VelocityExceeded(customer_id, first.rule.id, first.reason, suspended=suspend),
                trace,
            )
        document = dict(stored)
        for rule, (period, value) in updated.items():
            document[rule] = {"period": period, "count": value}
        uow.state.put(customer_id, VELOCITY, document)
        if found:
            self._write(uow, [self._flag(work, breach) for breach in found])

    @staticmethod
    def _flag(work: Work, breach: Breach) -> Flag:
        command = work.command
        digest = hashlib.sha256(command.idempotency_key.encode()).hexdigest()[:16]
        return Flag(
            customer_id=command.owner,
            id=f"{breach.period}:{breach.rule.id}:{digest}"[:128],
            rule=breach.rule.id,
            period=breach.period,
            count=breach.count,
            at_most=breach.rule.at_most,
            command=command.name,
            idempotency_key=command.idempotency_key,
            at=command.at,
            action=breach.rule.action,
            reason=breach.reason,
        )

    def _keep(
        self, uow: UnitOfWork, customer_id: CustomerId, flags: list[Flag], *, suspend: bool
    ) -> None:
        customer = uow.customers.get(customer_id, for_update=True)
        if customer is None:  # pragma: no cover - the command held its lock a moment ago
            return
        self._write(uow, flags)
        if suspend and customer.status is CustomerStatus.ACTIVE:
            uow.customers.update(customer.suspended())
            payload = {"customer_id": customer_id, "status": "suspended", "reason": flags[0].rule}
            self.kernel.emit(uow, customer_id, "suspend", flags[0].at, None, payload)

    def _write(self, uow: UnitOfWork, flags: list[Flag]) -> None:
        for flag in flags:
            record = flag_to_record(flag)
            uow.records.put(flag.customer_id, FLAG, flag.id, record)
            self.kernel.emit(uow, flag.customer_id, FLAG, flag.at, flag.idempotency_key, record)

    def flags(self, customer_id: CustomerId) -> tuple[Flag, ...]:
        """The member's velocity flags, oldest period first."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            stored = uow.records.of_owner(customer_id, FLAG)
        return tuple(
            sorted((flag_from_record(r.document) for r in stored), key=lambda f: (f.at, f.id))
        )
