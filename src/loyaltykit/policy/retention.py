"""How many months of a member's daily metric sums a programme needs kept.

A member's metric history keeps days only as far back as the longest window something
reads, so its size, and a purchase's work on it, is bounded by the programme rather than
by the member's age. The readers:

* tier requirements: a rolling window of N months reads N months back; a calendar or
  anniversary year at most 12; all time reads the all-time total (an average per month
  over all time reads the total too, less the days after the instant);
* relative tiers rank by a rolling 12 months;
* the care churn trigger reads its recent and baseline months;
* the analytics with their default policies (segments over 12 months, churn over 3
  recent months against 12 before them): :data:`ANALYTICS_MONTHS`. An analysis asking
  for more than the programme keeps is refused by name, not answered with part of it.

One month more than the longest is kept: a command may be dated a little before the
member's latest sample (the programme's clock skew).
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.domain.metrics import KEEP_MONTHS
from loyaltykit.policy.program import Program, ProgramVersions

__all__ = ["ANALYTICS_MONTHS", "metric_months", "metric_months_from"]

ANALYTICS_MONTHS = 15
"""The reach of the analytics' default policies: churn's 3 recent months and 12 before."""

_YEAR = 12


def metric_months(program: Program) -> int:
    """The months of daily sums ``program`` reads, plus one (at most
    :data:`~loyaltykit.domain.metrics.KEEP_MONTHS`).

    >>> metric_months(Program())
    16
    """
    reach = [ANALYTICS_MONTHS]
    ladder = program.tiers
    if ladder is not None:
        for tier in ladder.tiers:
            if tier.top_percent is not None:
                reach.append(_YEAR)
            for requirement in tier.requirements:
                window = requirement.window
                if window.kind == "rolling":
                    reach.append(window.months)
                elif window.kind != "all_time":
                    reach.append(_YEAR)
    if program.care is not None:
        churn = program.care.trigger("churn")
        if churn is not None:
            reach.append(churn.recent_months + churn.baseline_months)
    return min(max(reach) + 1, KEEP_MONTHS)


def metric_months_from(versions: ProgramVersions, at: datetime) -> int:
    """The months every version in force at ``at`` or later reads (see
    :func:`metric_months`): a version that starts later may read further back."""
    current = versions.at(at)
    later = [v.program for v in versions.versions if v.valid_from > at]
    return max(metric_months(program) for program in (current, *later))
