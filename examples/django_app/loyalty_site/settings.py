"""Settings of the example site: loyaltykit keeps its own storage, named by URL.

loyaltykit does not use Django's ORM: ``LOYALTYKIT_STORAGE`` is a storage URL
(``sqlite:///loyalty.db``, ``postgresql+psycopg://...``) and may point at the same
PostgreSQL database as ``DATABASES`` (loyaltykit's tables are its own, migrated by
``loyaltykit db upgrade``).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = ["loyalty_members"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "loyalty_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
DATABASES: dict[str, dict[str, str]] = {}  # the example needs no Django models
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

LOYALTYKIT_STORAGE = os.environ.get("LOYALTYKIT_STORAGE", f"sqlite:///{BASE_DIR / 'loyalty.db'}")
