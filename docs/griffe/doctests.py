"""A griffe extension for the API reference: docstrings written for ``help()`` and
doctest, rendered as Markdown.

The docstrings are prose with doctest examples (``>>> ...`` lines and their output, up
to a blank line) and reST roles (``:class:`~loyaltykit.Money```), not Google or NumPy
sections. Rendered as they are, an example would become a paragraph (and
``['points', 'tier']`` a Markdown link) and a role stray colons. This fences each
example as a ``pycon`` block and turns each role into inline code (``Money``) before the
docstring is rendered; the docstrings themselves stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

FENCE = "```"
# :class:`~loyaltykit.values.Money`, :meth:`quantize`, :func:`loyaltykit.points_for`
ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def fenced(text: str) -> str:
    """``text`` with every doctest example wrapped in a ```pycon fence."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        starts = line.lstrip().startswith(">>>")
        if starts and not inside:
            out.append(FENCE + "pycon")
            inside = True
        elif inside and not line.strip():
            out.append(FENCE)
            inside = False
        out.append(line)
    if inside:
        out.append(FENCE)
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples, and turn the reST roles into code, of every docstring
    griffe loads."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring as it is loaded."""
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_role, fenced(obj.docstring.value))
