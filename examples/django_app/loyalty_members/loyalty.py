"""The one ``Loyalty`` the site shares: built on first use from the settings.

A ``Loyalty`` is safe to share between the threads of a process (docs/guides/async.md),
so every request and command uses this one; each process (a gunicorn worker) builds its
own on the same storage.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from loyaltykit import Loyalty


@cache
def loyalty_for(storage: str) -> Loyalty:
    """The facade on ``storage`` (one per URL per process)."""
    return Loyalty(storage=storage)


def loyalty() -> Loyalty:
    """The site's facade, on ``settings.LOYALTYKIT_STORAGE``."""
    return loyalty_for(settings.LOYALTYKIT_STORAGE)
