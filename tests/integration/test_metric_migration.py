"""Revision 0013 rewrites version 1 metric histories as version 2: the document the
library itself reads from the old one, on every SQL database; downgrading gives the
version 1 document back."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select, text

from loyaltykit import Loyalty, Money
from loyaltykit.demo import PROGRAMME
from loyaltykit.domain.activity import Purchase
from loyaltykit.formats.metrics import metrics_from_document, metrics_to_document
from loyaltykit.formats.programs import Program
from loyaltykit.storage.sql import schema, upgrade
from tests.databases import emptied
from tests.integration.test_migrations import T0, at_revision, enrolled_raw

MIGRATION = (
    Path(__file__).parents[2]
    / "src/loyaltykit/storage/sql/migrations/versions/0013_metric_months.py"
)
# a member of version 1: two months of spend, a purchase count, a gauge, and totals
# that say older days were dropped (more than 121 months before the latest)
VERSION_1: dict[str, Any] = {
    "days": {
        "spend": {"2026-02-03": "1450.00", "2026-02-20": "0.50", "2026-03-10": "1449.50"},
        "purchases": {"2026-02-03": "1", "2026-03-10": "1"},
    },
    "totals": {"spend": "9900.00", "purchases": "2"},
    "gauges": {"balance": "12.5"},
}
# the demo's retail programme: silver at 3,000 CNY of spend over a rolling 12 months
PROGRAM = Program.from_toml(PROGRAMME)


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("metric_months", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_downgrading_writes_the_version_1_days_back() -> None:
    module = migration()
    assert module.version_1(module.version_2(VERSION_1)) == VERSION_1


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_rewrites_version_1_histories_as_the_library_reads_them(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url, engine = at_revision(kind, request, "0008")
    with engine.begin() as connection:
        enrolled_raw(connection, "ann")
        connection.execute(
            text(
                "INSERT INTO lk_customer_state (customer_id, name, document) "
                "VALUES ('ann', 'metrics', :document)"
            ),
            {"document": json.dumps(VERSION_1)},
        )
    upgrade(url)
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT document FROM lk_customer_state WHERE customer_id = 'ann'")
        )
        stored = json.loads(found.scalar_one())
    assert stored == metrics_to_document(metrics_from_document(VERSION_1))
    assert stored["version"] == 2 and stored["kept_from"] == "2016-02-10"
    february = ",,1450.00" + "," * 17 + "0.50"  # the 3rd and the 20th
    assert stored["months"]["spend"] == f"2026-02|1450.50|{february} 2026-03|1449.50|" + (
        "," * 9 + "1449.50"
    )
    loyalty = Loyalty(PROGRAM, storage=url)
    at = T0 + timedelta(days=60)
    loyalty.record_purchase(
        "ann", Purchase(amount=Money.of(100, "CNY")), at=at, idempotency_key="p1"
    )
    assert loyalty.tier("ann", at=at).effective == "silver"  # 2,900 before, 3,000 now
    loyalty.close()
    emptied(engine)
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_each_programme_s_histories_are_rewritten_as_their_own(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """One member id in two programmes (0012): each history is rewritten from its own
    version 1 document, not from the other programme's."""
    url, engine = at_revision(kind, request, "0015")
    brand_b = {
        "days": {"spend": {"2026-03-01": "10.00"}},
        "totals": {"spend": "10.00"},
        "gauges": {},
    }
    with engine.begin() as connection:
        for tenant, document in (("default", VERSION_1), ("brand-b", brand_b)):
            enrolled_raw(connection, "ann", tenant=tenant)
            connection.execute(
                text(
                    "INSERT INTO lk_customer_state (tenant, customer_id, name, document) "
                    "VALUES (:tenant, 'ann', 'metrics', :document)"
                ),
                {"tenant": tenant, "document": json.dumps(document)},
            )
    upgrade(url)
    with engine.begin() as connection:
        state = schema.customer_state  # read as the schema reads it (SQLite: 0016)
        found = dict(
            connection.execute(
                select(state.c.tenant, state.c.document).where(state.c.customer_id == "ann")
            ).all()
        )
    for tenant, document in (("default", VERSION_1), ("brand-b", brand_b)):
        expected = metrics_to_document(metrics_from_document(document))
        assert json.loads(found[tenant]) == expected, tenant
    emptied(engine)
    engine.dispose()
