"""A batch worker that stalls inside its second chunk's transaction, to be killed there
(``python -m tests.integration.shard_workers URL K N AT MARKER``)."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

from loyaltykit import Loyalty, Shard
from loyaltykit.storage.base import BulkChunk
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.storage.sql.bulk import release_chunk


class Stalling(SqlStorage):
    """Releases one chunk, then holds the next one's transaction open (locks taken,
    entries written, nothing committed) until the process is killed."""

    chunks = 0

    def release_in_bulk(
        self,
        at: datetime,
        *,
        accounts: int,
        after: tuple[str, str] | None = None,
        shard: Shard | None = None,
    ) -> BulkChunk:
        self.chunks += 1
        if self.chunks < 2:
            return super().release_in_bulk(at, accounts=accounts, after=after, shard=shard)
        with self._transaction() as connection:
            chunk = release_chunk(
                connection, at, limit=accounts, after=after, shard=shard, tenant=self.tenant
            )
            assert chunk.accounts, "the stalled chunk must hold work"
            Path(MARKER).write_text("inside the transaction")
            time.sleep(600)
        raise AssertionError("killed before this")


if __name__ == "__main__":
    URL, K, N, AT, MARKER = sys.argv[1:6]
    storage = Stalling(SqlStorage.from_url(URL).engine)
    with Loyalty(storage=storage) as loyalty:
        loyalty.run_due(at=datetime.fromisoformat(AT), batch_size=3, shard=Shard(int(K), int(N)))
