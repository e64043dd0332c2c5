"""``loyaltykit demo``: a seeded year of a retail programme, imported, run and reported.

:func:`run_demo` writes a year of events for ``members`` members (:mod:`.year`) to a
JSON Lines feed, imports it month by month through the same code as
``loyaltykit import events`` (running the due work at every month's end: expiry, tier
re-qualification, SLA clocks), handles the year's hotline complaints, then builds the
programme report, checks that the ledger reconciles and writes the HTML page.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

import attrs

from loyaltykit.bootstrap import Loyalty
from loyaltykit.demo.year import (
    SHANGHAI,
    YEAR_END,
    YEAR_START,
    Call,
    complaints_of_year,
    year_of_events,
)
from loyaltykit.domain.complaints import ComplaintState
from loyaltykit.domain.feedback import Question, Survey
from loyaltykit.feed import BadRow, FeedReport, FeedRow, read_feed
from loyaltykit.formats.programs import Program
from loyaltykit.reports import ProgrammeReport, programme_report, render_html
from loyaltykit.values import Money

__all__ = ["PROGRAMME", "DemoResult", "Importer", "run_demo"]

log = logging.getLogger("loyaltykit.demo")

PROGRAMME = Path(__file__).with_name("programme.toml")
COST_PER_POINT = Money.of("0.01", "CNY")

# asked after every complaint is closed; the report breaks its scores down by tier
SURVEY = Survey(
    id="after-complaint",
    title="How did we handle your complaint?",
    questions=(
        Question.scale("satisfied", "How satisfied are you with the handling?", measures="csat"),
        Question.nps("recommend", "How likely are you to recommend us to a friend?"),
    ),
)

# what imports one month of rows: the facade, the rows, how many, a label
Importer = Callable[[Loyalty, Iterable[FeedRow | BadRow], int, str], FeedReport]


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the demo did and where it put it."""

    members: int
    rows: int
    applied: int
    refused: tuple[BadRow, ...]
    complaints: int
    report: ProgrammeReport
    feed: Path
    database: Path
    html: Path
    seconds: float


