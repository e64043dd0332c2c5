"""SQLite's one-step text form of an instant is SQLAlchemy's two-step one, byte for byte:
the stored text is what every earlier version stored and compares in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from loyaltykit.storage.sql.schema import UtcDateTime

DIALECT = sqlite.dialect()
TYPE = UtcDateTime()
# what SQLAlchemy builds from the TypeDecorator: process_bind_param, then DATETIME's
_TWO_STEP = TYPE.load_dialect_impl(DIALECT).bind_processor(DIALECT)
ONE_STEP = TYPE._cached_bind_processor(DIALECT)
instants = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
)


def two_step(value: datetime) -> object:
    assert _TWO_STEP is not None
    return _TWO_STEP(TYPE.process_bind_param(value, DIALECT))


@given(instants)
def test_the_stored_text_of_an_instant_is_unchanged(value: datetime) -> None:
    assert ONE_STEP is not None
    assert ONE_STEP(value) == two_step(value)


@given(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_stored_texts_sort_as_their_instants(value: datetime, later: timedelta) -> None:
    assert ONE_STEP is not None
    first, second = ONE_STEP(value), ONE_STEP(value.astimezone(UTC) + later)
    assert first <= second if later else first == second


def test_none_is_stored_as_null() -> None:
    assert ONE_STEP is not None and ONE_STEP(None) is None
