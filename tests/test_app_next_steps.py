"""AppTests of the Gaps page's "what next": each suggestion names a category, a place and the
people it is for, and its button opens the Scenarios page with that amenity filled in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.i18n import label, t
from retention.report.gap_tables import feature_names
from retention.storage.park import load_park
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 300  # cold run: demo park, travel times and indicators


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _suggestions(at: AppTest, lang: str) -> list[str]:
    return [m.value for m in at.markdown if re.match(r"^\*\*[0-9]\. ", m.value)]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_suggestion_opens_the_scenario_lab_with_its_amenity_filled_in(lang: str) -> None:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page("pages/gaps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("gaps_next.title", lang) in [h.value for h in at.subheader]
    texts = _suggestions(at, lang)
    assert 1 <= len(texts) <= 3, texts
    # The first suggestion's category and place, read from what the user sees.
    first = texts[0]
    categories = [
        c for c in ("canteen", "grocery", "clinic", "hospital", "sports_court", "gym", "park",
                    "library_culture", "cafe_leisure", "mall", "kindergarten", "school",
                    "training", "employment_service", "express_delivery")
        if label("category", c, lang) in first
    ]  # fmt: skip
    assert len(categories) == 1, first
    names = feature_names(load_park("jinshan").layer("residences"), lang)
    places = [rid for rid, name in names.items() if name in first]
    assert places, first
    # People are counted with thousands separators; the category is named, never its code.
    assert not re.search(r"\b(sports_court|h[0-9]{4})\b", first)

    at.button(key="gaps.next.1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("scenario.title", lang) in [title.value for title in at.title]
    assert at.selectbox(key="scenario.amenity.category").value == categories[0]
    assert at.selectbox(key="scenario.siting.category").value == categories[0]
    near = at.selectbox(key="scenario.amenity.near").value
    assert near in places
    notice = t(
        "gaps_next.prefilled",
        lang,
        category=label("category", categories[0], lang),
        place="",
        tab=t("scenario.tab.amenity", lang),
        add=t("scenario.amenity.add", lang),
        siting=t("scenario.siting", lang),
    ).split("{place}")[0][:12]
    assert any(i.value.startswith(notice) for i in at.info)
    # Nothing is added until the user confirms; then the draft holds that amenity.
    assert json.loads(at.session_state[state.SCENARIO_DRAFT])["modifications"] == []
    # A browser stays on the page st.switch_page went to; AppTest reruns the page it was told.
    at.switch_page("pages/scenario.py")
    [add] = [b for b in at.button if b.label == t("scenario.amenity.add", lang)]
    add.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    [added] = json.loads(at.session_state[state.SCENARIO_DRAFT])["modifications"]
    assert added["category"] == categories[0]
    # The form keeps the choice on the next run, and the notice is shown once.
    assert at.selectbox(key="scenario.amenity.category").value == categories[0]
    assert not any(i.value.startswith(notice) for i in at.info)
