"""The library logs through named loggers, installs no handlers, and logs nothing personal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from loyaltykit import Loyalty, Program
from loyaltykit.demo import PROGRAMME
from loyaltykit.feed import apply_feed, read_feed
from loyaltykit.storage.sql import upgrade

FEED = Path(__file__).parents[2] / "examples" / "feeds" / "events.jsonl"


def test_migrations_feeds_and_bulk_work_log_without_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import loyaltykit.cli  # noqa: F401  (importing the command installs nothing either)

    assert logging.getLogger("loyaltykit").handlers == []
    # another tool run in this process (import-linter, in test_architecture) may have
    # configured logging with disable_existing_loggers: undo that for our loggers
    for name in ("loyaltykit", "loyaltykit.storage.sql", "loyaltykit.feed"):
        logging.getLogger(name).disabled = False
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    with caplog.at_level(logging.DEBUG, logger="loyaltykit"):
        upgrade(url)
        with Loyalty(Program.from_toml(PROGRAMME), storage=url) as loyalty:
            apply_feed(loyalty, read_feed(FEED))
            loyalty.run_due(at=loyalty.customer("m-li").enrolled_at.replace(year=2027))
    names = {record.name for record in caplog.records}
    assert {"loyaltykit.storage.sql", "loyaltykit.feed"} <= names
    assert any("upgraded: None -> " in record.getMessage() for record in caplog.records)
    assert any(record.getMessage().startswith("bulk expiry") for record in caplog.records)
    text = "\n".join(record.getMessage() for record in caplog.records)
    for personal in ("Li Wei", "1990-05-03"):
        assert personal not in text
