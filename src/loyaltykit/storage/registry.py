"""Storage URLs to backends.

A URL's scheme (``memory``, ``sqlite``, ``postgresql+psycopg`` -> ``postgresql``)
picks a backend from the entry-point group ``loyaltykit.storage``. Our own backends
are registered there exactly as a third party's would be; each entry point names a
callable that takes the URL and returns a :class:`~loyaltykit.storage.base.Storage`.
Entry points load lazily, so opening a memory store never imports SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from loyaltykit.errors import InvalidArgument, StorageUnavailable, UnknownStorage
from loyaltykit.storage.base import Storage

__all__ = ["GROUP", "backends", "open_storage", "scheme_of"]

GROUP = "loyaltykit.storage"


def scheme_of(url: str) -> str:
    """The backend name of a URL: ``"postgresql+psycopg://..."`` -> ``"postgresql"``."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidArgument(f"storage URL {url!r} has no scheme; expected e.g. 'memory://'")
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def backends() -> tuple[str, ...]:
    """The schemes of every registered backend, sorted."""
    return tuple(sorted({entry_point.name for entry_point in entry_points(group=GROUP)}))


def _load(name: str) -> Callable[[str], Storage]:
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not matches:
        raise UnknownStorage(name + "://", name, backends())
    try:
        factory: Callable[[str], Storage] = matches[0].load()
    except ImportError as error:
        raise StorageUnavailable(
            f"the {name!r} storage backend cannot be imported ({error}); "
            f"install the extra it needs, e.g. pip install 'loyaltykit[{_extra(name)}]'"
        ) from error
    return factory


def _extra(name: str) -> str:
    return {"sqlite": "sql", "postgresql": "postgres", "mysql": "mysql"}.get(name, name)


def open_storage(url: str) -> Storage:
    """Open the backend a URL names, e.g. ``open_storage("memory://")``."""
    scheme = scheme_of(url)
    known = backends()
    if scheme not in known:
        raise UnknownStorage(url, scheme, known)
    return _load(scheme)(url)
