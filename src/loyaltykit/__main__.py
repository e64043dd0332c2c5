"""``python -m loyaltykit``: the ``loyaltykit`` command."""

from loyaltykit.cli import run

if __name__ == "__main__":
    run()
