"""Every ```toml block of the campaign pages and recipes is a program that loads and
round-trips."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from loyaltykit import ComplaintPolicy, Program

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "docs" / "concepts" / "campaigns.md",
    *sorted((ROOT / "docs" / "recipes").glob("*.md")),
]
BLOCK = re.compile(r"^```toml[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


BLOCKS = [
    (f"{page.name}:{n}", block)
    for page in PAGES
    for n, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")))
]


def test_the_campaign_pages_show_programs_in_toml() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_toml_blocks_are_programs(where: str, block: str) -> None:
    program = Program.from_dict(tomllib.loads(block))
    assert Program.from_dict(program.to_dict()) == program
    shows = program.campaigns or program.care is not None
    assert shows or program.complaints != ComplaintPolicy(), where
