"""The shard rule: one in Python and in SQL on every backend, and batch jobs split by it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from loyaltykit import Loyalty, Shard
from loyaltykit.errors import InvalidArgument
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.storage.sql.shards import in_shard, prepare
from tests.integration.workers import T0


@pytest.mark.parametrize("text", ["4/4", "-1/4", "1", "a/b", "1/0", "0/5000", ""])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        Shard.parse(text)


def test_a_shard_parses_and_prints() -> None:
    assert Shard.parse(" 3 / 8 ".replace(" ", "")) == Shard(3, 8)
    assert str(Shard(3, 8)) == "3/8"


def test_each_key_is_in_exactly_one_shard() -> None:
    keys = [f"k{n}" for n in range(300)] + ["两", "😀", "a" * 128]
    for key in keys:
        assert sum(Shard(k, 5).holds(key) for k in range(5)) == 1
    # and the shards share the keys out about evenly
    sizes = [sum(Shard(k, 3).holds(key) for key in keys) for k in range(3)]
    assert min(sizes) > 70, sizes


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_sql_puts_each_id_in_the_shard_python_does(
    kind: str, request: pytest.FixtureRequest
) -> None:
    storage = SqlStorage.from_url(request.getfixturevalue(f"{kind}_url"), migrate=True)
    keys = [f"c-{n}" for n in range(60)] + ["两", "é:x", "ZZ@9"]
    try:
        with storage.engine.connect() as connection:
            prepare(connection)
            for count in (1, 3, 7):
                for k in range(count):
                    shard = Shard(k, count)
                    query = select(*(in_shard(literal(key), shard) for key in keys))
                    flags = [bool(flag) for flag in connection.execute(query).one()]
                    assert flags == [shard.holds(key) for key in keys], (kind, shard)
    finally:
        storage.close()


def test_shards_split_the_memory_backends_expiry_between_workers() -> None:
    loyalty = Loyalty(storage=MemoryStorage())
    customers = [f"m{n}" for n in range(20)]
    for customer in customers:
        loyalty.enroll(customer, at=T0, idempotency_key="e")
        loyalty.earn(customer, 3, at=T0, idempotency_key="x", expires_at=T0 + timedelta(days=1))
    at = T0 + timedelta(days=2)
    done = [loyalty.expire_due(at=at, shard=Shard(k, 3)).accounts for k in range(3)]
    assert done == [sum(Shard(k, 3).holds(c) for c in customers) for k in range(3)]
    assert sum(done) == len(customers)
    assert loyalty.expire_due(at=at).accounts == 0


def test_a_shard_is_refused_by_a_backend_that_cannot_scan_by_one() -> None:
    import attrs

    from loyaltykit import Capabilities

    class Unsharded(MemoryStorage):
        capabilities = attrs.evolve(MemoryStorage.capabilities, shards=False)

    loyalty = Loyalty(storage=Unsharded())
    assert Unsharded.capabilities == Capabilities(shards=False)
    for job in (loyalty.run_due, loyalty.expire_due, loyalty.release_pending):
        with pytest.raises(InvalidArgument, match="cannot split batch work by shard"):
            job(at=T0, shard=Shard(0, 2))
    with pytest.raises(InvalidArgument, match="shard"):
        loyalty.requalify_tiers(at=T0, shard=Shard(1, 2))
    assert loyalty.expire_due(at=T0).accounts == 0  # without a shard it runs whole


def test_run_due_on_the_command_line_refuses_a_bad_shard(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from loyaltykit.cli import cli

    db = f"sqlite:///{tmp_path / 'l.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    at = "2026-05-01T00:00:00+00:00"
    refused = runner.invoke(cli, ["run-due", "--db", db, "--at", at, "--shard", "4/4"])
    assert refused.exit_code == 2 and "--shard" in refused.output, refused.output
    done = runner.invoke(cli, ["run-due", "--db", db, "--at", at, "--shard", "1/4", "--json"])
    assert done.exit_code == 0, done.output
