"""Fuzz the whole public surface: every call returns or raises a ``LoyaltyError``, and a
refused call changes nothing.

Each facade method of :class:`Loyalty` and each public constructor gets arguments drawn
from ``st.from_type`` of its annotations (where hypothesis can build the type) mixed with
hostile values: ``None``, wrong types, huge and tiny numbers, NaN and infinities, lone
surrogates, control characters, deep nesting, huge strings, out-of-range instants. The
facade runs on memory and on SQLite, seeded with two customers who hold points, so that
calls reach past the first check. Runs are derandomized: the same examples every time.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import os
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

import loyaltykit
import loyaltykit.aio
import loyaltykit.testing
from loyaltykit import CustomEvent, Item, Loyalty, Money, Profile, Purchase
from loyaltykit.errors import LoyaltyError

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
CUSTOMERS = ("c-1", "c-2")
# LOYALTYKIT_FUZZ_EXAMPLES=20 multiplies every budget by 20 for a long local run
SCALE = int(os.environ.get("LOYALTYKIT_FUZZ_EXAMPLES", "1"))
EXAMPLES = 12 * SCALE  # per constructor
# per facade method and backend: SQLite's calls cost a few milliseconds each
FACADE_EXAMPLES = {"memory": 12 * SCALE, "sqlite": 4 * SCALE}

# calls that end the facade's life or hand back a context manager rather than a result,
# and the hooks a caller replaces (the sources of randomness), which are not commands
NOT_FUZZED = {"close", "batch", "seed_source", "voucher_source"}
# the facade's methods are descriptors (``_area``) that unwrap to the area's function
METHODS = sorted(
    name
    for name, member in inspect.getmembers(Loyalty)
    if not name.startswith("_")
    and callable(inspect.unwrap(member))
    and not isinstance(member, property)
    and name not in NOT_FUZZED
)


class _DeepList(list[Any]):
    def __repr__(self) -> str:  # hypothesis prints failing examples; keep that finite
        return "<a list nested 10,000 deep>"


class _DeepDict(dict[str, Any]):
    def __repr__(self) -> str:
        return "<a dict nested 10,000 deep>"


def _deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return _DeepList(value)


def _deep_dict(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return _DeepDict(value)


class _HugeInt(int):
    def __repr__(self) -> str:  # repr() of a 5000-digit int raises ValueError
        return "<a 5000-digit int>"


class _LongText(str):
    # the strategies' reprs hold their values: a megabyte of text in one made hypothesis
    # build multi-megabyte reprs (a HypothesisWarning, an error here) and, while
    # shrinking, gigabytes of them
    def __repr__(self) -> str:
        return f"<{len(self):,} x {self[:1]!r}>"


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "c-1\n",
        "a\x00b",
        "\ud800",
        "x" * 129,
        "x" * 300,
        _LongText("x" * 1_000_000),
        "c-1",
        "points",
        "gold",
        "\u202e",
        "1e-999999999",
        "1E+999999999",
        "NaN",
        "-1",
        "1/0",
    ]
)
HOSTILE_NUMBERS = st.sampled_from(
    [
        0,
        -1,
        2**53,
        2**63,
        -(2**63) - 1,
        10**30,
        _HugeInt(10**5000),
        float("nan"),
        float("inf"),
        -0.0,
        1.5,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("1e-999999999"),
        Decimal("1E+999999999"),
        Decimal("-0"),
        Fraction(1, 10**40),
    ]
)
HOSTILE_INSTANTS = st.sampled_from(
    [
        datetime(2026, 5, 1, 12),  # naive
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-8))),
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        date(2026, 5, 1),
    ]
)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    HOSTILE_NUMBERS,
    st.text(max_size=8),
    HOSTILE_TEXT,
    HOSTILE_INSTANTS,
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.sampled_from([_deep_list(10_000), _deep_dict(10_000), object(), {1, 2}, ()]),
)

INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
KEYS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
AMOUNTS = st.decimals(min_value=0, max_value=10_000, places=2).map(lambda d: Money.of(d, "CNY"))
PURCHASES = st.builds(
    Purchase,
    amount=AMOUNTS,
    items=st.lists(
        st.builds(Item, sku=KEYS, quantity=st.integers(1, 5), unit_price=AMOUNTS), max_size=2
    ),
)
# plausible values by parameter name, so that calls reach past the first check
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "customer_id": st.sampled_from((*CUSTOMERS, "c-3")),
    "from_customer": st.sampled_from(CUSTOMERS),
    "to_customer": st.sampled_from((*CUSTOMERS, "c-3")),
    "referrer": st.sampled_from(CUSTOMERS),
    "idempotency_key": KEYS,
    "original_key": st.sampled_from(["seed-c-1", "seed-c-2"]),
    "purchase_key": st.sampled_from(["seed-c-1", "seed-c-2"]),
    "at": INSTANTS,
    "until": INSTANTS,
    "since": INSTANTS,
    "expires_at": INSTANTS,
    "available_from": INSTANTS,
    "points": st.integers(-5, 10**6),
    "quantity": st.integers(-1, 3),
    "point_type": st.sampled_from(["points", "tier"]),
    "purchase": PURCHASES,
    "profile": st.builds(Profile, name=KEYS, tags=st.frozensets(KEYS, max_size=3)),
    "event": st.builds(CustomEvent, type=KEYS),
    "bill": AMOUNTS,
    "unit_price": st.none() | AMOUNTS,
    "amount": AMOUNTS,
    "value_per_point": AMOUNTS,
    "portion": st.fractions(min_value=0, max_value=1),
    "metadata": st.dictionaries(KEYS, st.integers() | st.text(max_size=5), max_size=3),
    "reason": st.text(max_size=20),
    "actor": st.text(max_size=20),
    "note": st.text(max_size=20),
}


def _hint_strategy(hint: Any) -> st.SearchStrategy[Any] | None:
    try:
        strategy = st.from_type(hint)
        # resolve now: a type hypothesis cannot build fails here, not in the middle of a run
        strategy.validate()
        return strategy
    except Exception:
        return None


def _parameters(function: Callable[..., Any]) -> list[tuple[inspect.Parameter, Any]]:
    function = inspect.unwrap(function)
    try:
        hints = typing.get_type_hints(function, vars(loyaltykit) | vars(typing))
    except Exception:
        hints = {}
    return [
        (parameter, hints.get(name))
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self"
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def _plausible(parameter: inspect.Parameter, hint: Any) -> st.SearchStrategy[Any] | None:
    plausible = BY_NAME.get(parameter.name)
    if plausible is None and hint is not None:
        plausible = _hint_strategy(hint)
    return plausible


def _arguments(function: Callable[..., Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly one hostile argument among plausible ones (so that the hostile value gets
    past the checks of the others), sometimes any mix of both."""
    parameters = [
        (parameter.name, parameter.default is parameter.empty, _plausible(parameter, hint))
        for parameter, hint in _parameters(function)
    ]
    names = [name for name, _, _ in parameters]

    @st.composite
    def one_hostile(draw: st.DrawFn) -> dict[str, Any]:
        hostile = draw(st.sampled_from([*names, None])) if names else None
        arguments: dict[str, Any] = {}
        for name, required, plausible in parameters:
            if name == hostile:
                arguments[name] = draw(HOSTILE)
            elif plausible is None:
                if required:
                    arguments[name] = draw(HOSTILE)
            elif required or draw(st.booleans()):
                arguments[name] = draw(plausible)
        return arguments

    def either(plausible: st.SearchStrategy[Any] | None) -> st.SearchStrategy[Any]:
        return HOSTILE if plausible is None else st.one_of(plausible, HOSTILE)

    mixed = st.fixed_dictionaries(
        {name: either(plausible) for name, required, plausible in parameters if required},
        optional={
            name: either(plausible) for name, required, plausible in parameters if not required
        },
    )
    return st.one_of(one_hostile(), one_hostile(), mixed)


