"""Public constructors given the wrong type refuse it with ``InvalidArgument`` naming the
field (the fields' converters call ``values.sequence_of``/``mapping_of``/``codes``),
never a raw ``TypeError`` or ``AttributeError`` from iterating or reading it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import loyaltykit as lk
from loyaltykit.errors import InvalidArgument

CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("Audience(tiers=None)", lambda: lk.Audience(tiers=None), "audience"),
    ("Audience(tags=[1])", lambda: lk.Audience(tags=[1]), "audience"),
    ("Balance.of(None)", lambda: lk.Balance.of(None), "account"),
    ("BusinessCalendar(weekdays=5)", lambda: lk.BusinessCalendar(weekdays=5), "weekdays"),
    ("BusinessCalendar(holidays=now)", lambda: lk.BusinessCalendar(holidays="2026"), "dates"),
    ("BusinessCalendar(timezone=long)", lambda: lk.BusinessCalendar(timezone="x" * 300), "zone"),
    ("CareConfig(triggers=None)", lambda: lk.CareConfig(triggers=None), "triggers"),
    ("CareTrigger(tiers=None)", lambda: lk.CareTrigger(kind="welcome", tiers=None), "tiers"),
    ("CareTrigger(kind=[])", lambda: lk.CareTrigger(kind=[]), "kind"),
    ("ComplaintPolicy(sla=5)", lambda: lk.ComplaintPolicy(sla=5), "sla"),
    ("ComplaintPolicy(calendars=5)", lambda: lk.ComplaintPolicy(calendars=5), "calendars"),
    ("ComplaintTaxonomy(None)", lambda: lk.ComplaintTaxonomy(categories=None), "categories"),
    ("ComplaintTaxonomy('x')", lambda: lk.ComplaintTaxonomy(categories="x"), "categories"),
    ("Eligibility(tiers=None)", lambda: lk.Eligibility(tiers=None), "tiers"),
    ("QcRule(severities=5)", lambda: lk.QcRule(severities=5), "severities"),
    ("RewardCatalog(None)", lambda: lk.RewardCatalog(entries=None), "entries"),
    ("TierLadder(tiers=b'x')", lambda: lk.TierLadder(tiers=b"x"), "tiers"),
    (
        "Question.choice(options=1)",
        lambda: lk.Question.choice(id="q", text="t", options=1),
        "options",
    ),
    ("Survey(questions=True)", lambda: lk.Survey(id="s", title="t", questions=True), "questions"),
    ("Program(rules=False)", lambda: lk.Program(rules=False), "rules"),
    ("Program(promises='x')", lambda: lk.Program(promises="x"), "promises"),
    ("Program(currency=1)", lambda: lk.Program(currency=1), "currency"),
    ("PointType(code='points\\n')", lambda: lk.PointType(code="points\n"), "point type code"),
    ("ProgramVersions(None)", lambda: lk.ProgramVersions(None), "versions"),
    ("ProgramVersions('x')", lambda: lk.ProgramVersions("points"), "versions"),
    ("points_for(None)", lambda: lk.points_for(None, per=None), "spent"),
]


@pytest.mark.parametrize(
    ("call", "expected"), [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_a_wrong_type_is_refused_naming_the_field(call: Callable[[], Any], expected: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        call()
    assert expected in str(raised.value).lower()


@pytest.mark.parametrize("path", [None, 0, 52502, True, b"x"])
def test_a_programme_file_is_a_path_not_a_file_descriptor(path: object) -> None:
    # open(0) would read standard input, open(52502) a descriptor of the process
    with pytest.raises(InvalidArgument, match="path"):
        lk.Program.from_toml(path)  # type: ignore[arg-type]
