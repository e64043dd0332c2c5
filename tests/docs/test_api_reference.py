"""The API reference covers the public API, and its griffe extension renders docstrings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import loyaltykit

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "docs" / "reference" / "api"
DIRECTIVE = re.compile(r"^::: (loyaltykit(?:\.\w+)*)$", re.MULTILINE)


def _extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("doctests", ROOT / "docs/griffe/doctests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_has_a_reference_entry() -> None:
    documented = {
        target
        for page in API.glob("*.md")
        for target in DIRECTIVE.findall(page.read_text(encoding="utf-8"))
    }
    missing = [name for name in loyaltykit.__all__ if f"loyaltykit.{name}" not in documented]
    assert missing == [], f"add `::: loyaltykit.NAME` to a page of docs/reference/api: {missing}"


def test_every_reference_page_is_in_the_site_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in API.glob("*.md"):
        assert f"reference/api/{page.name}" in nav, page.name


def test_doctest_examples_are_fenced_and_roles_become_code() -> None:
    extension = _extension()
    docstring = (
        "Money; see :class:`~loyaltykit.values.Money` and :meth:`quantize`.\n"
        "\n"
        ">>> Money.of(1, 'CNY')\n"
        "Money(amount=Decimal('1'), currency='CNY')\n"
        "\n"
        "After it.\n"
        "    >>> [1, 2]\n"
        "    [1, 2]"
    )
    fenced = extension.fenced(docstring)
    assert fenced.splitlines() == [
        "Money; see :class:`~loyaltykit.values.Money` and :meth:`quantize`.",
        "",
        "```pycon",
        ">>> Money.of(1, 'CNY')",
        "Money(amount=Decimal('1'), currency='CNY')",
        "```",
        "",
        "After it.",
        "```pycon",
        "    >>> [1, 2]",
        "    [1, 2]",
        "```",
    ]
    roles = extension.ROLE.sub(extension._role, docstring.splitlines()[0])
    assert roles == "Money; see `Money` and `quantize`."
    assert extension.ROLE.sub(extension._role, ":func:`loyaltykit.points_for`") == (
        "`loyaltykit.points_for`"
    )
