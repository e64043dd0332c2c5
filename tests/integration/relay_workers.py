"""A relay that kills itself after publishing a few events, before marking any
(``python -m tests.integration.relay_workers DB BROKER NAME AFTER``)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from loyaltykit import Loyalty
from loyaltykit.domain.events import DomainEvent
from loyaltykit.relays import BrokerRelay, relay_for


def options(broker: str, name: str) -> dict[str, str]:
    """The relay's names for one test run: a stream and subjects, or an exchange."""
    if broker.startswith("nats"):
        return {"stream": name, "subject": f"{name}.events"}
    return {"exchange": name}


async def main(db: str, broker: str, name: str, after: int) -> None:
    relay = relay_for(broker, **options(broker, name))
    real = relay.publish
    sent = 0

    async def publish(event: DomainEvent) -> None:
        nonlocal sent
        await real(event)
        sent += 1
        if sent == after:  # acked by the broker, not yet marked published
            os.kill(os.getpid(), signal.SIGKILL)

    relay.publish = publish  # type: ignore[method-assign]
    loyalty = Loyalty(storage=db, outbox=True)
    async with relay:
        await BrokerRelay.run(relay, loyalty, limit=100, until_empty=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
