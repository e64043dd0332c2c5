"""A Django site embedding loyaltykit (docs/recipes/django.md)."""
