"""A programme's promises: a value, a [promises] table, and a dict round trip."""

from __future__ import annotations

import pytest

from loyaltykit import Program
from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.policy.promises import Promises
from loyaltykit.policy.rules import FirstPurchase, FixedPoints

RULES = [
    {"id": "welcome", "kind": "first_purchase", "amount": 100},
    {"id": "visit", "kind": "fixed", "amount": 5},
]


def test_promises_default_to_monotone_and_split_safe_with_no_groups() -> None:
    assert Program().promises == Promises(monotone=True, split_safe=True, exclusive=())


def test_the_promises_table_loads_and_dumps_back_equal() -> None:
    program = Program.from_dict(
        {
            "rules": RULES,
            "promises": {"split_safe": False, "exclusive": [["welcome", "visit"]]},
        }
    )
    assert program.promises == Promises(split_safe=False, exclusive=[("welcome", "visit")])
    assert program.to_dict()["promises"] == {
        "monotone": True,
        "split_safe": False,
        "exclusive": [["welcome", "visit"]],
    }
    assert Program.from_dict(program.to_dict()) == program


def test_default_promises_are_not_dumped() -> None:
    assert "promises" not in Program().to_dict()


@pytest.mark.parametrize(
    ("promises", "problem"),
    [
        ({"exclusive": [["welcome", "nope"]]}, "rules ['nope'] are not in the program"),
        ({"exclusive": [["welcome"]]}, "needs two or more distinct rule ids"),
        ({"exclusive": "welcome"}, "is not a list of groups"),
        ({"monotone": "yes"}, "promises.monotone: 'yes' is not true or false"),
        ({"fair": True}, "promises.fair: unknown field"),
    ],
)
def test_bad_promises_are_refused_naming_the_value(
    promises: dict[str, object], problem: str
) -> None:
    with pytest.raises(ProgramError, match="problem") as raised:
        Program.from_dict({"rules": RULES, "promises": promises})
    assert problem in str(raised.value)


def test_a_program_refuses_exclusive_groups_of_unknown_rules() -> None:
    rules = (FirstPurchase(id="welcome", amount=1), FixedPoints(id="visit", amount=1))
    with pytest.raises(InvalidArgument, match=r"\['ghost'\]"):
        Program(rules=rules, promises=Promises(exclusive=[("welcome", "ghost")]))
