"""Every error a web layer can map: a stable, unique code, an HTTP status, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import loyaltykit
from loyaltykit import errors
from loyaltykit.errors import CustomerAlreadyExists, InsufficientPoints, LoyaltyError

# importing these modules defines the errors that live beside their concept
from loyaltykit.policy import conditions  # noqa: F401

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "errors.md"


def _every_error() -> list[type[LoyaltyError]]:
    found: list[type[LoyaltyError]] = []
    pending: list[type[LoyaltyError]] = [LoyaltyError]
    while pending:
        error = pending.pop()
        if error.__module__.startswith("loyaltykit") and error not in found:
            found.append(error)
            pending.extend(error.__subclasses__())
    return sorted(found, key=lambda error: error.__name__)


def _defined_in_errors() -> list[type[LoyaltyError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, LoyaltyError)
        and value.__module__ == errors.__name__
    ]


def test_the_tree_covers_the_errors_module() -> None:
    assert set(_defined_in_errors()) <= set(_every_error())
    assert len(_defined_in_errors()) >= 37
    assert {error.__name__ for error in _defined_in_errors()} == set(errors.__all__)


@pytest.mark.parametrize("error", _every_error(), ids=lambda error: error.__name__)
def test_every_error_has_its_own_code_and_an_http_status(error: type[LoyaltyError]) -> None:
    # its own: a subclass that inherited its parent's code could not be told apart
    assert "code" in vars(error), f"{error.__name__} defines no code of its own"
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error.code)
    assert 400 <= error.http_status <= 599


def test_codes_are_unique() -> None:
    codes = [error.code for error in _every_error()]
    duplicated = sorted({code for code in codes if codes.count(code) > 1})
    assert not duplicated, f"codes used by more than one error: {duplicated}"


@pytest.mark.parametrize("error", _every_error(), ids=lambda error: error.__name__)
def test_every_error_is_documented_with_its_code_and_status(error: type[LoyaltyError]) -> None:
    rows = [
        line
        for line in PAGE.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"| `{error.__name__}` |")
    ]
    assert rows, f"{error.__name__} is missing from docs/reference/errors.md"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == f"`{error.code}`"
    assert cells[2] == str(error.http_status)
    assert cells[4], f"{error.__name__}: the page does not say when it is raised"


def test_a_problem_document_carries_the_code_status_and_attributes() -> None:
    problem = InsufficientPoints("c-1", "points", 500, 120).problem()
    assert problem == {
        "type": "insufficient_points",
        "title": "InsufficientPoints",
        "status": 409,
        "detail": "customer 'c-1' has 120 points available, 500 were requested",
        "customer_id": "c-1",
        "point_type": "points",
        "requested": 500,
        "available": 120,
    }
    assert CustomerAlreadyExists("c-1").problem()["status"] == 409
    # values that are not JSON are shown as text
    assert errors.InvalidAmount("points", 1.5j, "an int").problem()["value"] == "1.5j"


def test_the_errors_are_reachable_from_the_package() -> None:
    assert loyaltykit.errors is errors
