"""Does a command slow down as an account ages? Earn into one account, band by band; then
age one member through ``--days`` purchase days on memory, SQLite and PostgreSQL.

Each band of ``--band`` earns runs in one batch; the rate of the last band is compared with
the first one's in the same run (the machine is shared: only the ratio means much). A
flat ratio says a command's reads do not walk the account's history.

The purchase part records one purchase a day for one member (3,000 days by default, each
one its own command) and compares the median ``record_purchase`` time (wall clock, and
CPU time of this process) of the last ``--purchase-band`` days with the first ones'
(medians: a disturbed command does not move them), and prints the size of the member's
stored metric history after each band. The history keeps the days the programme reads
(a rolling 12 months here, 16 months with the analytics' reach), so its size stops
growing after that; a flat ratio says a purchase's work does not grow with the member's
age. The last band is also compared with the band from the middle day on: by then the
history holds as many months as it ever will and the member's points (six months) expire
daily, so that ratio says whether anything still grows with age. PostgreSQL runs when
``--postgres`` or ``LOYALTYKIT_TEST_POSTGRES_URL`` names a server (``benchmarks/run.py
--databases`` passes it on).

    .venv/bin/python benchmarks/aging.py                      # SQLite file
    .venv/bin/python benchmarks/aging.py --url postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python benchmarks/aging.py --bands 0 --days 3000   # the purchase part only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from bench_databases import postgres_schema

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.storage.sql import upgrade

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# the demo's retail programme: a tier ladder on the spend of a rolling 12 months, so every
# purchase adds to the member's metric history and the upgrade test reads it
DEMO = Path(__file__).parents[1] / "src" / "loyaltykit" / "demo" / "programme.toml"


def earn_bands(url: str, bands: int, band: int) -> None:
    upgrade(url)  # opening never migrates: a server database needs its tables first
    loyalty = Loyalty(storage=url)
    loyalty.enroll("big", at=T0, idempotency_key="enroll-big")
    rates = []
    for number in range(bands):
        start = time.perf_counter()
        with loyalty.batch():
            for n in range(number * band, (number + 1) * band):
                at = T0 + timedelta(seconds=n)
                loyalty.earn("big", 1, at=at, idempotency_key=f"order-{n}")
        rates.append(band / (time.perf_counter() - start))
        print(f"lots {(number + 1) * band:>9,}: {rates[-1]:>9,.0f} earns/s", flush=True)
    assert loyalty.balance("big").available == bands * band
    print(f"ratio last band / first band rate: {rates[-1] / rates[0]:.2f}x")
    loyalty.close()


class Aged(NamedTuple):
    """The medians of the first, the middle and the last band of daily purchases, and
    the size of the member's stored metric history after the first and the last."""

    first: float
    middle: float
    last: float
    first_cpu: float
    last_cpu: float
    first_bytes: int
    last_bytes: int


def metrics_bytes(loyalty: Loyalty, customer_id: str) -> int:
    """The size of the member's stored ``metrics`` document, as JSON."""
    with loyalty.storage.unit_of_work() as uow:
        document = uow.state.get(customer_id, "metrics")
    return len(json.dumps(document, separators=(",", ":")))


def purchase_days(url: str | None, days: int, band: int) -> Aged:
    """The median ``record_purchase`` seconds (wall and CPU) of the first and the last
    ``band`` days of ``days`` daily purchases by one member."""
    loyalty = Loyalty(Program.from_toml(DEMO), storage=url)
    loyalty.enroll("aged", at=T0, idempotency_key="enroll-aged")
    basket = Purchase(amount=Money.of("88.00", "CNY"))
    # warm up (connections, statement caches) on another member, so the first band
    # measures a young member, not a cold process
    loyalty.enroll("warm", at=T0, idempotency_key="enroll-warm")
    for day in range(20):
        at = T0 + timedelta(days=day, hours=11)
        loyalty.record_purchase("warm", basket, at=at, idempotency_key=f"warm-{day}")
    times: list[float] = []
    cpu: list[float] = []
    sizes: list[int] = []
    for day in range(days):
        at = T0 + timedelta(days=day, hours=12)
        start, start_cpu = time.perf_counter(), time.process_time()
        receipt = loyalty.record_purchase("aged", basket, at=at, idempotency_key=f"day-{day}")
        cpu.append(time.process_time() - start_cpu)
        times.append(time.perf_counter() - start)
        assert receipt.entries, f"day {day}: the purchase earned nothing"
        if day in (band - 1, days - 1):
            sizes.append(metrics_bytes(loyalty, "aged"))
    loyalty.close()
    median = statistics.median
    return Aged(
        first=median(times[:band]),
        middle=median(times[days // 2 : days // 2 + band]),
        last=median(times[-band:]),
        first_cpu=median(cpu[:band]),
        last_cpu=median(cpu[-band:]),
        first_bytes=sizes[0],
        last_bytes=sizes[-1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="storage URL (default: a new SQLite file)")
    parser.add_argument("--bands", type=int, default=4)
    parser.add_argument("--band", type=int, default=5_000, help="earns per band")
    parser.add_argument("--days", type=int, default=3_000, help="purchase days of the member")
    parser.add_argument("--purchase-band", type=int, default=100, help="days compared")
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    if args.bands:
        earn_bands(args.url or f"sqlite:///{folder / 'aging.db'}", args.bands, args.band)
    if not args.days:
        return
    if args.days < 2 * args.purchase_band:
        parser.error("--days must be at least twice --purchase-band")

    def sqlite() -> tuple[str, Callable[[], None]]:
        url = f"sqlite:///{folder / 'purchases.db'}"
        upgrade(url)
        return url, lambda: None

    backends: list[tuple[str, Callable[[], tuple[str | None, Callable[[], None]]]]] = [
        ("memory", lambda: (None, lambda: None)),
        ("SQLite", sqlite),
    ]
    if args.postgres:
        server = args.postgres
        backends.append(("PostgreSQL", lambda: postgres_schema(server)))
    for name, open_backend in backends:
        url, drop = open_backend()
        try:
            aged = purchase_days(url, args.days, args.purchase_band)
        finally:
            drop()
        band, days = args.purchase_band, f"{args.days:,}"
        print(f"{name} record_purchase, first {band} days: {aged.first * 1e6:,.0f} us")
        print(f"{name} record_purchase, last {band} of {days} days: {aged.last * 1e6:,.0f} us")
        print(f"{name} metrics document after {band} / {days} days: ", end="")
        print(f"{aged.first_bytes:,} / {aged.last_bytes:,} B")
        print(f"{name} ratio last / first: {aged.last / aged.first:.2f}x")
        print(f"{name} ratio last / middle (days from {args.days // 2:,}): ", end="")
        print(f"{aged.last / aged.middle:.2f}x")
        print(f"{name} CPU ratio last / first: {aged.last_cpu / aged.first_cpu:.2f}x", flush=True)


if __name__ == "__main__":
    main()
