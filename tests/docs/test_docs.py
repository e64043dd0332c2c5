"""Every ```python block in README.md and docs/ runs, in order, one namespace per file.

Only blocks fenced exactly as ```python run; ```text, ```toml, ```mermaid and the like
are shown, not run. Each block is compiled under the page's own name with its lines
numbered as in the page, so a traceback points at the page and the line that failed.
The quickstart example (``make demo``) runs here too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line, source)`` of every ```python block; lines count from 1."""
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in BLOCK.finditer(text)
    ]


def run_page(text: str, name: str) -> None:
    """Run a page's blocks in order in one fresh namespace; fail naming the page line."""
    namespace: dict[str, object] = {"__name__": f"docs:{name}"}
    for first, source in code_blocks(text):
        # padding puts every statement on its line number in the page
        code = compile("\n" * (first - 1) + source, name, "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            lines = [
                frame.lineno
                for frame in traceback.extract_tb(error.__traceback__)
                if frame.filename == name and frame.lineno is not None
            ]
            line = lines[-1] if lines else first
            shown = text.splitlines()[line - 1].strip()
            raise AssertionError(
                f"{name}:{line} (in the block starting at line {first}) failed:\n"
                f"    {shown}\n{type(error).__name__}: {error}"
            ) from error


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_code_blocks_run(page: Path) -> None:
    run_page(page.read_text(encoding="utf-8"), _page_id(page))


def test_the_docs_have_code_to_run() -> None:
    counts = {_page_id(page): len(code_blocks(page.read_text(encoding="utf-8"))) for page in PAGES}
    for page in ("README.md", "docs/concepts/ledger.md", "docs/guides/quickstart.md"):
        assert counts[page] >= 1, f"{page} has no ```python block to run"


def test_a_failing_block_names_the_page_and_line() -> None:
    page = (
        "intro\n\n```python\nx = 1\n```\n\n```text\nnot run\n```\n\n```python\nassert x == 2\n```\n"
    )
    assert [first for first, _ in code_blocks(page)] == [4, 12]
    expected = r"^page\.md:12 \(in the block starting at line 12\) failed:\n    assert x == 2\n"
    with pytest.raises(AssertionError, match=expected):
        run_page(page, "page.md")


def test_other_languages_are_not_run() -> None:
    page = "```text\nraise SystemExit\n```\n```pycon\n>>> 1/0\n```\n```python3\n1/0\n```\n"
    assert code_blocks(page) == []
    run_page(page, "page.md")


def test_the_quickstart_example_runs_and_is_deterministic() -> None:
    script = ROOT / "examples" / "quickstart.py"
    runs = [
        subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert "m-zhao   Zhao Lei           0        0     215        0      94    144" in runs[0]
    assert "2026-04-08 12:00  release            +79      -79" in runs[0]
