"""Shards of the customer space, for batch jobs run by several workers at once.

A customer belongs to shard ``k`` of ``n`` when the first 32 bits of the MD5 digest of
its id (UTF-8), read as an unsigned big-endian number, leave ``k`` modulo ``n``. The
rule is stable (the same id is in the same shard in every process, on every run) and
computed the same way in Python and in SQL (``md5`` on PostgreSQL and MariaDB, a
function registered on SQLite), so ``n`` workers given ``Shard(0, n)`` ... ``Shard(n-1, n)``
cover every customer exactly once. See ``docs/concepts/scaling.md``.
"""

from __future__ import annotations

import hashlib

import attrs

from loyaltykit.errors import InvalidArgument

__all__ = ["Shard", "shard_hash"]

MAX_SHARDS = 4096


def shard_hash(key: str) -> int:
    """The 32-bit number a customer id (or record owner) is sharded by."""
    return int(hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:8], 16)


def _check(instance: Shard, _attribute: object, _value: int) -> None:
    index: object = instance.index
    total: object = instance.count
    if isinstance(total, bool) or not isinstance(total, int) or not 1 <= total <= MAX_SHARDS:
        raise InvalidArgument(f"shard count must be an integer from 1 to {MAX_SHARDS}: {total!r}")
    assert isinstance(total, int)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < total:
        raise InvalidArgument(
            f"shard index must be an integer from 0 to {total - 1} (count {total}): {index!r}"
        )


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (``Shard(0, 4)`` ... ``Shard(3, 4)``).

    >>> Shard.parse("1/4")
    Shard(index=1, count=4)
    >>> Shard(0, 1).holds("ann")
    True
    """

    index: int = attrs.field(validator=_check)
    count: int = attrs.field(validator=_check)

    @classmethod
    def parse(cls, text: str) -> Shard:
        """A shard from its command-line form ``K/N`` (``"0/4"``)."""
        index, slash, total = str(text).partition("/")
        if not slash or not index.strip().isdigit() or not total.strip().isdigit():
            raise InvalidArgument(f"a shard is written K/N, such as 0/4: {text!r}")
        return cls(int(index), int(total))

    def holds(self, key: str) -> bool:
        """Whether the customer id (or record owner) ``key`` is in this shard."""
        return shard_hash(key) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
