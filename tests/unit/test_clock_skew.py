"""The programme's clock-skew tolerance: built in Python or loaded, checked up front."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyaltykit import Program
from loyaltykit.errors import InvalidArgument, ProgramError


def test_the_default_tolerance_is_zero() -> None:
    assert Program().clock_skew == timedelta(0)


def test_a_tolerance_loads_and_round_trips() -> None:
    program = Program.from_dict({"clock_skew": {"minutes": 5, "seconds": 30}})
    assert program.clock_skew == timedelta(minutes=5, seconds=30)
    assert Program.from_dict(program.to_dict()) == program


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"minutes": -1}, "minutes: -1 is not a whole number of zero or more"),
        ("5m", "is not a table"),
        ({"days": 1}, "days"),
    ],
)
def test_a_bad_tolerance_is_refused_naming_it(value: object, message: str) -> None:
    with pytest.raises(ProgramError, match=message):
        Program.from_dict({"clock_skew": value})


def test_a_negative_tolerance_is_refused_in_python() -> None:
    with pytest.raises(InvalidArgument, match="clock_skew"):
        Program(clock_skew=timedelta(minutes=-1))
