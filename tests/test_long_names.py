"""A name far longer than a page (a paragraph pasted into a name cell) still gives a PDF
snapshot: the row breaks across pages instead of the whole file failing with reportlab's
LayoutError. The other formats already kept such a name."""

from __future__ import annotations

import pytest

from retention.report.pdf_report import snapshot_pdf
from tests.snapshot_fixtures import small_snapshot


@pytest.mark.slow
def test_a_pdf_snapshot_holds_a_name_longer_than_a_page() -> None:
    name = "长名字" * 3000  # 9,000 characters: about five A4 pages of one table cell
    data = snapshot_pdf(small_snapshot(lang="zh", hostile=name))
    assert data.startswith(b"%PDF")
