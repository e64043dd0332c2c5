"""The ``loyaltykit`` console script, run as a real process on a temporary SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from loyaltykit import Loyalty
from loyaltykit.storage.sql import head

SCRIPT = Path(sys.executable).with_name("loyaltykit")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def loyaltykit(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), "the console script is installed with the package (pip install -e .)"
    return subprocess.run(
        [str(SCRIPT), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    import loyaltykit as package

    result = loyaltykit("--version")
    assert result.returncode == 0
    assert result.stdout == f"loyaltykit {version('loyaltykit')}\n"
    assert package.__version__ == version("loyaltykit")
    as_module = subprocess.run(
        [sys.executable, "-m", "loyaltykit", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (as_module.returncode, as_module.stdout) == (0, result.stdout)


def test_init_creates_the_schema_and_opening_needs_it(tmp_path: Path) -> None:
    from loyaltykit.errors import SchemaNotReady

    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    assert loyaltykit("db", "upgrade", url, "--revision", "0003").returncode == 0
    with pytest.raises(SchemaNotReady, match=r"is at revision 0003.*run loyaltykit db upgrade"):
        Loyalty(storage=url)
    done = loyaltykit("init", "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{url} is at schema revision {head()} (head)"
    Loyalty(storage=url).close()


def test_upgrade_creates_the_schema_and_current_reports_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    created = loyaltykit("db", "upgrade", url)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"{url} is at schema revision {head()} (head)"
    current = loyaltykit("db", "current", url)
    assert (current.returncode, current.stdout, current.stderr) == (0, f"{head()} (head)\n", "")
    with Loyalty(storage=url) as loyalty:  # the schema is usable as it is
        loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
        loyalty.earn("c-1", 5, at=T0, idempotency_key="k-1")


def test_upgrade_to_a_revision_then_to_head_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    assert loyaltykit("db", "upgrade", url, "--revision", "0001").returncode == 0
    assert loyaltykit("db", "current", url).stdout == "0001\n"
    engine = create_engine(url)
    assert "lk_customer_state" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO lk_customers (id, enrolled_at, status, profile) "
            "VALUES ('ann', '2026-03-01 00:00:00', 'active', '{}')"
        )
    upgraded = loyaltykit("db", "upgrade", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert loyaltykit("db", "current", url).stdout == f"{head()} (head)\n"
    assert "lk_customer_state" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        ids = connection.exec_driver_sql("SELECT id FROM lk_customers").scalars().all()
    engine.dispose()
    assert ids == ["ann"]
    again = loyaltykit("db", "upgrade", url)  # idempotent
    assert again.returncode == 0, again.stderr


def test_current_of_an_empty_database_is_none(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    create_engine(f"sqlite:///{path}").connect().close()  # an empty SQLite file
    result = loyaltykit("db", "current", f"sqlite:///{path}")
    assert (result.returncode, result.stdout) == (0, "none\n")


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (("db", "current", "sqlite:///{missing}"), 3, "no SQLite database file at"),
        (("db", "upgrade", "sqlite:///{db}", "--revision", "9999"), 1, "'9999' is unknown"),
        (("db", "upgrade", "not a url"), 1, "'not a url' is not a database URL"),
        (("db", "upgrade", "sqlite:///{tmp}/no/such/dir/x.db"), 3, "unable to open database"),
        (("db", "upgrade", "nosuchdb://host/x"), 3, "no driver for 'nosuchdb'"),
        (("db", "upgrade"), 2, "Missing argument 'URL'"),
        (("db", "downgrade", "sqlite:///{db}"), 2, "No such command 'downgrade'"),
        ((), 2, "a command is needed"),
        (("init",), 2, "Missing option '--db'"),
        (("run-due", "--db", "sqlite:///{db}", "--at", "2026-05-01"), 2, "has no UTC offset"),
        (("run-due", "--db", "sqlite:///{db}", "--tenant", "Brand-A"), 1, "lowercase letters"),
    ],
)
def test_errors_are_one_line_and_a_non_zero_status(
    tmp_path: Path, arguments: tuple[str, ...], status: int, message: str
) -> None:
    values = {"missing": tmp_path / "missing.db", "db": tmp_path / "x.db", "tmp": tmp_path}
    result = loyaltykit(*(argument.format(**values) for argument in arguments))
    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr.startswith("loyaltykit")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert not (tmp_path / "missing.db").exists()  # `current` never creates a database


def test_passwords_are_not_printed(tmp_path: Path) -> None:
    # an unreachable server: the message names the host, never the password
    result = loyaltykit("db", "current", "postgresql+psycopg://user:s3cret@127.0.0.1:1/db")
    assert result.returncode == 3  # storage
    assert "s3cret" not in result.stderr + result.stdout
    assert result.stderr.count("\n") == 1


def test_commands_take_the_programme_of_a_database_holding_several(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'group.db'}"
    for tenant, points in (("brand-a", 30), ("brand-b", 7)):
        with Loyalty(storage=url, tenant=tenant) as loyalty:
            loyalty.enroll("c-1", at=T0, idempotency_key="enroll")
            loyalty.earn("c-1", points, at=T0, idempotency_key="k-1")

    def amounts(*tenant: str) -> list[int]:
        shown = loyaltykit("statement", "c-1", "--db", url, *tenant, "--json")
        assert shown.returncode == 0, shown.stderr
        return [line["entry"]["amount"] for line in json.loads(shown.stdout)["lines"]]

    assert amounts("--tenant", "brand-a") == [30]
    assert amounts("--tenant", "brand-b") == [7]
    missing = loyaltykit("statement", "c-1", "--db", url)  # the default programme
    assert missing.returncode == 1
    assert "no customer with id 'c-1'" in missing.stderr
    environment = {**os.environ, "LOYALTYKIT_TENANT": "brand-b"}
    due = subprocess.run(
        [str(SCRIPT), "run-due", "--db", url, "--at", "2026-06-01T00:00:00+00:00", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert due.returncode == 0, due.stderr
    explained = loyaltykit("explain", "c-1", "k-1", "--db", url, "--tenant", "brand-a", "--json")
    assert explained.returncode == 0, explained.stderr
    assert [entry["amount"] for entry in json.loads(explained.stdout)["entries"]] == [30]
