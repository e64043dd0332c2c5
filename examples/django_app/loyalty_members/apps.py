"""The app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class LoyaltyMembersConfig(AppConfig):
    """Members' loyalty pages and the ``loyalty_due`` command."""

    name = "loyalty_members"
