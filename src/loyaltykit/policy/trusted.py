"""Frozen values the engine builds by the thousand, built without their ``__init__``.

An ``attrs`` frozen class sets each field through ``object.__setattr__`` in its generated
``__init__``, and the engine builds several such values per event: its effects, the
rules' view of the member, the lines of the trace. :func:`trusted` gives a constructor
that stores the slots directly, about 40% cheaper, for a class whose ``__init__`` would do
nothing more: no validator, no converter, no ``__attrs_pre_init__`` or
``__attrs_post_init__``. The values it builds are the same values (equal, hashed and
shown alike); a class that cannot be built this way is refused when the constructor is
made, at import, never silently built half-checked::

    increment = trusted(CounterIncrement)
    assert increment("cap:daily:2026-05-01", 40, None) == CounterIncrement(
        key="cap:daily:2026-05-01", amount=40
    )
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["trusted"]

T = TypeVar("T")
_new = object.__new__


def trusted(cls: type[T]) -> Callable[..., T]:
    """A constructor of the slotted ``attrs`` class ``cls`` taking every field's value,
    positionally, in declaration order (defaults included: nothing is filled in), and
    storing them without running ``cls.__init__``; :class:`TypeError` when that
    ``__init__`` would validate, convert or compute anything."""
    kind: Any = cls  # attrs.has would narrow ``cls`` to an attrs instance's type
    if not attrs.has(kind) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted attrs class")
    fields = attrs.fields(kind)
    for field in fields:
        if field.validator is not None or field.converter is not None or not field.init:
            raise TypeError(f"{cls.__name__}.{field.name} is validated, converted or computed")
    for hook in ("__attrs_pre_init__", "__attrs_post_init__"):
        if hasattr(cls, hook):
            raise TypeError(f"{cls.__name__} has {hook}")
    setters: list[Callable[[Any, Any], None]] = [getattr(cls, f.name).__set__ for f in fields]
    # one function per number of fields: a loop over the setters costs what it saves
    if len(setters) == 2:
        s0, s1 = setters

        def build2(v0: Any, v1: Any) -> T:
            value = _new(cls)
            s0(value, v0)
            s1(value, v1)
            return value

        return build2
    if len(setters) == 3:
        s0, s1, s2 = setters

        def build3(v0: Any, v1: Any, v2: Any) -> T:
            value = _new(cls)
            s0(value, v0)
            s1(value, v1)
            s2(value, v2)
            return value

        return build3
    if len(setters) == 4:
        s0, s1, s2, s3 = setters

        def build4(v0: Any, v1: Any, v2: Any, v3: Any) -> T:
            value = _new(cls)
            s0(value, v0)
            s1(value, v1)
            s2(value, v2)
            s3(value, v3)
            return value

        return build4
    if len(setters) == 6:
        s0, s1, s2, s3, s4, s5 = setters

        def build6(v0: Any, v1: Any, v2: Any, v3: Any, v4: Any, v5: Any) -> T:
            value = _new(cls)
            s0(value, v0)
            s1(value, v1)
            s2(value, v2)
            s3(value, v3)
            s4(value, v4)
            s5(value, v5)
            return value

        return build6

    def build(*values: Any) -> T:
        if len(values) != len(setters):
            raise TypeError(f"{cls.__name__} takes {len(setters)} values, not {len(values)}")
        value = _new(cls)
        for setter, field_value in zip(setters, values, strict=True):
            setter(value, field_value)
        return value

    return build
