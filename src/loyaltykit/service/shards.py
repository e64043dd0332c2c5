"""A batch job's shard argument, checked once for every job that takes one."""

from __future__ import annotations

from loyaltykit.domain.shards import Shard
from loyaltykit.errors import InvalidArgument
from loyaltykit.service.kernel import Kernel

__all__ = ["shard_arguments"]


def shard_arguments(kernel: Kernel, shard: Shard | None) -> dict[str, Shard]:
    """The keyword arguments that pass ``shard`` to the backend's batch scans: none
    without a shard (a backend of an older protocol still runs whole), ``{"shard":
    shard}`` with one. A shard the backend cannot scan by is refused."""
    if shard is None:
        return {}
    if not isinstance(shard, Shard):
        raise InvalidArgument(f"shard must be a Shard(index, count): {shard!r}")
    if not kernel.storage.capabilities.shards:
        raise InvalidArgument(
            "this storage backend cannot split batch work by shard "
            "(Capabilities.shards is false): run one worker without a shard"
        )
    return {"shard": shard}
