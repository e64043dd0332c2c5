"""Opt-in pytest fixtures for testing code built on loyaltykit.

Enable them in a ``conftest.py``::

    pytest_plugins = ["loyaltykit.testing.pytest_plugin"]

Fixtures: ``loyalty_program`` (override it to test your own program), ``loyalty`` (a
facade on a fresh in-memory store), ``loyalty_at`` (a fixed, aware instant),
``assert_ledger_sound`` (checks every ledger invariant of a customer),
``storage_url`` (one test per backend named with ``--loyaltykit-backend URL``, the
option repeatable; ``memory://`` when none is named) and ``loyalty_program_check``
(runs :func:`~loyaltykit.testing.check_program` on ``loyalty_program`` and fails the
test with the report when a property fails)::

    pytest --loyaltykit-backend memory:// --loyaltykit-backend sqlite:///tmp/lk.db
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from loyaltykit import Loyalty
from loyaltykit.policy.program import Program
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.program_check import ProgramReport, check_program

OPTION = "--loyaltykit-backend"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--loyaltykit-backend URL``: a storage URL the ``storage_url`` fixture runs on."""
    parser.addoption(
        OPTION,
        action="append",
        default=[],
        metavar="URL",
        help="a loyaltykit storage URL for the storage_url fixture (repeatable), "
        "e.g. sqlite:///tmp/lk.db or postgresql+psycopg://user@host/db",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``storage_url`` over the backends named on the command line, unless a
    test module or class defines its own ``storage_url`` (a conformance suite bound to
    one database keeps it)."""
    if "storage_url" not in metafunc.fixturenames:
        return
    # the fixture definitions pytest resolved for this test, closest last
    definitions = getattr(metafunc, "_arg2fixturedefs", {}).get("storage_url", ())
    if definitions and definitions[-1].func is not _storage_url:
        return
    urls = metafunc.config.getoption(OPTION) or ["memory://"]
    metafunc.parametrize("storage_url", urls, ids=[url.split(":", 1)[0] for url in urls])


def _storage_url(request: pytest.FixtureRequest) -> str:
    """A storage URL, one test per ``--loyaltykit-backend`` given (``memory://`` without)."""
    url: str = request.param
    return url


storage_url = pytest.fixture(_storage_url, name="storage_url")


@pytest.fixture
def loyalty_program() -> Program:
    """The program under test; override this fixture to use your own."""
    return Program()


@pytest.fixture
def loyalty(loyalty_program: Program) -> Iterator[Loyalty]:
    """A :class:`~loyaltykit.Loyalty` facade on a fresh in-memory store."""
    facade = Loyalty(loyalty_program, storage=MemoryStorage())
    yield facade
    facade.close()


@pytest.fixture
def loyalty_at() -> datetime:
    """A fixed instant to pass as ``at=`` (tests never read the clock)."""
    return datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.fixture
def assert_ledger_sound(loyalty: Loyalty) -> Callable[..., None]:
    """``assert_ledger_sound("c-1")`` fails with every broken ledger invariant."""

    def check(customer_id: str, point_type: str = "points") -> None:
        problems = ledger_violations(loyalty.storage, customer_id, point_type)
        assert not problems, "\n".join(problems)

    return check


@pytest.fixture
def loyalty_program_check(loyalty_program: Program) -> Callable[..., ProgramReport]:
    """``loyalty_program_check(**options)`` runs the battery on ``loyalty_program`` (or
    ``program=``), fails the test with the report if a property fails, and returns the
    report; the options are :func:`~loyaltykit.testing.check_program`'s."""

    def run(program: Program | None = None, **options: Any) -> ProgramReport:
        report = check_program(program or loyalty_program, **options)
        if not report.ok:
            pytest.fail(str(report), pytrace=False)
        return report

    return run
