"""Condition variables: the fields of a value a condition reads, from a table of readers.

A condition reads ``event.amount`` or ``customer.tier`` from a mapping built per event.
:func:`variables` builds it from a table naming how each field is read, so the same table
gives every field (a condition the engine cannot see into, a campaign's audience) or only
the fields a programme's conditions read (decided once, when its plan is compiled).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from loyaltykit.values import Metadata

__all__ = ["Readers", "variables"]

T = TypeVar("T")
Readers = Mapping[str, Callable[[T], Any]]
"""How each named field of a value is read."""


def variables(
    subject: T,
    readers: Readers[T],
    attributes: Metadata,
    fields: Collection[str] | None = None,
) -> dict[str, Any]:
    """The variables of ``subject``: its free ``attributes``, then the fields ``readers``
    read (a field wins over an attribute of the same name); with ``fields``, only those
    (a name neither holds is absent, as it is from the whole mapping)."""
    if fields is None:
        found = dict(attributes)
        for name, read in readers.items():
            found[name] = read(subject)
        return found
    found = {}
    free: dict[str, Any] | None = None
    for name in fields:
        field = readers.get(name)
        if field is not None:
            found[name] = field(subject)
            continue
        if free is None:
            free = dict(attributes)
        if name in free:
            found[name] = free[name]
    return found
