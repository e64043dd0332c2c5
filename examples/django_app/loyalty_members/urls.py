"""``/members/<id>/``: a member's balance."""

from __future__ import annotations

from django.urls import path

from loyalty_members import views

urlpatterns = [path("<str:customer_id>/", views.balance, name="member-balance")]
