"""Escape user-supplied text for the place it lands: HTML, a JavaScript template literal, markdown.

Names of enterprises, amenities, residences, routes and zones, survey wave labels, file names,
sheet and column headers and every error message quoting them come from uploaded files. Each
context needs its own escaping, and one is not enough for another:

* **HTML** (folium ``GeoJsonTooltip`` fields, legends, any ``unsafe_allow_html`` block):
  :func:`html_text` / :func:`html_lines`.
* **JavaScript template literal**: folium's ``Tooltip`` and ``Popup`` place their text between
  backticks inside a ``<script>``, so a backtick ends the string (one backtick in an ordinary name
  blanks the map) and ``${...}`` runs code. :func:`map_tooltip` HTML-escapes each part *and* then
  escapes ``\\``, `````, ``$`` and ``</`` for the literal.
* **Markdown** (Streamlit's ``st.markdown``, ``st.caption``, ``st.success``/``info``/``warning``/
  ``error``, ``st.subheader``, widget labels and ``help``): :func:`markdown_text` backslash-escapes
  every character that can start markup, so no link, image (remote fetch), emphasis, heading, list,
  HTML, LaTeX (``$``), colour directive (``:red[...]``) or emoji/icon shortcode can form, and
  turns line breaks into spaces so the text stays one inline run. What the user reads is the
  original text.

Pages and ``retention.report`` use only these functions for user text; plain text widgets
(``st.text``, ``st.code``, ``st.dataframe`` cells) need none.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "html_lines",
    "html_text",
    "js_template_text",
    "map_tooltip",
    "markdown_text",
]

# Characters that start markdown, GFM or Streamlit markup anywhere in a line: escapes, code,
# emphasis, strikethrough, links and images, autolinks and raw HTML, entities, headings, tables,
# LaTeX, colour/icon directives and emoji shortcodes, e-mail autolinks.
_MARKDOWN_ANYWHERE = "\\`*_{}[]()<>#!|~$:&@"
# Characters that start a block (list item, setext underline, thematic break) only at the start
# of a line or after spaces, "." only after "www" (an autolink) or after the number that starts
# the text (an ordered list): escaped only there, so "bad.csv" or "113.15" keep their dots.
_MARKDOWN_SPECIAL = re.compile(
    "[" + re.escape(_MARKDOWN_ANYWHERE) + "]"
    r"|(?:^|(?<=\s))[-+=.]"
    r"|(?<=www)\.",
    flags=re.IGNORECASE,
)
_ORDERED_LIST_START = re.compile(r"^([0-9]{1,9})\.(?=\s|$)")
_LINE_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029\x85]+")


def html_text(value: object) -> str:
    """Return ``str(value)`` escaped for HTML text or a quoted attribute (``& < > " '``)."""
    return html.escape(str(value), quote=True)


def html_lines(*parts: object, separator: str = "<br>") -> str:
    """Return the non-empty ``parts``, each HTML-escaped, joined by ``separator`` (trusted HTML).

    ``None`` and ``""`` parts are left out. Use this for folium ``GeoJsonTooltip`` fields, whose
    values reach the page as JSON data and are set as ``innerHTML``.
    """
    return separator.join(html_text(part) for part in parts if part is not None and part != "")


def js_template_text(fragment: str) -> str:
    """Return ``fragment`` safe inside a JavaScript template literal within a ``<script>``.

    Backslashes, backticks and ``$`` are backslash-escaped (so neither the literal's end nor a
    ``${...}`` substitution can be formed), ``</`` and ``<!--`` become ``<\\/`` and ``<\\!--``
    (so the HTML parser can neither close the script element nor enter its escaped state), and a
    carriage return is written ``\\r`` (a template literal would turn CRLF into LF). The value the
    literal evaluates to is ``fragment`` unchanged.
    """
    escaped = fragment.replace("\\", "\\\\").replace("`", "\\`").replace("$", "\\$")
    return escaped.replace("\r", "\\r").replace("</", "<\\/").replace("<!--", "<\\!--")


def map_tooltip(*parts: object) -> str:
    """Return tooltip text for folium ``tooltip=`` / ``Tooltip`` / ``Popup`` from plain ``parts``.

    Each part is HTML-escaped, the parts are joined by ``<br>``, and the result is escaped for the
    JavaScript template literal folium puts it in (:func:`js_template_text`).
    """
    return js_template_text(html_lines(*parts))


def markdown_text(value: object) -> str:
    """Return ``str(value)`` to show literally inside Streamlit markdown, on one line.

    Every character that can start markup is backslash-escaped (``- + = .`` only where they could
    start a block or an autolink) and every run of line breaks or tabs becomes one space.
    """
    one_line = _LINE_BREAKS.sub(" ", str(value))
    escaped = _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), one_line)
    return _ORDERED_LIST_START.sub(r"\1\\.", escaped)
