"""Analysis of what members do: value classes and RFM scores, churn warnings, points liability.

Pure functions over domain data (metric histories, accounts, lots): no I/O, no clock.
The facade's :class:`~loyaltykit.service.insights.Insights` queries feed them from storage.
"""
