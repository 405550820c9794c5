"""What a reader sees of a markdown string from an AppTest element (not a test module).

AppTest returns the markdown source; user text in it is escaped by ``retention.escaping``. This
undoes CommonMark backslash escapes so tests can look for the text a user reads.
"""

from __future__ import annotations

import re
import string

_ESCAPE = re.compile("\\\\([" + re.escape(string.punctuation) + "])")


def shown(markdown: str) -> str:
    """Return ``markdown`` with every backslash escape of ASCII punctuation resolved."""
    return _ESCAPE.sub(r"\1", markdown)
