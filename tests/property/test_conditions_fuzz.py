"""Fuzzing: no text reaches the interpreter; valid expressions compute what Python would."""

from __future__ import annotations

import builtins
import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.policy.conditions import Condition, ConditionError, ConditionEvaluationError

ALPHABET = st.sampled_from(
    [
        *"abxy_.()[]{}'\\\"=<>!+-*/%,:;01239 \n@#~^&|",
        "__",
        "import",
        "lambda",
        "os",
        "eval",
        "exec",
        "open",
        "class",
        "not ",
        " in ",
        " and ",
        " or ",
    ]
)
TEXT = st.lists(ALPHABET, max_size=40).map("".join) | st.text(max_size=60)


@settings(max_examples=600)
@given(text=TEXT)
def test_any_text_parses_or_raises_condition_error_and_runs_nothing(text: str) -> None:
    calls: list[str] = []
    originals = {name: getattr(builtins, name) for name in ("eval", "exec", "open", "__import__")}

    def make_trap(name: str) -> Any:
        def trap(*args: Any, **kwargs: Any) -> Any:
            # Python's own tokenizer imports unicodedata to normalise non-ASCII names
            if not (name == "__import__" and args and args[0] == "unicodedata"):
                calls.append(name)
            return originals[name](*args, **kwargs)

        return trap

    for name in originals:
        setattr(builtins, name, make_trap(name))
    try:
        try:
            condition = Condition.parse(text)
        except ConditionError:
            return
        with contextlib.suppress(ConditionEvaluationError):
            condition.evaluate({"a": 1, "b": 2, "x": "s", "y": [1]})
    finally:
        for name, original in originals.items():
            setattr(builtins, name, original)
    assert calls == [], f"{text!r} reached {calls}"


def _expressions() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(["a", "b", "c", "1", "2", "7", "0", "-3"])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.sampled_from(["<", "<=", "==", "!=", ">", ">="]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda e: f"(not {e})"),
        ),
        max_leaves=12,
    )


@settings(max_examples=400)
@given(expression=_expressions(), a=st.integers(-5, 5), b=st.integers(-5, 5), c=st.integers(-5, 5))
def test_valid_expressions_agree_with_python(expression: str, a: int, b: int, c: int) -> None:
    # the oracle evaluates text the test itself generated, never the library
    expected = bool(eval(expression, {"__builtins__": {}}, {"a": a, "b": b, "c": c}))
    assert Condition.parse(expression).evaluate({"a": a, "b": b, "c": c}) is expected


@given(expression=_expressions())
def test_parsing_is_deterministic(expression: str) -> None:
    assert Condition.parse(expression) == Condition.parse(expression)
    assert Condition.parse(expression).names == Condition.parse(expression).names
