"""The care API as the holiday-greetings recipe uses it passes mypy strict."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loyaltykit import (
    CareAction,
    CareAssignment,
    CareConfig,
    CareRoute,
    CareSample,
    CareTrigger,
    Holiday,
    Loyalty,
    Profile,
    Program,
    SampledCall,
)


def test_the_care_day_is_typed() -> None:
    config = CareConfig(
        triggers=(
            CareTrigger(
                kind="holiday",
                points=8,
                holidays=(
                    Holiday(
                        id="spring", name="Spring Festival", dates=frozenset({date(2026, 2, 17)})
                    ),
                    Holiday(id="new-year", name="New Year", every_year="01-01"),
                ),
            ),
        ),
        assignment=CareAssignment(
            routes=(CareRoute(team="call-centre", tiers=frozenset({"diamond"})),),
            associates={"pudong": "wang-li"},
        ),
    )
    loyalty = Loyalty(Program(care=config))
    at = datetime(2026, 2, 17, 9, tzinfo=UTC)
    loyalty.enroll(
        "m-1", at=at, idempotency_key="e", profile=Profile(attributes={"region": "pudong"})
    )
    actions: tuple[CareAction, ...] = loyalty.run_due(at=at).care
    call: CareAction = loyalty.record_care_call(
        "m-1", actions[0].id, outcome="reached", note="", at=at, idempotency_key="c"
    )
    assert call.assignee == "wang-li"
    sample: CareSample = loyalty.sample_care_calls(
        "2026-02", size=1, seed="qc", at=at, idempotency_key="qc"
    )
    first: SampledCall = sample.calls[0]
    summary = loyalty.check_care_call(
        "2026-02", first.customer_id, first.action_id, passed=True, at=at, idempotency_key="k"
    )
    result: str = summary.result
    assert result == "passed"
