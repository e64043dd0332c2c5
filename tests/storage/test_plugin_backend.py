"""A third-party backend, found through the entry-point group, runs the conformance suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loyaltykit import Loyalty
from loyaltykit.errors import StorageUnavailable, UnknownStorage
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import backends, open_storage
from loyaltykit.testing.conformance import StorageConformance

PLUGIN = Path(__file__).resolve().parents[1] / "plugin_backend"


@pytest.fixture(scope="module", autouse=True)
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Install the plugin's metadata (its entry point) the way pip would, temporarily."""
    site = tmp_path_factory.mktemp("site")
    info = site / "loyaltykit_dictstore-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loyaltykit-dictstore\nVersion: 0.1.0\n"
    )
    entry_points = (
        (PLUGIN / "pyproject.toml")
        .read_text()
        .split('[project.entry-points."loyaltykit.storage"]')[1]
    )
    lines = [line.replace('"', "") for line in entry_points.strip().splitlines()]
    (info / "entry_points.txt").write_text("[loyaltykit.storage]\n" + "\n".join(lines) + "\n")
    sys.path[:0] = [str(site), str(PLUGIN)]
    yield
    sys.path.remove(str(site))
    sys.path.remove(str(PLUGIN))
    sys.modules.pop("loyaltykit_dictstore", None)


def test_the_registry_finds_the_plugin_by_scheme() -> None:
    assert "dictstore" in backends()
    storage = open_storage("dictstore://")
    assert type(storage).__name__ == "DictStorage"
    loyalty = Loyalty(storage="dictstore://")
    assert type(loyalty.storage).__name__ == "DictStorage"
    with pytest.raises(UnknownStorage, match="nosuch"):
        open_storage("nosuch://x")


def test_the_plugin_is_written_against_the_protocols_alone() -> None:
    import ast

    storage = open_storage("dictstore://")
    assert isinstance(storage, Storage)
    assert not isinstance(storage, MemoryStorage)
    source = (PLUGIN / "loyaltykit_dictstore" / "__init__.py").read_text()
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    ours = {module for module in imported if module.startswith("loyaltykit.")}
    assert ours == {
        "loyaltykit.domain.cards",
        "loyaltykit.domain.customer",
        "loyaltykit.domain.ledger",
        "loyaltykit.domain.records",
        "loyaltykit.domain.stored_value",
        "loyaltykit.errors",
        "loyaltykit.storage.base",
    }


class TestPluginConformance(StorageConformance):
    @pytest.fixture
    def storage(self) -> Storage:
        return open_storage("dictstore://")


@pytest.fixture
def broken_plugin(tmp_path: Path) -> Iterator[None]:
    """A plugin distribution whose module cannot be imported (a dependency is missing)."""
    info = tmp_path / "loyaltykit_brokenstore-0.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loyaltykit-brokenstore\nVersion: 0.2.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[loyaltykit.storage]\nbrokenstore = loyaltykit_brokenstore:Storage.from_url\n"
    )
    (tmp_path / "loyaltykit_brokenstore.py").write_text("import a_driver_nobody_installed\n")
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("loyaltykit_brokenstore", None)


@pytest.mark.usefixtures("broken_plugin")
def test_a_plugin_that_cannot_be_imported_names_its_own_package() -> None:
    with pytest.raises(StorageUnavailable) as raised:
        open_storage("brokenstore://x")
    message = str(raised.value)
    assert "'loyaltykit-brokenstore'" in message, message
    assert "a_driver_nobody_installed" in message
    assert "loyaltykit[" not in message, message  # no extra of ours provides it