# --- the facade, on each backend ---------------------------------------------------------


def _seeded(storage: Any) -> Loyalty:
    loyalty = Loyalty(storage=storage)
    for customer in CUSTOMERS:
        loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
        loyalty.earn(customer, 500, at=T0, idempotency_key=f"seed-{customer}")
    return loyalty


def _snapshot(loyalty: Loyalty) -> tuple[Any, ...]:
    """What a refused call must leave as it was: customers, balances, statements."""
    return tuple(
        (
            loyalty.customer(customer),
            loyalty.balance(customer),
            loyalty.statement(customer).lines,
            loyalty.redemptions(customer),
            loyalty.complaints_of(customer),
        )
        for customer in CUSTOMERS
    )


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def facade(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loyalty]:
    if request.param == "memory":
        loyalty = _seeded(None)
    else:
        path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
        loyalty = _seeded(f"sqlite:///{path}")
    loyalty.backend = request.param  # type: ignore[attr-defined]
    yield loyalty
    loyalty.close()


def _fuzzing(examples: int) -> settings:
    """Deterministic runs (the same examples every time), no example database, no deadline:
    a call may be slow on a loaded machine without being wrong."""
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _check_call(loyalty: Loyalty, name: str, arguments: dict[str, Any]) -> None:
    before = _snapshot(loyalty)
    try:
        getattr(loyalty, name)(**arguments)
    except LoyaltyError:
        assert _snapshot(loyalty) == before, f"{name} refused and changed the store"


