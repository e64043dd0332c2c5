"""The one problem collector every loader reads with, and the error it raises.

A loader never stops at the first problem: it reads the whole document through a
:class:`Problems`, which records each problem with its path, and raises one
:class:`ProgramError` listing them all::

    ProgramError: 2 problems in program 'retail':
      rules[1].per: '-5' must be a positive amount
      caps[0].period: 'fortnight' is not one of ['event', 'day', ...]

Paths are written as prefixes: a table at ``rules[1]`` reads its fields with the
prefix ``"rules[1]."``, so a field's path is the prefix and its key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from decimal import InvalidOperation
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from loyaltykit.errors import InvalidArgument, LoyaltyError, ProgramError, shown

__all__ = [
    "MAX_INT",
    "MAX_NESTING",
    "MAX_NODES",
    "MAX_STRING",
    "Problems",
    "ProgramError",
    "document_problems",
    "toml_document",
]

T = TypeVar("T")
MAX_NESTING = 32
"""How deeply a programme document may nest tables and lists."""
MAX_INT = 2**53 - 1
"""The largest integer a programme document may hold (JavaScript's safe integers)."""
MAX_STRING = 10_000
"""The longest string a programme document may hold, in characters."""
MAX_NODES = 100_000
"""The most values (tables, lists, scalars) a programme document may hold."""


_NAMES = {str: "a string", int: "an integer", bool: "true or false", float: "a number"}


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(_NAMES.get(kind, kind.__name__) for kind in kinds) or "valid"


class Problems:
    """Reads typed fields out of nested mappings, collecting every problem with its path.

    ``problems`` is the list found so far, in the order the document was read; a part
    that compares ``len(problems)`` before and after knows whether it read cleanly.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Record that the value at ``path`` is wrong, saying how."""
        self.problems.append(f"{path}: {message}")

    def field(
        self,
        data: Mapping[str, Any],
        prefix: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: T | None = None,
        *,
        required: bool = False,
    ) -> Any:
        """``data[key]`` if it is of ``kind`` (a bool is never an int here), else
        ``default`` and a problem at ``prefix + key`` (when present or required)."""
        if key not in data:
            if required:
                self.add(prefix + key, "is required")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            self.add(prefix + key, f"{value!r} is not {_names(kinds)}")
            return default
        return value

    def kind(self, data: Mapping[str, Any], prefix: str, kinds: Mapping[str, T]) -> T | None:
        """What the required ``kind`` field of ``data`` names among ``kinds`` (a rule's
        class, an effect's), or ``None`` and a problem at ``prefix + "kind"``."""
        kind = self.field(data, prefix, "kind", str, required=True)
        if kind is None:
            return None
        if kind not in kinds:
            self.add(prefix + "kind", f"{kind!r} is not one of {sorted(kinds)}")
            return None
        return kinds[kind]

    def table(self, value: Any, path: str) -> Mapping[str, Any] | None:
        """``value`` if it is a table, else ``None`` and a problem at ``path``."""
        if not isinstance(value, Mapping):
            self.add(path, f"{value!r} is not a table")
            return None
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        """``value`` as a list if it is one, else empty and a problem at ``path``."""
        if not isinstance(value, list | tuple):
            self.add(path, f"{value!r} is not a list")
            return []
        return list(value)

    def build(self, path: str, make: Callable[[], T]) -> T | None:
        """``make()``, or ``None`` and its error as a problem at ``path``: a value's own
        validation (attrs validators, the condition parser) reports where it was read."""
        try:
            return make()
        except (LoyaltyError, TypeError, ValueError, InvalidOperation) as error:
            self.add(path, str(error))
        return None

    def unknown(self, data: Mapping[str, Any], prefix: str, known: tuple[str, ...]) -> None:
        """A problem for every key of ``data`` not in ``known``."""
        for key in data:
            if key not in known:
                self.add(prefix + key, f"unknown field (known: {', '.join(known)})")

    def raise_if_any(self, name: str) -> None:
        """Raise the :class:`ProgramError` listing every problem, if there is one."""
        if self.problems:
            self.fail(name)

    def fail(self, name: str) -> NoReturn:
        """Raise the :class:`ProgramError` listing every problem."""
        raise ProgramError(name, self.problems)


def document_problems(data: Any) -> list[str]:
    """What makes ``data`` too big to read safely, each with its path: nesting deeper than
    :data:`MAX_NESTING`, an integer beyond :data:`MAX_INT`, a string longer than
    :data:`MAX_STRING`, more than :data:`MAX_NODES` values. Walked without recursion, so
    a document nested 100,000 deep is refused, not a ``RecursionError``."""
    problems: list[str] = []
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    seen = 0
    while stack and len(problems) < 10:
        path, value, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            problems.append(f"program: more than {MAX_NODES} values")
            break
        where = path or "program"
        if isinstance(value, Mapping | list | tuple):
            if depth >= MAX_NESTING:
                problems.append(f"{where}: nested more than {MAX_NESTING} levels deep")
                continue
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(key, str) or len(key) > 100:
                        problems.append(f"{where}: a key is not a short string")
                        continue
                    stack.append((f"{path}.{key}" if path else key, item, depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((f"{path}[{index}]", item, depth + 1))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_INT <= value <= MAX_INT:
                problems.append(f"{where}: an integer beyond ±{MAX_INT}")
        elif isinstance(value, str) and len(value) > MAX_STRING:
            problems.append(f"{where}: a string of {len(value)} characters (at most {MAX_STRING})")
    return problems


def toml_document(path: str | Path) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict: a file that is not TOML is a
    :class:`ProgramError` naming it (a missing or unreadable file is the file system's
    ``OSError``, as with ``open``; anything but a path is refused: ``open(0)`` would read
    standard input)."""
    if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
        raise InvalidArgument(f"path: {shown(path)} is not a file path (a str or a Path)")
    with open(path, "rb") as file:
        try:
            return tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ProgramError(str(path), [f"{path}: {error}"]) from None
        except (RecursionError, ValueError):  # nesting, or an int past Python's digit limit
            raise ProgramError(str(path), [f"{path}: too deeply nested or too large"]) from None
