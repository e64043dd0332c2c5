"""The service layer: the command kernel, commands as values, one plain class per area,
and the :class:`Loyalty` facade composing them (see ``docs/architecture.md``).

Each mutating command runs in one unit of work: lock the customer, check the
idempotency key, bring the account up to date (settle lots that fell due), ask the
domain, save, record the outcome under the key, commit. A command that raises changes
nothing; replaying a key returns the first outcome and changes nothing.
"""

from __future__ import annotations

from loyaltykit.service.facade import Loyalty

__all__ = ["Loyalty"]
