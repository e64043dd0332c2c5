"""Code run in worker processes by the concurrency and crash tests (importable by them)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from loyaltykit import Loyalty, Program, RedemptionLimit, Reward, RewardCatalog
from loyaltykit.errors import InsufficientPoints, OutOfStock
from loyaltykit.testing.races import race_in_processes

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)


def run_all(target: Any, url: str, count: int, *, timeout: float = 120) -> list[str]:
    """Start ``count`` processes of ``target(url, barrier, number, results)`` at once,
    wait for each one's outcome and exit; the outcomes, sorted."""
    return race_in_processes(target, (url,), count, timeout=timeout)


def redeem(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then try to redeem 10 points with this worker's own key."""
    loyalty = Loyalty(storage=url)
    barrier.wait()
    try:
        loyalty.redeem_points("shared", 10, at=T0, idempotency_key=f"redeem-{number}")
        results.put("ok")
    except InsufficientPoints:
        results.put("refused")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def flash_program() -> Program:
    """A flash redemption (抢兑): 3 units, opening at T0, one per member."""
    flash = Reward(
        id="flash",
        kind="gift",
        price=100,
        stock=3,
        available_from=T0,
        member_limits=(RedemptionLimit(count=1, period="lifetime"),),
    )
    return Program(catalog=RewardCatalog.of(flash))


def grab(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then try to redeem the flash reward for member ``number``."""
    loyalty = Loyalty(flash_program(), storage=url)
    barrier.wait()
    try:
        loyalty.redeem(f"m{number}", "flash", at=T0, idempotency_key="grab")
        results.put("ok")
    except OutOfStock:
        results.put("sold out")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def replay(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then all send the same command with the same key."""
    loyalty = Loyalty(storage=url)
    barrier.wait()
    try:
        receipt = loyalty.earn("shared", 7, at=T0, idempotency_key="the-same-key")
        results.put("replayed" if receipt.replayed else "first")
    except Exception as error:
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def batch(url: str, count: int, kill_after: int | None) -> None:
    """Run ``count`` commands with fixed keys; SIGKILL ourselves in the middle of one."""
    loyalty = Loyalty(storage=url)
    for n in range(count):
        at = T0 + timedelta(minutes=n)
        if kill_after is not None and n == kill_after:
            _die_before_the_next_commit(loyalty)
        if n % 4 == 3:
            with contextlib.suppress(InsufficientPoints):
                loyalty.redeem_points("crash", 15, at=at, idempotency_key=f"batch-{n}")
        else:
            loyalty.earn("crash", 10, at=at, idempotency_key=f"batch-{n}")
    loyalty.close()


def _die_before_the_next_commit(loyalty: Loyalty) -> None:
    """SIGKILL this process inside the next unit of work, after its writes, before commit."""
    original = loyalty.storage.unit_of_work

    def dying() -> Any:
        unit = original()

        def kill_instead() -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        unit.commit = kill_instead  # type: ignore[method-assign]
        return unit

    loyalty.storage.unit_of_work = dying  # type: ignore[method-assign]


if __name__ == "__main__":  # pragma: no cover - run as a script by the crash test
    batch(sys.argv[1], int(sys.argv[2]), None if sys.argv[3] == "none" else int(sys.argv[3]))


def enroll(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then send the same enrolment with the same key."""
    loyalty = Loyalty(storage=url)
    barrier.wait()
    try:
        customer = loyalty.enroll("twin", at=T0, idempotency_key="enroll-twin")
        results.put(f"enrolled {customer.id} at {customer.enrolled_at.isoformat()}")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def initialise(url: str, barrier: Any, number: int, results: Any) -> None:
    """Wait for every worker, then run ``loyaltykit init`` and open the database, as a
    service starting on several machines at once would."""
    from loyaltykit.storage.sql import upgrade

    barrier.wait()
    try:
        upgrade(url)
        with Loyalty(storage=url) as loyalty:
            loyalty.enroll(f"c-{number}", at=T0, idempotency_key=f"enroll-{number}")
        results.put("ok")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
