"""Validation messages in the user's language, from the ``issue`` message catalogue.

The validators (``retention.data.validate``, ``retention.survey.*``) write each problem in
English: that text is what the CLI prints, what downloads and stored reports keep, and what tests
pin. Every such text is a template in ``retention/locales/issue.json`` (``"issue.<name>"``, with
the same ``{placeholders}`` in both languages). ``translate_issue_text`` finds the template an
English message was made from, translates the parts that are themselves messages (``"{err};
expected {expected}"``), and fills in the Chinese template; the user's own values pass through
unchanged. A message no template matches is returned as it is (a test runs every defect the
validators know through it and requires a match).
"""

from __future__ import annotations

import re
import string
from functools import cache

import pandas as pd

from retention.i18n import catalogue, t

PREFIX = "issue."
_MAX_DEPTH = 4


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str, tuple[int, int]], ...]:
    """Return (regex, key, (length of the closing literal text, of all literal text))."""
    compiled = []
    for key, texts in catalogue().items():
        if not key.startswith(PREFIX):
            continue
        # Lazy and greedy readings split "{err}; expected {expected}" at the first or the last
        # "; expected"; when the error is itself such a message, only the greedy one is right.
        for group in (".+?", ".+"):
            parts = []
            literal = trailing = 0
            for text, field, _, _ in string.Formatter().parse(texts["en"]):
                parts.append(re.escape(text))
                literal += len(text)
                trailing = len(text)
                if field is not None:
                    parts.append(f"(?P<{field}>{group})")
                    trailing = 0
            compiled.append((re.compile("".join(parts), re.DOTALL), key, (trailing, literal)))
    return tuple(compiled)


def _translate(text: str, lang: str, depth: int) -> tuple[str, bool]:
    """Return the translation and whether a template matched the whole text."""
    best: tuple[int, tuple[int, int], str] | None = None  # (messages inside, literal, text)
    for pattern, key, literal in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        params: dict[str, str] = {}
        nested = 0
        for name, value in match.groupdict().items():
            if depth >= _MAX_DEPTH:
                params[name] = value
                continue
            translated, matched = _translate(value, lang, depth + 1)
            params[name] = translated
            nested += matched
        # "{exc} (optional question: ...)" and "... such as {labels}" can both match one text;
        # the reading whose parts are themselves messages, then the one closing on its own
        # words rather than on a value, is the one the validator wrote.
        candidate = (nested, literal, t(key, lang, **params))
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return (text, False) if best is None else (best[2], True)


def translate_issue_text(text: str, lang: str) -> str:
    """Return an English validation message in ``lang`` (unchanged for ``"en"`` or no match).

    Parameters
    ----------
    text
        A message or "expected" text as a validator wrote it.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The translated message; values quoted from the user's file are kept as they are.
    """
    if lang == "en" or not isinstance(text, str) or not text:
        return text
    return _translate(text, lang, 0)[0]


def is_translated(text: str) -> bool:
    """Return whether ``text`` is made from a catalogue template (a whole-text match)."""
    return any(pattern.fullmatch(text) for pattern, _, _ in _patterns())


def translated_issues(issues: pd.DataFrame, lang: str, *, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return a copy of an issues table with its message ``columns`` in ``lang``."""
    out = issues.copy()
    for column in columns:
        if column in out.columns:
            out[column] = [translate_issue_text(v, lang) for v in out[column]]
    return out
