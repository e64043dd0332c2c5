"""The example app's tests, run by ``manage.py test`` (and tests/integration/test_recipes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import SimpleTestCase

from loyalty_members.loyalty import loyalty

AT = datetime(2026, 1, 10, 12, tzinfo=UTC)


class MemberPagesTests(SimpleTestCase):
    """The balance page and the due command, against the configured storage."""

    def test_the_balance_page_shows_the_member_s_points(self) -> None:
        facade = loyalty()
        facade.enroll("ann", at=AT, idempotency_key="enroll-ann")
        facade.earn("ann", 120, at=AT, idempotency_key="order-1")
        page = self.client.get("/members/ann/")
        assert page.status_code == 200
        self.assertContains(page, '<strong id="available">120</strong>', html=False)
        assert self.client.get("/members/nobody/").status_code == 404
        assert self.client.post("/members/ann/").status_code == 405

    def test_the_due_command_expires_what_fell_due(self) -> None:
        facade = loyalty()
        facade.enroll("ben", at=AT, idempotency_key="enroll-ben")
        facade.earn(
            "ben", 50, at=AT, idempotency_key="order-2", expires_at=datetime(2026, 2, 1, tzinfo=UTC)
        )
        out = StringIO()
        call_command("loyalty_due", "--at", "2026-02-02T00:00:00+08:00", stdout=out)
        assert "expired 50 points in 1 accounts" in out.getvalue()
        assert facade.balance("ben").available == 0
        again = StringIO()
        call_command("loyalty_due", "--at", "2026-02-02T00:00:00+08:00", stdout=again)
        assert "expired 0 points" in again.getvalue()

    def test_the_due_command_refuses_an_instant_without_an_offset(self) -> None:
        with self.assertRaisesMessage(CommandError, "has no offset"):
            call_command("loyalty_due", "--at", "2026-02-02T00:00:00")
