"""Test support for loyaltykit and for people who write programs and backends with it."""
