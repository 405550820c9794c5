"""Reports page in a real browser: build and download an offline HTML snapshot, then open it
with every request off the machine blocked — the map draws its layers and the charts render."""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.i18n import t

from .conftest import new_offline_page, open_page, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_download_html_snapshot_and_open_it_offline(
    app_url: str, browser, output_dir: Path, tmp_path: Path
) -> None:
    page, log = new_offline_page(browser, locale="zh-CN")
    open_page(page, app_url, t("reports.page_title", "zh"), t("reports.title", "zh"))
    page.get_by_role("combobox", name=t("reports.format", "zh")).click()
    page.get_by_role("option", name=t("reports.format.html", "zh")).click()
    wait_until_idle(page)
    page.get_by_role("button", name=t("reports.build", "zh")).click()
    download_button = page.get_by_role("button", name="下载 HTML", exact=False)
    download_button.wait_for(timeout=300_000)
    with page.expect_download(timeout=120_000) as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename.startswith("parklife-jinshan-")
    assert download.suggested_filename.endswith(".html")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert log.blocked == [] or all("tile" in url for url in log.blocked), log.blocked

    # Open the file as a director would, with nothing reachable but the file itself.
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    requests: list[str] = []
    errors: list[str] = []

    def route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            requests.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    snapshot = context.new_page()
    snapshot.on("pageerror", lambda error: errors.append(str(error)))
    snapshot.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    snapshot.goto(saved.as_uri())
    snapshot.locator(".leaflet-container").first.wait_for(timeout=30_000)
    snapshot.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    snapshot.wait_for_timeout(1000)
    paths = snapshot.locator(".leaflet-container path.leaflet-interactive").count()
    assert paths > 100, paths  # H3 cells, roads, boundary and residences
    box = snapshot.locator(".leaflet-container").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    assert snapshot.locator(".js-plotly-plot").count() >= 1
    assert snapshot.get_by_text("合成").first.is_visible()
    snapshot.screenshot(path=str(output_dir / "snapshot-html.png"), full_page=False)
    assert requests == [] and errors == [], (requests, errors)
    context.close()


def test_a_pdf_built_by_the_worker_process_downloads_from_a_real_server(
    app_url: str, browser, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    page, _ = new_offline_page(browser, locale="en-US")
    open_page(page, app_url, t("reports.page_title", "en"), t("reports.title", "en"))
    page.get_by_role("combobox", name=t("reports.format", "en")).click()
    page.get_by_role("option", name=t("reports.format.pdf", "en")).click()
    wait_until_idle(page)
    page.get_by_role("button", name=t("reports.build", "en")).click()
    download_button = page.get_by_role("button", name="Download PDF", exact=False)
    download_button.wait_for(timeout=300_000)
    # The worker's steps were shown; the status now says the snapshot is ready.
    page.get_by_text(t("reports.ready", "en")).first.wait_for(timeout=30_000)
    with page.expect_download(timeout=120_000) as info:
        download_button.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".pdf"
    reader = PdfReader(saved)
    assert len(reader.pages) > 3
    version = saved.stem.rsplit("-", 1)[-1]  # parklife-<park>-<date>-<version hash>
    assert version in "\n".join(p.extract_text() for p in reader.pages[:2])
