"""A read-only page of a member's balance."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from loyalty_members.loyalty import loyalty
from loyaltykit import errors


@require_GET
def balance(request: HttpRequest, customer_id: str) -> HttpResponse:
    """The member's points now, and their last ledger lines."""
    facade = loyalty()
    try:
        current = facade.balance(customer_id)
        lines = facade.statement(customer_id).lines[-10:]
    except (errors.UnknownCustomer, errors.InvalidIdentifier):
        raise Http404(f"no member {customer_id!r}") from None
    return render(
        request,
        "loyalty_members/balance.html",
        {"customer_id": customer_id, "balance": current, "lines": reversed(lines)},
    )
