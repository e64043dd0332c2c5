"""The opt-in pytest plugin: backends from the command line, the programme check."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = 'pytest_plugins = ["loyaltykit.testing.pytest_plugin"]\n'


def test_storage_url_runs_once_per_named_backend(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        from datetime import UTC, datetime
        from loyaltykit import Loyalty

        def test_earns(storage_url):
            loyalty = Loyalty(storage=storage_url)
            at = datetime(2026, 1, 1, tzinfo=UTC)
            loyalty.enroll("c-1", at=at, idempotency_key="e")
            assert loyalty.earn("c-1", 5, at=at, idempotency_key="k").balance.available == 5
        """
    )
    database = pytester.path / "lk.db"
    result = pytester.runpytest(
        "-v", "--loyaltykit-backend", "memory://", "--loyaltykit-backend", f"sqlite:///{database}"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_earns?memory? PASSED*", "*test_earns?sqlite? PASSED*"])


def test_storage_url_is_memory_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_url(storage_url):\n    assert storage_url == 'memory://'\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_programme_check_fails_a_test_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import pytest
        from loyaltykit import Program

        @pytest.fixture
        def loyalty_program():
            return Program.from_dict({"name": "up", "rules": [
                {"id": "base", "kind": "base_rate", "per": "10", "rounding": "ROUND_UP"}]})

        def test_battery(loyalty_program_check):
            loyalty_program_check(max_examples=20, only=["split_never_earns_more"])

        def test_default_program(loyalty_program_check):
            report = loyalty_program_check(program=__import__("loyaltykit").Program(),
                                           max_examples=5)
            assert report.ok
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAIL split_never_earns_more*", "*expected:*"])
