"""In a real browser: upload a one-header Wenjuanxing export, code one unknown answer, see the
row counts change (the value-mapping step of the Survey page)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from retention.i18n import t
from retention.storage.park import load_park
from retention.survey.coding import answer_table
from retention.survey.importer import read_survey_file, suggest_for
from tests.survey_exports import export_bytes, respondent

from .conftest import new_offline_page, open_page, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNT = 12
UNKNOWN = "想走就走"
CODE_COLUMN = 4  # group, answer, count, columns, code, source


def test_coding_an_unknown_answer_changes_the_counts(
    app_url: str, browser, tmp_path: Path, output_dir: Path, app_data_dir: Path
) -> None:
    names = list(load_park("jinshan", data_dir=app_data_dir).layer("enterprises")["name"][:3])
    rows = [respondent(i, "bad_intent" if i in (3, 7) else "good") for i in range(1, COUNT + 1)]
    content, _ = export_bytes("wjx_one", rows, "gbk", names=names)
    path = tmp_path / "问卷星单行表头.csv"
    path.write_bytes(content)
    # Where the unknown answer sits in the answer-codes table (the page builds the same table).
    raw = read_survey_file(content, file_name=path.name)
    table = answer_table(raw.frame, suggest_for(raw))
    row_index = int(table.index[table["answer"] == UNKNOWN][0])

    page, log = new_offline_page(browser, locale="en-US")
    open_page(page, app_url, t("survey.page_title", "en"), t("survey.title", "en"))
    page.get_by_text(t("survey.source.upload", "en"), exact=True).click()
    wait_until_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))

    page.get_by_role("heading", name=t("survey.validation", "en")).wait_for(timeout=60_000)
    metrics = page.get_by_test_id("stMetric")
    kept = metrics.filter(has_text=t("survey.rows_kept", "en"))
    rejected = metrics.filter(has_text=t("survey.rows_rejected", "en"))
    expect(kept).to_contain_text(str(COUNT - 2))
    expect(rejected).to_contain_text("2")
    expect(page.get_by_text(UNKNOWN).first).to_be_visible()

    # Code the unknown answer as 5 in the answer-codes editor (the second editable table).
    wait_until_idle(page)  # a click during a rerun is lost when the grid is drawn again
    editor = page.get_by_test_id("stDataFrame").nth(1)
    editor.scroll_into_view_if_needed()
    editor.click(position={"x": 20, "y": 35 + 17})  # the first data cell
    for _ in range(row_index):
        page.keyboard.press("ArrowDown")
    for _ in range(CODE_COLUMN):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # opens the cell's selectbox
    page.keyboard.type("5")
    option = page.get_by_role("option", name="5", exact=True)
    option.wait_for(timeout=10_000)
    option.click()  # commits the edit (an Escape here could cancel it before it lands)
    wait_until_idle(page)

    expect(kept).to_contain_text(str(COUNT), timeout=60_000)
    expect(rejected).to_contain_text("0")
    page.screenshot(path=str(output_dir / "survey_value_mapping.png"))
    assert not log.blocked, log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
