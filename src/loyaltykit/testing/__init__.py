"""Test support for loyaltykit and for people who write programs and backends with it.

- :func:`check_program` runs a battery of named properties against your programme;
- :mod:`loyaltykit.testing.strategies` has hypothesis strategies for every value a
  programme reads, and :func:`~loyaltykit.testing.strategies.for_program` derives them
  from your programme;
- :class:`LedgerMachine` and :class:`RedemptionMachine` are stateful machines you can run
  on your own storage backend;
- :class:`RecordingSender` is a notice sender that records what the relay hands it;
- ``pytest_plugins = ["loyaltykit.testing.pytest_plugin"]`` adds fixtures.
"""

from loyaltykit.testing.history import History, Outcome, Refund, Step
from loyaltykit.testing.program_check import (
    Broken,
    Counterexample,
    ProgramReport,
    PropertyResult,
    check_program,
)
from loyaltykit.testing.redemption_machine import RedemptionMachine
from loyaltykit.testing.senders import RecordingSender
from loyaltykit.testing.stateful import LedgerMachine, ledger_machine

__all__ = [
    "Broken",
    "Counterexample",
    "History",
    "LedgerMachine",
    "Outcome",
    "ProgramReport",
    "PropertyResult",
    "RecordingSender",
    "RedemptionMachine",
    "Refund",
    "Step",
    "check_program",
    "ledger_machine",
]
