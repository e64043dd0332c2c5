"""The layers of design.md: arrows point down, and a shortcut import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import loyaltykit

PACKAGE = Path(loyaltykit.__file__).parent

# what each layer may import from loyaltykit (besides itself)
ALLOWED = {
    "values": {"errors"},
    "errors": set(),
    "domain": {"values", "errors"},
    "policy": {"domain", "values", "errors"},
    "analytics": {"domain", "values", "errors"},
    "storage": {"storage", "domain", "values", "errors"},
    "outcomes": {"domain", "values", "errors"},
    "service": {"policy", "analytics", "domain", "storage", "outcomes", "values", "errors"},
    # the shell around the library: feeds, reports, the demo and the command
    "feed": {"service", "domain", "values", "errors"},
    "reports": {"service", "storage", "analytics", "domain", "values", "errors"},
    "demo": {"feed", "reports", "service", "policy", "values", "errors"},
    "cli": {
        "cli",
        "demo",
        "feed",
        "reports",
        "service",
        "storage",
        "policy",
        "domain",
        "outcomes",
        "values",
        "errors",
    },
}


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("loyaltykit.")
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("loyaltykit."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(PACKAGE.rglob("*.py")) if _layer(p) in ALLOWED],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_imports_point_down(path: Path) -> None:
    layer = _layer(path)
    wrong = _imports(path) - ALLOWED[layer] - {layer}
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


def test_the_core_does_not_import_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import loyaltykit, sys; loyaltykit.Loyalty(storage='memory://'); "
        "print('sqlalchemy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
