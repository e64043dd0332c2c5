"""Nothing personal in a repr: a customer or profile in a log line shows no personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loyaltykit import Customer, Profile


def test_a_customers_repr_hides_its_personal_data() -> None:
    profile = Profile(
        name="Li Wei",
        gender="f",
        birthday=date(1990, 5, 3),
        email="li.wei@example.com",
        phone="+86 138 0000 0000",
        tags={"family"},
    )
    customer = Customer(id="c-1", enrolled_at=datetime(2026, 1, 1, tzinfo=UTC), profile=profile)
    shown = repr(customer)
    for secret in ("Li Wei", "1990", "li.wei@example.com", "138 0000", "gender"):
        assert secret not in shown
    assert "c-1" in shown and "family" in shown  # what is not personal stays visible
