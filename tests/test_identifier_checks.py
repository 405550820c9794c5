"""Identifier checks refuse a trailing line break: ``re.match`` with ``$`` lets ``"jinshan\\n"``
through (``$`` also matches before a final newline), which would name a folder, a store key or
a record with a line break in it (from an archive's manifest, a batch folder or a hand-edited
request).
"""

from __future__ import annotations

import pytest

from retention.errors import ScenarioError, ValidationError
from retention.scenario.records import _check_id
from retention.storage.layout import check_key, check_kind, check_park_id


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\n.."])
def test_store_names_with_a_line_break_are_refused(suffix: str) -> None:
    with pytest.raises(ValidationError, match="park id"):
        check_park_id("jinshan" + suffix)
    with pytest.raises(ValidationError, match="upload id"):
        check_key("u0001" + suffix, field="upload id")
    with pytest.raises(ValidationError, match="record kind"):
        check_kind("scenarios" + suffix)
    with pytest.raises(ScenarioError, match="scenario id"):
        _check_id("abcdef12" + suffix)


def test_the_same_names_without_the_break_are_kept() -> None:
    assert check_park_id("jinshan") == "jinshan"
    assert check_key("u0001", field="upload id") == "u0001"
    assert check_kind("scenarios") == "scenarios"
    assert _check_id("abcdef12") == "abcdef12"
