"""Reports for finance and marketing: the figures as data, and an HTML page with charts.

:func:`programme_report` gathers the figures (liability by expiry month and tier with
expected breakage, tiers over time and their movements, campaign effectiveness, RFM value
classes and churn warnings, complaint SLA compliance, survey scores by segment);
:func:`render_html` turns them into one self-contained page (needs ``loyaltykit[reports]``).
"""

from loyaltykit.reports.figures import Discrepancy, ProgrammeReport, programme_report
from loyaltykit.reports.html import CHARTS, render_html

__all__ = ["CHARTS", "Discrepancy", "ProgrammeReport", "programme_report", "render_html"]
