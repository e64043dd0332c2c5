"""Does a command slow down as an account ages? Earn into one account, band by band.

Each band of ``--band`` earns runs in one batch; the rate of the last band is compared with
the first one's in the same run (the machine is shared: only the ratio means much). A
flat ratio says a command's reads do not walk the account's history.

    .venv/bin/python benchmarks/aging.py                      # SQLite file
    .venv/bin/python benchmarks/aging.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loyaltykit import Loyalty
from loyaltykit.storage.sql import upgrade

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="storage URL (default: a new SQLite file)")
    parser.add_argument("--bands", type=int, default=4)
    parser.add_argument("--band", type=int, default=5_000, help="earns per band")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'aging.db'}"
    upgrade(url)  # opening never migrates: a server database needs its tables first
    loyalty = Loyalty(storage=url)
    loyalty.enroll("big", at=T0, idempotency_key="enroll-big")
    rates = []
    for band in range(args.bands):
        start = time.perf_counter()
        with loyalty.batch():
            for n in range(band * args.band, (band + 1) * args.band):
                at = T0 + timedelta(seconds=n)
                loyalty.earn("big", 1, at=at, idempotency_key=f"order-{n}")
        rates.append(args.band / (time.perf_counter() - start))
        print(f"lots {(band + 1) * args.band:>9,}: {rates[-1]:>9,.0f} earns/s", flush=True)
    assert loyalty.balance("big").available == args.bands * args.band
    print(f"ratio last band / first band rate: {rates[-1] / rates[0]:.2f}x")
    loyalty.close()


if __name__ == "__main__":
    main()
