"""The public API of ``loyaltykit``: lazy, complete, and one list in three places.

``import loyaltykit`` loads no area of the library (PEP 562 ``__getattr__``), so these
tests run the import in a fresh interpreter: this one has imported everything already.
Import *time* is measured by benchmarks/import_time.py, not here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import loyaltykit

INIT = Path(loyaltykit.__file__)
HEAVY = ("sqlalchemy", "alembic", "loyaltykit.storage.sql", "dateutil.rrule", "loyaltykit.service")


def _fresh(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_the_package_imports_no_area_of_it() -> None:
    loaded = _fresh(
        "import sys, loyaltykit; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); "
        "print(sorted(m for m in sys.modules if m.startswith('loyaltykit')))"
    ).splitlines()
    assert loaded == ["[]", "['loyaltykit']"]


def test_a_memory_round_trip_does_not_import_the_sql_backend() -> None:
    code = (
        "import sys; from datetime import datetime, UTC; from loyaltykit import Loyalty; "
        "at = datetime(2026, 1, 1, tzinfo=UTC); loyalty = Loyalty(); "
        "loyalty.enroll('c1', at=at, idempotency_key='e1'); "
        "loyalty.earn('c1', 10, at=at, idempotency_key='o1'); "
        "print(loyalty.balance('c1').available, "
        "[m for m in ('sqlalchemy', 'loyaltykit.storage.sql') if m in sys.modules])"
    )
    assert _fresh(code) == "10 []"


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    code = (
        "import loyaltykit; "
        "missing = [n for n in loyaltykit.__all__ if getattr(loyaltykit, n, None) is None]; "
        "print(missing, len(loyaltykit.__all__))"
    )
    assert _fresh(code) == f"[] {len(loyaltykit.__all__)}"


@pytest.mark.parametrize("name", loyaltykit.__all__)
def test_a_public_name_is_the_object_of_its_module(name: str) -> None:
    module = sys.modules[loyaltykit._EXPORTS[name]]
    expected = module if module.__name__ == f"loyaltykit.{name}" else getattr(module, name)
    assert getattr(loyaltykit, name) is expected


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nonexistent'"):
        loyaltykit.Nonexistent  # type: ignore[attr-defined]  # noqa: B018
    assert "Loyalty" in dir(loyaltykit)


def _static_lists() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(names imported under TYPE_CHECKING -> module, _EXPORTS, __all__) read from the
    source, as a type checker reads it."""
    tree = ast.parse(INIT.read_text())
    typed: dict[str, str] = {}
    exports: dict[str, str] = {}
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imported in node.body:
                assert isinstance(imported, ast.ImportFrom) and imported.module
                for alias in imported.names:
                    module = imported.module
                    typed[alias.name] = (
                        f"{module}.{alias.name}" if module == "loyaltykit" else module
                    )
        elif isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "_EXPORTS":
            exports = ast.literal_eval(node.value)  # type: ignore[arg-type]
            keys = [key.value for key in node.value.keys]  # type: ignore[attr-defined, union-attr]
            assert keys == sorted(keys), "keep _EXPORTS sorted, one name per line"
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            names = ast.literal_eval(node.value)
    return typed, exports, names


def test_the_three_lists_of_public_names_agree() -> None:
    typed, exports, names = _static_lists()
    assert exports == typed, "import every _EXPORTS name under TYPE_CHECKING, and only those"
    assert sorted(names) == sorted(exports) and len(set(names)) == len(names)
    assert loyaltykit.__all__ == names
