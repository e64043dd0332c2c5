"""The site's URLs: the members' pages."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("members/", include("loyalty_members.urls"))]
