"""The programme report as one self-contained HTML page, with charts.

:func:`render_html` needs matplotlib (``pip install 'loyaltykit[reports]'``): each chart is
drawn to SVG and embedded in the page, so the file opens anywhere, with no server, no
script and nothing fetched from the network. Text in the charts stays text (searchable,
sharp when printed).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from loyaltykit.errors import LoyaltyError
from loyaltykit.reports.figures import ProgrammeReport
from loyaltykit.values import Money

__all__ = ["CHARTS", "render_html"]

# the charts of the page, in order: (id, title)
CHARTS = (
    ("liability-by-month", "Points liability by expiry month"),
    ("liability-by-tier", "Points liability by tier"),
    ("tiers-by-month", "Members per tier, month by month"),
    ("tier-movements", "Tier movements per month"),
    ("value-classes", "Members by value class (RFM)"),
    ("entry-kinds", "Points by ledger entry kind"),
    ("complaint-sla", "Complaint SLA compliance"),
)
_COLOURS = ("#2f6f8f", "#e0a33a", "#7aa95c", "#c0504d", "#8064a2", "#4bacc6", "#9b9b9b")

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.muted { color: #666; } .figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 0.7rem 1rem; min-width: 12rem; }
.figure b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { border-bottom: 1px solid #eee; padding: 0.25rem 0.8rem; text-align: right; }
th:first-child, td:first-child { text-align: left; } figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; } .ok { color: #2e7d32; } .bad { color: #c62828; }
"""


def _money(value: Money | None) -> str:
    return "-" if value is None else f"{value.amount:,.2f} {value.currency}"


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise LoyaltyError(
            "the HTML report draws its charts with matplotlib: pip install 'loyaltykit[reports]'"
        ) from None
    matplotlib.use("Agg")  # no display needed: the charts are written to SVG
    import matplotlib.pyplot as plt

    return plt


def _svg(chart: str, draw: Callable[[Any], None]) -> str:
    plt = _pyplot()
    with plt.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": chart, "font.size": 10, "axes.spines.top": False}
    ):
        figure, axes = plt.subplots(figsize=(8.5, 3.4))
        try:
            draw(axes)
            figure.tight_layout()
            out = io.StringIO()
            figure.savefig(out, format="svg", metadata={"Date": None})
        finally:
            plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _bars(labels: Sequence[str], values: Sequence[float], unit: str) -> Callable[[Any], None]:
    def draw(axes: Any) -> None:
        axes.bar(labels, values, color=_COLOURS[0])
        axes.set_ylabel(unit)
        axes.tick_params(axis="x", labelrotation=30 if len(labels) > 6 else 0)
        for index, value in enumerate(values):
            axes.annotate(f"{value:,.0f}", (index, value), ha="center", va="bottom", fontsize=8)

    return draw


def _stacked(series: Mapping[str, Mapping[str, int]], unit: str) -> Callable[[Any], None]:
    months = list(series)
    names = sorted({name for values in series.values() for name in values})

    def draw(axes: Any) -> None:
        bottom = [0] * len(months)
        for number, name in enumerate(names):
            values = [series[month].get(name, 0) for month in months]
            axes.bar(months, values, bottom=bottom, label=name, color=_COLOURS[number % 7])
            bottom = [low + value for low, value in zip(bottom, values, strict=True)]
        axes.set_ylabel(unit)
        axes.tick_params(axis="x", labelrotation=30)
        if names:
            axes.legend(frameon=False, fontsize=8, ncols=min(len(names), 6))

    return draw


def _charts(report: ProgrammeReport) -> dict[str, str]:
    liability = report.liability
    months = sorted(liability.expiring)
    cost = report.cost_per_point.amount
    by_tier = report.liability_by_tier
    sla = {
        clock: float(share)
        for clock, share in report.complaints.sla_compliance.items()
        if share is not None
    }
    drawn = {
        "liability-by-month": _bars(
            [*months, "never"] if liability.never_expiring else months,
            [float(cost * liability.expiring[m]) for m in months]
            + ([float(cost * liability.never_expiring)] if liability.never_expiring else []),
            report.cost_per_point.currency,
        ),
        "liability-by-tier": _bars(
            list(by_tier),
            [float(cost * points) for points in by_tier.values()],
            report.cost_per_point.currency,
        ),
        "tiers-by-month": _stacked(report.tiers_by_month, "members"),
        "tier-movements": _stacked(report.tier_movements, "changes"),
        "value-classes": _bars(
            list(report.value_classes),
            [float(n) for n in report.value_classes.values()],
            "members",
        ),
        "entry-kinds": _bars(
            [kind for kind, points in report.entry_totals.items() if points],
            [float(points) for points in report.entry_totals.values() if points],
            "points",
        ),
        "complaint-sla": _bars(list(sla), list(sla.values()), "% met"),
    }
    return {chart: _svg(chart, draw) for chart, draw in drawn.items()}


