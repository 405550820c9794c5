"""An error no page handled (ui/errors.py): in production the visitor sees a short reference id,
never the traceback or server paths; the traceback with the same id goes to the server log. With
``showErrorDetails = full`` (developers, and every other AppTest) the exception is raised as is."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ui import errors

REPO = Path(__file__).resolve().parent.parent
SECRET = "/srv/parklife/secret-path/survey.parquet"


def _broken_page() -> None:
    from ui.errors import run_reporting_errors

    def page() -> None:
        raise RuntimeError("cannot open /srv/parklife/secret-path/survey.parquet")

    run_reporting_errors(page, where="broken")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_details():
    """Set client.showErrorDetails for one test and restore it afterwards."""
    before = config.get_option("client.showErrorDetails")
    yield lambda value: config.set_option("client.showErrorDetails", value)
    config.set_option("client.showErrorDetails", before)


def test_production_config_hides_error_details():
    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["client"]["showErrorDetails"] == "none"


def test_the_visitor_sees_a_reference_and_the_log_has_the_traceback(error_details):
    error_details("none")
    handler = _Records()
    errors.LOGGER.addHandler(handler)
    try:
        at = AppTest.from_function(_broken_page).run()
    finally:
        errors.LOGGER.removeHandler(handler)
    assert not at.exception
    (shown,) = [element.value for element in at.error]
    reference = re.search(r"\*\*([0-9a-f]{8})\*\*", shown)
    assert reference, shown
    page_text = " ".join(str(getattr(element, "value", "")) for element in at.main)
    assert "secret-path" not in page_text and "RuntimeError" not in page_text
    (record,) = handler.records
    assert reference.group(1) in record.getMessage() and "'broken'" in record.getMessage()
    assert record.exc_info is not None and SECRET in str(record.exc_info[1])


def test_developers_get_the_exception_itself(error_details):
    error_details("full")
    at = AppTest.from_function(_broken_page).run()
    assert [e.value for e in at.error] == []
    assert "secret-path" in at.exception[0].message
