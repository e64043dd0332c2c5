"""After ``erase``, the SQLite database file and its write-ahead log hold none of the
member's personal values, while the service keeps running."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loyaltykit import Loyalty, Program
from loyaltykit.testing.conformance import PERSONAL_VALUES, StorageConformance


def found_in_files(database: Path) -> list[str]:
    """The personal values whose UTF-8 bytes are in the database file or its WAL."""
    contents = b"".join(
        path.read_bytes()
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )
    return [value for value in PERSONAL_VALUES if value.encode() in contents]


def test_erase_leaves_no_personal_value_in_the_sqlite_file_or_its_wal(tmp_path: Path) -> None:
    database = tmp_path / "loyalty.db"
    program = Program.from_dict(
        {"timezone": "Asia/Shanghai", "care": {"birthday": {"points": 100, "gift": "cake"}}}
    )
    with Loyalty(program, storage=f"sqlite:///{database}", outbox=True) as loyalty:
        StorageConformance.personal_lifecycle(loyalty, erase=False)
        stored = {"赵小明", "zhao.xm@example.com", "1987-11-23", "health-minded-zx", "Qingdao-zx"}
        assert stored <= set(found_in_files(database))  # the search does find them
        loyalty.erase("zx", at=datetime(2026, 11, 26, tzinfo=UTC), idempotency_key="x-zx")
        assert found_in_files(database) == []
        # the service goes on: the member's points are still there and usable
        loyalty.redeem_points("zx", 10, at=datetime(2026, 11, 27, tzinfo=UTC), idempotency_key="r")
        assert loyalty.balance("zx").available == 90
