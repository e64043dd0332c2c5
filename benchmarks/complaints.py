"""What complaints cost: business-calendar arithmetic, the seven commands of a case
(file to close, with goodwill points) through the facade, the SLA batch and the report,
on memory and SQLite.

Run: ``.venv/bin/python benchmarks/complaints.py`` (``--cases N`` to scale).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loyaltykit import BusinessCalendar, ComplaintPolicy, GoodwillBudget, Loyalty, Program

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def calendar_arithmetic(runs: int) -> None:
    calendar = BusinessCalendar(timezone="Asia/Shanghai")
    start = time.perf_counter()
    for n in range(runs):
        deadline = calendar.add(T0 + n * timedelta(minutes=7), 5 * calendar.day_length)
        calendar.between(T0, deadline)
    elapsed = time.perf_counter() - start
    print(f"calendar add + between (5 working days): {elapsed / runs * 1e6:.0f} us")


def facade(url: str, cases: int) -> None:
    program = Program(complaints=ComplaintPolicy(goodwill=GoodwillBudget(points=10**9)))
    loyalty = Loyalty(program, storage=url)
    for n in range(cases):
        loyalty.enroll(f"c{n}", at=T0, idempotency_key=f"e{n}")
    start = time.perf_counter()
    for n in range(cases):
        cid, who = f"C-{n}", {"actor": "op"}
        loyalty.file_complaint(
            cid, channel="email", category="service", content="x", at=T0,
            idempotency_key=f"f{n}", customer_id=f"c{n}", **who,
        )  # fmt: skip
        loyalty.acknowledge_complaint(cid, at=T0 + H, idempotency_key=f"a{n}", **who)
        loyalty.assess_complaint(
            cid, severity="minor", priority="normal", at=T0 + H, idempotency_key=f"s{n}", **who
        )
        loyalty.investigate_complaint(cid, at=T0 + H, idempotency_key=f"i{n}", **who)
        loyalty.propose_resolution(
            cid, resolution="r", goodwill_points=10, at=T0 + H, idempotency_key=f"p{n}", **who
        )
        loyalty.respond_to_complaint(cid, at=T0 + H, idempotency_key=f"r{n}", **who)
        loyalty.close_complaint(cid, at=T0 + 2 * H, idempotency_key=f"x{n}", **who)
    elapsed = time.perf_counter() - start
    kind = url.split(":", 1)[0]
    print(
        f"{kind:7} {cases * 7 / elapsed:6.0f} commands/s, "
        f"{elapsed / cases * 1000:.1f} ms per case of 7 commands"
    )
    for n in range(cases):
        loyalty.file_complaint(
            f"D-{n}", channel="email", category="service", content="x", at=T0,
            idempotency_key=f"g{n}", actor="op", customer_id=f"c{n}",
        )  # fmt: skip
    start = time.perf_counter()
    alerts = loyalty.escalate_overdue_complaints(at=T0 + timedelta(days=2))
    elapsed = time.perf_counter() - start
    breaches = len(alerts.breaches)
    print(f"        escalate_overdue_complaints: {breaches} breaches in {elapsed * 1000:.0f} ms")
    start = time.perf_counter()
    report = loyalty.complaint_report(at=T0 + timedelta(days=2))
    elapsed = time.perf_counter() - start
    print(f"        complaint_report over {report.complaints}: {elapsed * 1000:.0f} ms")
    loyalty.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    cases = parser.parse_args().cases
    calendar_arithmetic(2_000)
    facade("memory://", cases)
    facade(f"sqlite:///{Path(tempfile.mkdtemp()) / 'complaints.db'}", cases)


if __name__ == "__main__":
    main()
