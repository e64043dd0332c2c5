"""Check characters: the Luhn algorithm, for decimal digits and for any alphabet.

Luhn (ISO/IEC 7812-1, the check digit of payment and loyalty card numbers) catches every
single-character error and every transposition of two adjacent characters but ``09`` /
``90``; Luhn mod N, the same algorithm over an alphabet of N characters, does the same
for codes that are not digits. Twenty lines, written here rather than taken from a
library: the one that offers it (python-stdnum) is LGPL, and loyaltykit is MIT.

>>> luhn_check("7992739871")
'3'
>>> luhn_valid("79927398713"), luhn_valid("79927398731")
(True, False)
"""

from __future__ import annotations

__all__ = ["DIGITS", "luhn_check", "luhn_valid"]

DIGITS = "0123456789"


def _sum(text: str, alphabet: str, *, with_check: bool) -> int:
    base = len(alphabet)
    total = 0
    # from the right: the check character's place is not doubled, the one left of it is
    for position, character in enumerate(reversed(text)):
        value = alphabet.index(character)
        if position % 2 == (0 if with_check else 1):
            total += value
        else:
            doubled = value * 2
            total += doubled // base + doubled % base
    return total % base


def luhn_check(body: str, alphabet: str = DIGITS) -> str:
    """The character to append to ``body`` (every character in ``alphabet``) so that the
    whole passes :func:`luhn_valid`."""
    base = len(alphabet)
    return alphabet[(base - _sum(body, alphabet, with_check=False)) % base]


def luhn_valid(text: str, alphabet: str = DIGITS) -> bool:
    """Whether ``text`` (its last character the check character) passes the Luhn check;
    ``False`` for a character outside ``alphabet`` or a text shorter than two."""
    if len(text) < 2 or any(character not in alphabet for character in text):
        return False
    return _sum(text, alphabet, with_check=True) == 0
