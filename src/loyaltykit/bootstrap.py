"""The composition root: what ``storage=`` names becomes a backend here.

The service layer never imports a backend; this module, outside it, knows the built-in
ones and the plugins (``loyaltykit.storage`` entry points), and installs itself as the
facade's storage opener when ``loyaltykit`` is imported.
"""

from __future__ import annotations

from loyaltykit.errors import InvalidArgument
from loyaltykit.service.facade import Loyalty
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage

__all__ = ["Loyalty", "storage_from"]


def storage_from(storage: Storage | str | None) -> Storage:
    """The backend for ``storage``: a new in-memory store for ``None``, the backend its
    URL scheme names for a string, the object itself for a backend."""
    if storage is None:
        return MemoryStorage()
    if isinstance(storage, str):
        return open_storage(storage)
    for member in ("unit_of_work", "close", "capabilities"):
        if not hasattr(storage, member):
            raise InvalidArgument(
                f"storage: {storage!r} is not a storage backend, a URL or None (it has no {member})"
            )
    return storage


Loyalty.opener = staticmethod(storage_from)
