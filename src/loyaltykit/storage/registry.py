"""Storage URLs to backends.

A URL's scheme (``memory``, ``sqlite``, ``postgresql+psycopg`` -> ``postgresql``)
picks a backend from the entry-point group ``loyaltykit.storage``. Our own backends
are registered there exactly as a third party's would be; each entry point names a
callable that takes the URL and returns a :class:`~loyaltykit.storage.base.Storage`.
Entry points load lazily, so opening a memory store never imports SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

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
    entry_point = matches[0]
    try:
        factory: Callable[[str], Storage] = entry_point.load()
    except ImportError as error:
        raise StorageUnavailable(
            f"the {name!r} storage backend ({entry_point.value}) cannot be imported "
            f"({error}); {_remedy(name, entry_point)}"
        ) from error
    return factory


# the extra of each backend this distribution ships, for the "pip install" hint
_OUR_EXTRAS = {"sqlite": "sql", "postgresql": "postgres", "mysql": "mysql"}


def _remedy(name: str, entry_point: EntryPoint) -> str:
    """What to install: an extra of ours for our backends, else the plugin's own package
    (the distribution that declares the entry point), which only its author can fix."""
    distribution = entry_point.dist.name if entry_point.dist is not None else None
    if distribution == "loyaltykit" and name in _OUR_EXTRAS:
        return f"install the extra it needs: pip install 'loyaltykit[{_OUR_EXTRAS[name]}]'"
    if distribution is None:
        return "the entry point belongs to no installed distribution"
    return (
        f"it is provided by the package {distribution!r}: reinstall it or install "
        f"what it depends on (pip install --force-reinstall {distribution})"
    )


def open_storage(url: str) -> Storage:
    """Open the backend a URL names, e.g. ``open_storage("memory://")``."""
    scheme = scheme_of(url)
    known = backends()
    if scheme not in known:
        raise UnknownStorage(url, scheme, known)
    return _load(scheme)(url)