def _write_feed(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _month(row: FeedRow | BadRow) -> str:
    return f"{row.at.astimezone(SHANGHAI):%Y-%m}" if isinstance(row, FeedRow) else ""


def _month_end(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=SHANGHAI)


def _phases(call: Call) -> list[tuple[datetime, Callable[[Loyalty, Call], None]]]:
    """A complaint's two phases, each at the instant of its last step: the call to the
    answer (its goodwill is a ledger entry), then the close and the survey after it.
    The demo runs each between the feed's rows, in time order, as a real desk would."""
    closed = call.at + call.closed_after + timedelta(hours=2)
    return [(call.at + call.responded_after, _answer), (closed, _close)]


def _answer(loyalty: Loyalty, call: Call) -> None:
    """One hotline complaint, from the call to the answer, on time or late."""
    cid, at = call.complaint_id, call.at
    loyalty.file_complaint(
        cid,
        channel="hotline",
        category=call.category,
        content="Complaint about the store",
        customer_id=call.customer_id,
        at=at,
        idempotency_key=f"{cid}-file",
        actor="cs-wang",
    )
    steps = at + call.acknowledged_after
    loyalty.acknowledge_complaint(cid, at=steps, idempotency_key=f"{cid}-ack", actor="cs-wang")
    loyalty.assess_complaint(
        cid,
        severity="minor",
        priority="normal",
        at=steps,
        idempotency_key=f"{cid}-assess",
        actor="cs-wang",
    )
    loyalty.investigate_complaint(
        cid, at=steps + timedelta(hours=1), idempotency_key=f"{cid}-investigate", actor="ops-li"
    )
    late = call.closed_after > timedelta(days=5)
    loyalty.propose_resolution(
        cid,
        resolution="Apologise" + ("; goodwill points" if late else ""),
        goodwill_points=200 if late else 0,
        at=at + call.responded_after - timedelta(hours=1),
        idempotency_key=f"{cid}-propose",
        actor="ops-li",
    )
    loyalty.respond_to_complaint(
        cid, at=at + call.responded_after, idempotency_key=f"{cid}-respond", actor="cs-wang"
    )


def _close(loyalty: Loyalty, call: Call) -> None:
    """The close of a complaint and the customer's survey answers two hours later."""
    cid, late = call.complaint_id, call.closed_after > timedelta(days=5)
    closed = call.at + call.closed_after
    if loyalty.complaint(cid).state is ComplaintState.ESCALATED:
        # the SLA job escalated it while it waited: the supervisor hands it back
        loyalty.resume_complaint(cid, at=closed, idempotency_key=f"{cid}-resume", actor="sup-zhou")
    loyalty.close_complaint(
        cid,
        satisfaction=2 if late else 4,
        at=closed,
        idempotency_key=f"{cid}-close",
        actor="cs-wang",
    )
    answers = {"satisfied": 2, "recommend": 3} if late else {"satisfied": 5, "recommend": 9}
    loyalty.submit_survey_response(
        call.customer_id,
        SURVEY.id,
        answers,
        at=closed + timedelta(hours=2),
        idempotency_key=f"{cid}-survey",
        channel="app",
        complaint_id=cid,
    )


def _months(rows: Iterable[FeedRow | BadRow]) -> Iterator[tuple[str, list[FeedRow | BadRow]]]:
    current = ""
    for month, group in groupby(rows, key=_month):
        # a row that cannot be read has no month: it goes with the month being read
        current = month or current
        yield current, list(group)


def run_demo(
    folder: Path,
    *,
    members: int = 10_000,
    seed: int = 2026,
    importer: Importer,
    complaints: int = 40,
) -> DemoResult:
    """Build, import, run and report the demo year in ``folder`` (its database is new).

    ``importer`` applies one month of rows (the command line passes one with a progress
    bar). Raises :class:`AssertionError` if the ledger does not reconcile.
    """
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    feed, database, page = folder / "events.jsonl", folder / "demo.db", folder / "report.html"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    rows = year_of_events(members, seed=seed)
    _write_feed(feed, rows)
    log.info("demo: %d rows for %d members written to %s", len(rows), members, feed)
    calls = complaints_of_year(rows, count=complaints, seed=seed)
    loyalty = Loyalty(Program.from_toml(PROGRAMME), storage=f"sqlite:///{database}")
    applied = 0
    refused: list[BadRow] = []
    loyalty.publish_survey(SURVEY, at=YEAR_START, idempotency_key="publish-after-complaint")
    pending = sorted(
        ((when, n, phase, call) for n, call in enumerate(calls) for when, phase in _phases(call)),
        key=lambda item: (item[0], item[1]),
    )

    def run_phases(until: datetime) -> None:
        while pending and pending[0][0] <= until:
            _, _, phase, call = pending.pop(0)
            phase(loyalty, call)

    try:
        for month, group in _months(read_feed(feed)):
            segment: list[FeedRow | BadRow] = []
            for row in [*group, None]:
                due = None if row is None else (row.at if isinstance(row, FeedRow) else None)
                if row is None or (due is not None and pending and pending[0][0] <= due):
                    # the rows before this instant first, then the complaint work due by it
                    if segment:
                        done = importer(loyalty, segment, len(segment), f"{month}")
                        applied += done.applied
                        refused.extend(done.bad)
                        segment = []
                    run_phases(_month_end(month) if due is None else due)
                if row is not None:
                    segment.append(row)
            loyalty.run_due(at=min(_month_end(month), YEAR_END))
        run_phases(datetime.max.replace(tzinfo=SHANGHAI))
        report = programme_report(
            loyalty, YEAR_END, cost_per_point=COST_PER_POINT, surveys=(SURVEY.id,)
        )
    finally:
        loyalty.close()
    if not report.reconciles:
        raise AssertionError(
            f"the demo's ledger does not reconcile: {len(report.discrepancies)} statements "
            f"differ, entries {sum(report.entry_totals.values())} against "
            f"{report.liability.available} available"
        )
    page.write_text(render_html(report, title="Jade Mall rewards: the year 2026"), encoding="utf-8")
    return DemoResult(
        members=members,
        rows=len(rows),
        applied=applied,
        refused=tuple(refused),
        complaints=len(calls),
        report=report,
        feed=feed,
        database=database,
        html=page,
        seconds=time.perf_counter() - started,
    )
