"""``manage.py loyalty_due``: the due jobs (release, expiry, tiers, care, SLAs, unclaimed).

Run it from cron or a scheduler, e.g. hourly; it is idempotent, so running it twice or
late is harmless. ``--at`` runs it for another instant (ISO 8601 with an offset).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty_members.loyalty import loyalty


class Command(BaseCommand):
    """Run loyaltykit's due jobs once."""

    help = "Run loyaltykit's due jobs: release pending points, expire lots, re-rate tiers..."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="the instant, ISO 8601 with an offset (default: now)")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        at = datetime.now(UTC) if options["at"] is None else _instant(options["at"])
        report = loyalty().run_due(at=at, batch_size=options["batch_size"])
        self.stdout.write(
            f"due at {report.at.isoformat()}: released {report.released.released}, "
            f"expired {report.expired.expired} points in {report.expired.accounts} accounts, "
            f"{report.tier_changes} tier changes, {len(report.care)} care actions, "
            f"{report.unclaimed} unclaimed redemptions cancelled"
        )


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise CommandError(f"--at {text!r} has no offset, e.g. 2026-05-01T00:00:00+08:00")
    return at