def render_html(report: ProgrammeReport, *, title: str = "Loyalty programme report") -> str:
    """The report as one HTML document (charts embedded as SVG)."""
    charts = _charts(report)
    liability = report.liability
    at = report.at.astimezone(report.liability.at.tzinfo)
    figures = [
        ("Members", f"{report.members:,}"),
        ("Points outstanding", f"{report.outstanding:,}"),
        ("Gross liability", _money(report.gross_liability)),
        (
            "Expected breakage",
            f"{report.breakage_rate * 100:.1f}% ({report.expected_breakage:,} points)",
        ),
        ("Net liability", _money(report.net_liability)),
        ("Churn warnings", f"{len(report.churn_warnings):,}"),
        ("Complaints", f"{report.complaints.complaints:,} ({report.complaints.open} open)"),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">As of {at:%Y-%m-%d %H:%M %Z}; {report.point_type} valued at '
        f"{report.cost_per_point.amount} {report.cost_per_point.currency} a point.</p>",
        '<div class="figures">'
        + "".join(
            f'<div class="figure" data-figure="{html.escape(name)}">{html.escape(name)}'
            f"<b>{html.escape(value)}</b></div>"
            for name, value in figures
        )
        + "</div>",
    ]
    check = (
        '<p class="ok">The ledger reconciles: every statement sums to its balance and the '
        "entries of each kind add up to the liability.</p>"
        if report.reconciles
        else f'<p class="bad">The ledger does not reconcile: {len(report.discrepancies)} '
        "statements differ from their balance.</p>"
    )
    sections = {
        "liability-by-month": _table(
            ["expiry month", "points", "money"],
            [
                (m, f"{p:,}", _money(report.liability_money(p)))
                for m, p in sorted(liability.expiring.items())
            ],
        ),
        "liability-by-tier": _table(
            ["tier", "points", "money"],
            [
                (t, f"{p:,}", _money(report.liability_money(p)))
                for t, p in report.liability_by_tier.items()
            ],
        ),
        "entry-kinds": check
        + _table(
            ["entry kind", "points"],
            [
                *((k, f"{p:+,}") for k, p in report.entry_totals.items() if p),
                ("pending", f"{report.pending_total:+,}"),
                ("= outstanding", f"{report.outstanding:,}"),
            ],
        ),
        "value-classes": (
            "<p>Churn warnings: the ten biggest drops in spending.</p>"
            + _table(
                ["member", "spending drop", "recent", "usual"],
                [
                    (w.customer_id, f"{w.drop:.0%}", f"{w.recent:,.2f}", f"{w.baseline:,.2f}")
                    for w in report.churn_warnings[:10]
                ],
            )
            if report.churn_warnings
            else ""
        ),
        "complaint-sla": _table(
            ["clock", "met"],
            [(clock, _percent(share)) for clock, share in report.complaints.sla_compliance.items()],
        ),
    }
    for chart, heading in CHARTS:
        parts.append(f'<h2 id="{chart}">{html.escape(heading)}</h2>')
        parts.append(f'<figure data-chart="{chart}">{charts[chart]}</figure>')
        parts.append(sections.get(chart, ""))
    if report.campaigns:
        parts.append('<h2 id="campaigns">Campaign effectiveness</h2>')
        parts.append(
            _table(
                [
                    "campaign",
                    "participants",
                    "points issued",
                    "cost",
                    "repeat rate, participants (before -> during)",
                    "others (before -> during)",
                ],
                [
                    (
                        c.campaign,
                        f"{c.participants:,}",
                        f"{c.points_issued:,}",
                        _money(c.cost),
                        _change(c.participants_before.rate, c.participants_during.rate),
                        _change(c.others_before.rate, c.others_during.rate),
                    )
                    for c in report.campaigns
                ],
            )
        )
    for survey_id, groups in report.surveys.items():
        parts.append(
            f'<h2 id="survey-{html.escape(survey_id)}">'
            f"Survey {html.escape(survey_id)} by segment</h2>"
        )
        parts.append(
            _table(
                ["segment", "responses", "CSAT", "NPS", "CES"],
                [
                    (
                        g,
                        s.responses,
                        _percent(s.csat),
                        s.nps if s.nps is not None else "-",
                        s.ces if s.ces is not None else "-",
                    )
                    for g, s in groups.items()
                ],
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _rate(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _change(before: Decimal | None, during: Decimal | None) -> str:
    return f"{_rate(before)} -> {_rate(during)}"
