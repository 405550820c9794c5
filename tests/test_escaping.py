"""User text escaped for where it lands (retention.escaping), cross-checked against independent
implementations: a CommonMark parser (markdown-it-py) for markdown, Node.js for JavaScript template
literals, and the HTML a folium map actually renders."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from shapely.geometry import Point

from retention.escaping import (
    html_lines,
    html_text,
    js_template_text,
    map_tooltip,
    markdown_text,
)

# The measured attacks (issue 10) and their neighbours.
ATTACKS = [
    "${alert(parent.location.href)}",
    "食堂`一号",
    "`);alert(1);(`",
    "<script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[sign in](javascript:alert(1))",
    "![x](http://attacker.example/pixel.png)",
    "**bold** _em_ # heading",
    "back\\slash \\` \\${x}",
    ":red[red] :material/warning: $x^2$",
    "line one\n# two\r\n- three",
    "http://attacker.example/auto",
    "&lt;already &amp; escaped&gt;",
]

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough", "linkify"])
_NODE = shutil.which("node")


def _rendered_paragraph_text(markdown: str) -> str:
    """Render with CommonMark (+ GFM tables, strikethrough, linkify); return the paragraph's text
    after asserting the output is one plain paragraph (no other tag at all)."""
    out = _MARKDOWN.render(markdown)
    if not out:
        return ""
    match = re.fullmatch(r"<p>(.*)</p>\n", out, flags=re.DOTALL)
    assert match, out
    inner = match.group(1)
    assert "<" not in inner, out  # no element: no link, image, emphasis, code, html
    return html.unescape(inner)


@pytest.mark.parametrize("text", ATTACKS)
def test_markdown_text_renders_as_the_original_text_and_nothing_else(text):
    one_line = re.sub(r"[\r\n]+", " ", text)
    assert _rendered_paragraph_text(markdown_text(text)) == one_line.strip()


@settings(max_examples=300)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
    | st.text(alphabet="\\`*_{}[]()<>#!|~$:&@-+=. \n\twW0129ahtp/;'\"", max_size=40)
)
def test_markdown_text_never_forms_markup(text):
    safe = markdown_text(text)
    assert "\n" not in safe and "\r" not in safe
    shown = _rendered_paragraph_text(safe)
    # The parser trims the paragraph (markdown-it-py: any Unicode whitespace) and turns NUL into
    # U+FFFD; otherwise the text is shown unchanged.
    expected = re.sub(r"[\r\n\t\f\v\u2028\u2029\x85]+", " ", text).replace("\x00", "\ufffd")
    assert shown.strip() == expected.strip()


def test_html_text_escapes_every_markup_character():
    assert html_text("<a href='x'>\"&\"</a>") == (
        "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;&quot;&lt;/a&gt;"
    )
    assert html_lines("<b>", None, "", 3) == "&lt;b&gt;<br>3"
    assert html_lines("a", "<b>", separator=" · ") == "a · &lt;b&gt;"


def _node_template_literal(body: str) -> str:
    """Evaluate ``body`` inside a template literal in Node.js; return the string (or raise)."""
    assert _NODE is not None
    script = f"process.stdout.write(JSON.stringify(`{body}`));"
    result = subprocess.run(
        [_NODE, "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(_NODE is None, reason="Node.js is installed by scripts/setup.sh (npm)")
def test_js_template_text_evaluates_to_the_fragment_in_node():
    # One process for every attack: an array of literals, each must come back unchanged.
    fragments = [
        *ATTACKS,
        "a\\u0041",
        "$",
        "$$",
        "${",
        "\\",
        "`",
        "</SCRIPT>",
        "<!--<script>",
        "a\r\nb",
    ]
    assert _NODE is not None
    literals = ",".join(f"`{js_template_text(fragment)}`" for fragment in fragments)
    result = subprocess.run(
        [_NODE, "-e", f"process.stdout.write(JSON.stringify([{literals}]));"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == fragments
    assert _node_template_literal(map_tooltip("${1+1}", "`x`")) == "${1+1}<br>`x`"


@pytest.mark.parametrize("text", ATTACKS)
def test_js_template_text_cannot_close_the_script_or_substitute(text):
    safe = js_template_text(text)
    assert "</" not in safe and "<!--" not in safe
    assert re.search(r"(?<!\\)(?:\\\\)*`", safe) is None  # every backtick is escaped
    assert re.search(r"(?<!\\)(?:\\\\)*\$", safe) is None  # every $ is escaped


def _map_scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)


def test_a_map_of_hostile_names_renders_them_inert():
    """Build the Map page's folium map from layers named with the attacks and check its HTML."""
    from retention.data.layers import LayerKind
    from retention.report.maps import build_park_map

    centre = (113.15, 27.85)
    names = ATTACKS
    amenities = gpd.GeoDataFrame(
        {
            "id": [f"A{i}" for i in range(len(names))],
            "name": names,
            "category": ["canteen"] * len(names),
            "opening_hours": ["${alert(2)}"] * len(names),
        },
        geometry=[Point(centre[0] + i * 1e-4, centre[1]) for i in range(len(names))],
        crs="EPSG:4326",
    )
    enterprises = gpd.GeoDataFrame(
        {"id": ["E1"], "name": ["`"], "industry": ["</script>"], "employees": [10]},
        geometry=[Point(*centre)],
        crs="EPSG:4326",
    )
    m = build_park_map(
        {LayerKind.AMENITIES: amenities, LayerKind.ENTERPRISES: enterprises},
        lang="en",
        tiles="none",
    )
    page = m.get_root().render()
    scripts = _map_scripts(page)
    body = "\n".join(scripts)
    assert "${alert" not in body.replace("\\${alert", "")
    for script in scripts:
        assert "<script" not in script.lower()
    if _NODE is not None:
        # Every tooltip literal evaluates to the HTML-escaped name in a real JavaScript engine.
        literals = re.findall(r"bindTooltip\(\s*`(.*?)(?<!\\)`,", body, flags=re.DOTALL)
        assert len(literals) == len(names) + 1
        shown = [_node_template_literal(literal) for literal in literals[:3]]
        assert any(html.escape(names[0]) in value for value in shown)
