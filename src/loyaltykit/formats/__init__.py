"""Serialisation, apart from the model: canonical forms, document mappings, JSON forms."""