@pytest.mark.parametrize("name", METHODS)
def test_every_facade_method_returns_or_refuses_cleanly(facade: Loyalty, name: str) -> None:
    arguments = _arguments(getattr(Loyalty, name))

    @_fuzzing(FACADE_EXAMPLES[facade.backend])  # type: ignore[attr-defined]
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        # drawn inside: a value hypothesis builds through a public constructor (a
        # MemberEvent) may be refused by it, cleanly, before the call is made
        try:
            drawn = data.draw(arguments)
        except LoyaltyError:
            return
        _check_call(facade, name, drawn)

    run()


def test_the_facade_refuses_bad_construction() -> None:
    for arguments in (
        {"storage": 5},
        {"program": "retail"},
        {"storage": "nosuch://"},
        {"retries": -1},
        {"retries": "3"},
    ):
        with pytest.raises(LoyaltyError):
            Loyalty(**arguments)


# --- the public constructors ------------------------------------------------------------


def _public(module: Any) -> list[tuple[str, Any]]:
    return [(name, getattr(module, name)) for name in module.__all__]


# Not constructors of values: enumerations (calling one looks a member up: the library's
# own parsers turn a wrong name into InvalidArgument), protocols, exceptions, the
# hypothesis state machines, and the record readers (``from_record``: they read the
# library's own stored documents, never a caller's input).
# Results the library builds and never takes from a caller, whose nested lines of Items
# and Money st.from_type takes minutes to draw (a hang under the suite's budget): the
# checkout's own tests and properties build them from real baskets.
RESULTS_ONLY = {"PricedBasket", "PricedLine"}


def _fuzzed(value: Any) -> bool:
    return getattr(value, "__name__", "") not in RESULTS_ONLY and not (
        isinstance(value, enum.EnumMeta)
        or getattr(value, "_is_protocol", False)
        or (inspect.isclass(value) and issubclass(value, BaseException | RuleBasedStateMachine))
        or value is int  # the Points alias
    )


# Constructors that read a file by path: a missing file is the file system's
# FileNotFoundError, as with open(); the documents themselves are fuzzed through
# from_dict and from_json.
READS_A_FILE = {"from_toml", "from_file", "from_record"}


def _constructors() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for module in (loyaltykit, loyaltykit.testing, loyaltykit.aio):
        for name, value in _public(module):
            if not callable(value) or inspect.ismodule(value) or not _fuzzed(value):
                continue
            found.append((f"{module.__name__}.{name}", value))
            if inspect.isclass(value):
                found.extend(
                    (f"{module.__name__}.{name}.{method}", getattr(value, method))
                    for method, member in vars(value).items()
                    if isinstance(member, classmethod | staticmethod)
                    and not method.startswith("_")
                    and method not in READS_A_FILE
                )
    return sorted(found, key=lambda pair: pair[0])


CONSTRUCTORS = _constructors()


def test_the_constructors_fuzzed_are_every_public_class() -> None:
    names = {name.rpartition(".")[2] for name, _ in CONSTRUCTORS}
    for expected in ("Audience", "Budget", "BusinessCalendar", "Campaign", "CareConfig"):
        assert expected in names
    for expected in ("ComplaintPolicy", "ComplaintTaxonomy", "DrawEntries", "Eligibility"):
        assert expected in names
    assert {"Price", "of", "from_dict", "AsyncLoyalty", "check_program"} <= names
    assert len(CONSTRUCTORS) > 100


@pytest.mark.parametrize(("name", "constructor"), CONSTRUCTORS, ids=[n for n, _ in CONSTRUCTORS])
def test_every_public_constructor_builds_or_refuses_cleanly(
    name: str, constructor: Callable[..., Any]
) -> None:
    arguments = _arguments(constructor)

    @_fuzzing(EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        # drawn inside: st.from_type builds the nested public values through their own
        # constructors, which may refuse what they are given (cleanly, as checked here)
        with contextlib.suppress(LoyaltyError):
            constructor(**data.draw(arguments))

    run()
