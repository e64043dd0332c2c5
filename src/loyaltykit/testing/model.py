"""A deliberately plain reference model of the ledger, for stateful tests.

It keeps lots as dicts in lists and does the arithmetic the obvious way, written
apart from :mod:`loyaltykit.domain.ledger`. The stateful machine drives both with the
same commands and compares balances after every step.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from math import floor
from typing import Any

__all__ = ["ModelError", "ReferenceLedger"]

_NEVER = (1, 0.0)


class ModelError(Exception):
    """The model refuses the command; carries the kind of refusal."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class ReferenceLedger:
    """Balances of one point type for a few customers, in plain Python."""

    def __init__(self, *, negative_balance: bool) -> None:
        self.negative_balance = negative_balance
        self.lots: dict[str, list[dict[str, Any]]] = {}
        self.deficit: dict[str, int] = {}
        self.commands: dict[tuple[str, str], dict[str, Any]] = {}
        self._serial = 0

    def add_customer(self, customer: str) -> None:
        self.lots[customer] = []
        self.deficit[customer] = 0

    # --- queries ---------------------------------------------------------------------

    def available(self, customer: str) -> int:
        released: int = sum(lot["remaining"] for lot in self.lots[customer] if not lot["pending"])
        return released - self.deficit[customer]

    def pending(self, customer: str) -> int:
        pending: int = sum(lot["remaining"] for lot in self.lots[customer] if lot["pending"])
        return pending

    # --- time ------------------------------------------------------------------------

    def settle(self, customer: str, at: datetime) -> None:
        events = []
        for lot in self.lots[customer]:
            start, end = lot["available_from"], lot["expires_at"]
            releasable = start is not None and start <= at and (end is None or start < end)
            if lot["pending"] and releasable:
                events.append((start, 0, self._order(lot), lot))
            if lot["remaining"] > 0 and end is not None and end <= at:
                events.append((end, 1, self._order(lot), lot))
        events.sort(key=lambda event: event[:3])
        for _, action, _, lot in events:
            if action == 0:
                lot["pending"] = False
                self._repay(customer, lot)
            elif lot["remaining"] > 0:
                lot["expired"] += lot["remaining"]
                lot["remaining"] = 0

    @staticmethod
    def _order(lot: dict[str, Any]) -> tuple[Any, ...]:
        end = lot["expires_at"]
        return (
            end is None,
            end.timestamp() if end else 0.0,
            lot["earned_at"].timestamp(),
            lot["serial"],
        )

    def _repay(self, customer: str, lot: dict[str, Any]) -> None:
        payment = min(self.deficit[customer], lot["remaining"])
        lot["remaining"] -= payment
        self.deficit[customer] -= payment

    def _spendable(self, customer: str, at: datetime) -> list[dict[str, Any]]:
        lots = [
            lot
            for lot in self.lots[customer]
            if not lot["pending"]
            and lot["remaining"] > 0
            and (lot["expires_at"] is None or lot["expires_at"] > at)
        ]
        return sorted(lots, key=self._order)

    # --- commands --------------------------------------------------------------------

    def credit(
        self,
        customer: str,
        points: int,
        at: datetime,
        *,
        expires_at: datetime | None = None,
        available_from: datetime | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        self.settle(customer, at)
        self._serial += 1
        pending = available_from is not None and available_from > at
        lot = {
            "serial": self._serial,
            "amount": points,
            "remaining": points,
            "earned_at": at,
            "expires_at": expires_at,
            "available_from": available_from if pending else None,
            "pending": pending,
            "expired": 0,
            "withdrawn": 0,
            "forgiven": 0,
            "shortfall": 0,
        }
        self.lots[customer].append(lot)
        if not pending:
            self._repay(customer, lot)
        if key is not None:
            self.commands[(customer, key)] = {
                "kind": "credit",
                "lot": lot,
                "amount": points,
                "done": Fraction(0),
            }
        return lot

    def debit(
        self, customer: str, points: int, at: datetime, *, key: str | None = None
    ) -> list[tuple[dict[str, Any], int]]:
        self.settle(customer, at)
        if points > self.available(customer):
            raise ModelError("insufficient")
        taken: list[tuple[dict[str, Any], int]] = []
        left = points
        for lot in self._spendable(customer, at):
            if left == 0:
                break
            part = min(left, lot["remaining"])
            lot["remaining"] -= part
            left -= part
            taken.append((lot, part))
        if key is not None:
            self.commands[(customer, key)] = {
                "kind": "debit",
                "taken": taken,
                "amount": points,
                "done": Fraction(0),
                "restored": {},
            }
        return taken

    def transfer(self, sender: str, receiver: str, points: int, at: datetime) -> None:
        self.settle(receiver, at)
        taken = self.debit(sender, points, at)
        for lot, part in taken:
            self.credit(receiver, part, at, expires_at=lot["expires_at"])

    def reverse(self, customer: str, key: str, portion: Fraction, at: datetime) -> None:
        command = self.commands.get((customer, key))
        if command is None:
            raise ModelError("unknown")
        if command["done"] + portion > 1:
            raise ModelError("over")
        before, after = command["done"], command["done"] + portion
        target = floor(command["amount"] * after) - floor(command["amount"] * before)
        command["done"] = after
        self.settle(customer, at)
        if command["kind"] == "credit":
            self._claw_back(customer, command["lot"], target, at)
        else:
            self._restore(customer, command, target, at)
        self.settle(customer, at)

    def _claw_back(self, customer: str, lot: dict[str, Any], target: int, at: datetime) -> None:
        take = min(target, lot["remaining"])
        lot["remaining"] -= take
        lot["withdrawn"] += take
        forgive = min(target - take, lot["expired"] - lot["forgiven"])
        lot["forgiven"] += forgive
        charge = target - take - forgive
        for other in self._spendable(customer, at):
            if charge == 0:
                break
            if other is lot:
                continue
            part = min(charge, other["remaining"])
            other["remaining"] -= part
            charge -= part
        if self.negative_balance:
            self.deficit[customer] += charge
        else:
            lot["shortfall"] += charge

    def _restore(self, customer: str, command: dict[str, Any], target: int, at: datetime) -> None:
        left = target
        given: list[dict[str, Any]] = []
        for lot, part in reversed(command["taken"]):
            if left == 0:
                break
            still_out = part - command["restored"].get(id(lot), 0)
            capacity = (
                lot["amount"]
                - lot["remaining"]
                - lot["expired"]
                - lot["withdrawn"]
                - lot["shortfall"]
            )
            give = max(0, min(left, still_out, capacity))
            left -= min(left, still_out)
            if give:
                lot["remaining"] += give
                command["restored"][id(lot)] = command["restored"].get(id(lot), 0) + give
                given.append(lot)
        for lot in sorted(given, key=self._order):
            spendable = lot["expires_at"] is None or lot["expires_at"] > at
            if spendable:
                self._repay(customer, lot)
