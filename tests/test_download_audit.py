"""Every download a page offers is an ``export`` line in the audit log (issue 10).

A click on a download button runs its callback (``ui.auth.audited``): the line names the
signed-in user, what was downloaded, the file, the park and the user's scope (a click is tested
in ``test_app_roles.py``). A source scan makes sure no page offers a download without it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from retention.auth.export_audit import EXPORT_KINDS, export_detail
from retention.auth.roles import Role, UserScope

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted((REPO / "pages").glob("*.py"))


def _download_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "download_button"
    ]


def _is_audited(call: ast.Call) -> bool:
    for keyword in call.keywords:
        value = keyword.value
        if (
            keyword.arg is None
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "audited"
            and isinstance(value.func.value, ast.Name)
            and value.func.value.id == "auth"
        ):
            return True
    return False


def test_every_page_download_is_audited() -> None:
    calls = {
        (path.name, call.lineno): _is_audited(call)
        for path in PAGES
        for call in _download_calls(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert len(calls) >= 14  # data 3, survey 5, assumptions 2, scenario 1, reports 2, compare 1
    assert [where for where, audited in calls.items() if not audited] == []


def test_the_scan_finds_an_unaudited_download() -> None:
    source = (
        "st.download_button('a', b'x', file_name='a.csv', key='k')\n"
        "col.download_button('b', b'y', key='j', **auth.audited('scores', 'b.csv', park_id='p'))\n"
    )
    found = [_is_audited(call) for call in _download_calls(ast.parse(source))]
    assert found == [False, True]


def test_an_export_line_names_a_known_kind_and_the_scope() -> None:
    hr = UserScope("hr-e1", Role.HR, ("E7", "E1"))
    detail = export_detail(hr, "snapshot", "/tmp/x/r.pdf", enterprise="E1", scenario=None)
    assert detail == {"what": "snapshot", "file": "r.pdf", "scope": "hr:E1,E7", "enterprise": "E1"}
    assert "snapshot" in EXPORT_KINDS
    with pytest.raises(ValueError, match="unknown export 'everything'"):
        export_detail(hr, "everything", "x.csv")
