"""Tests of the per-park parameter bundle: TOML round trip, validation messages, file store."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.access.gaps import DEFAULT_GAP_PARAMETERS
from retention.access.measures import DEFAULT_DECAY, DEFAULT_SUPPLY_NORMS
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.access.standards import GB50180_2018
from retention.errors import ParameterError, StaleVersionError, ValidationError
from retention.i18n import t
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.park_parameters import (
    CAP_SOURCE,
    DEFAULT_VERSION,
    PARK_SETTING,
    SCALARS,
    ParkParameters,
    load_park_parameters,
    parameter_table,
    park_parameters_from_document,
    park_parameters_from_toml,
    park_parameters_to_document,
    park_parameters_to_toml,
    park_parameters_version,
    reset_park_parameters,
    save_park_parameters,
    source_text,
)
from retention.storage.store import FileStore
from retention.survey.privacy import PrivacyParameters

REPO = Path(__file__).resolve().parent.parent


def _edited() -> ParkParameters:
    """Parameters with a value changed in every group, built through the document path."""
    document = park_parameters_to_document(ParkParameters())
    document["travel"]["walk_speed_m_per_min"] = 30.0
    document["time_windows"][1]["end"] = "23:00"
    document["living_circle"]["tiers"]["5min"]["metres"] = 400.0
    document["categories"]["canteen"]["tier"] = "10min"
    document["categories"]["canteen"]["supply_norm_per_1000"] = 300.0
    document["categories"]["mall"]["supply_norm_per_1000"] = 50.0
    document["categories"]["park"]["supply_norm_per_1000"] = None
    document["categories"]["training"]["tier"] = "15min"
    document["decay"] = {"kind": "gaussian", "bandwidth_minutes": 12.5}
    document["conversion"]["p_leave_given_intent"] = 0.5
    document["replacement_cost"]["cost_cny_per_leaver"] = 12_000.0
    document["privacy"]["min_group_size"] = 10
    return park_parameters_from_document(document)


def test_defaults_are_the_module_defaults() -> None:
    params = ParkParameters()
    assert params.travel == TravelParameters()
    assert params.time_windows == DEFAULT_TIME_WINDOWS
    assert params.living_circle == GB50180_2018
    assert params.gap == DEFAULT_GAP_PARAMETERS
    assert params.supply_norms == DEFAULT_SUPPLY_NORMS
    assert params.decay == DEFAULT_DECAY
    assert params.conversion == ConversionParameters()
    assert params.replacement_cost == ReplacementCost()
    assert params.privacy == PrivacyParameters()


@pytest.mark.parametrize("params", [ParkParameters(), _edited()], ids=["defaults", "edited"])
def test_toml_round_trip_is_equal(params: ParkParameters) -> None:
    text = park_parameters_to_toml(params)
    tomllib.loads(text)  # valid TOML on its own
    assert park_parameters_from_toml(text, file="p.toml") == params


def test_edits_reach_every_domain_object() -> None:
    params = _edited()
    assert params.travel.walk_speed_m_per_min == 30.0
    assert params.window("weekday_evening").end == "23:00"
    assert params.living_circle.tier("5min").metres == 400.0
    assert params.living_circle.requirement("canteen").tier == "10min"
    # training had no living-circle row; giving it a tier adds one, sourced as a park setting
    assert params.living_circle.requirement("training").clause.startswith("park setting")
    # one norm per category: the gap index and E2SFCA norms agree
    norms = {norm.category: norm.per_1000_people for norm in params.supply_norms}
    assert norms["canteen"] == params.gap.target("canteen").supply_norm_per_1000 == 300.0
    assert norms["mall"] == 50.0 and "park" not in norms
    assert params.gap.target("park").supply_norm_per_1000 is None
    assert params.decay.kind == "gaussian" and params.decay.bandwidth_minutes == 12.5
    assert params.privacy.min_group_size == 10
    indicator = params.indicator_parameters(threshold_minutes=10.0, demand="both")
    assert indicator.decay == params.decay and indicator.gap == params.gap
    assert indicator.living_circle == params.living_circle and indicator.demand == "both"


def test_missing_sections_and_keys_keep_their_defaults() -> None:
    params = park_parameters_from_toml("[travel]\nwalk_speed_m_per_min = 45\n")
    assert params == replace(ParkParameters(), travel=TravelParameters(walk_speed_m_per_min=45.0))
    assert park_parameters_from_toml("") == ParkParameters()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "[travel]\nwalk_speed_m_per_min = 500.0\n",
            r"file 'p.toml', column 'travel.walk_speed_m_per_min': 500.0 is out of range; "
            r"expected a number in \[20, 150\]",
        ),
        (
            '[travel]\nebike_speed_kmh = "fast"\n',
            r"column 'travel.ebike_speed_kmh': expected a number in \[5, 40\], got 'fast'",
        ),
        (
            "[privacy]\nmin_group_size = 3\n",
            r"column 'privacy.min_group_size': 3 is out of range; expected a whole number in "
            r"\[5, 100\]",
        ),
        (
            "[privacy]\nmin_group_size = 7.5\n",
            r"column 'privacy.min_group_size': expected a whole number",
        ),
        (
            "[conversion]\np_leave_given_intent = 0.9\n",
            r"column 'conversion': p_leave_given_intent 0.9 must lie in its range \[0.3, 0.57\]",
        ),
        (
            "[replacement_cost]\ncost_cny_per_leaver = 30000.0\n",
            r"column 'replacement_cost.cost_cny_per_leaver': replacement cost must satisfy",
        ),
        (
            "[categories.canteen]\ncap_minutes = 4.0\n",
            r"column 'categories.canteen.cap_minutes': cap 4 min must exceed the target 5 min",
        ),
        (
            '[categories.canteen]\ntier = "20min"\n',
            r"column 'categories.canteen.tier': unknown tier '20min'; expected one of 5min, "
            r"10min, 15min",
        ),
        (
            "[categories.gym]\nsupply_norm_per_1000 = 0.0\n",
            r"column 'categories.gym.supply_norm_per_1000': 0.0 is out of range; expected a "
            r"number in \(0, 1e\+06\]",
        ),
        (
            "[living_circle.tiers.15min]\nmetres_strict = 1200.0\n",
            r"column 'living_circle.tiers.15min.metres_strict': tier '15min': the strict "
            r"distance must not exceed",
        ),
        (
            "[decay]\nzones_minutes = [10.0, 5.0]\nweights = [1.0, 0.5]\n",
            r"row 2, column 'decay.zones_minutes': zone bounds must increase",
        ),
        (
            '[decay]\nkind = "linear"\n',
            r"column 'decay.kind': expected one of step, gaussian, uniform, got 'linear'",
        ),
        (
            '[[time_windows]]\nkey = "weekday_evening"\nday_type = "weekday"\nstart = "25:00"\n'
            'end = "22:00"\nlabel_en = "E"\nlabel_zh = "晚"\n',
            r"file 'p.toml', row 1, column 'time_windows.start'",
        ),
        (
            '[[time_windows]]\nkey = "weekday_peak"\nday_type = "weekday"\nstart = "07:00"\n'
            'end = "09:00"\nlabel_en = "P"\nlabel_zh = "峰"\n',
            r"time window 'weekday_evening' is missing",
        ),
        ("[travel\n", r"file 'p.toml': not valid TOML"),
    ],
)
def test_bad_values_name_file_section_key_and_range(text: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        park_parameters_from_toml(text, file="p.toml")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[speeds]\nwalk = 1\n", r"column 'speeds': unknown section 'speeds'; expected one of"),
        (
            "[travel]\nwalking_speed = 50.0\n",
            r"column 'travel.walking_speed': unknown key 'walking_speed' in \[travel\]; "
            r"expected one of walk_speed_m_per_min,",
        ),
        (
            "[categories.karaoke]\ntarget_minutes = 5.0\n",
            r"column 'categories.karaoke': unknown key 'karaoke' in \[categories\]",
        ),
        (
            "[categories.canteen]\nnorm = 5.0\n",
            r"column 'categories.canteen.norm': unknown key 'norm' in \[categories.canteen\]",
        ),
        (
            "[living_circle.tiers.20min]\nminutes = 20.0\n",
            r"column 'living_circle.tiers.20min': unknown key '20min'",
        ),
    ],
)
def test_unknown_keys_are_named(text: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        park_parameters_from_toml(text, file="p.toml")


def test_a_norm_left_out_of_a_written_category_means_none() -> None:
    # The writer omits the key for "no norm" (TOML has no null); reading it back must not
    # restore the default norm.
    params = _edited()
    text = park_parameters_to_toml(params)
    assert "[categories.park]" in text
    assert park_parameters_from_toml(text).gap.target("park").supply_norm_per_1000 is None


def test_bundle_rejects_disagreeing_norms() -> None:
    with pytest.raises(ParameterError, match=r"'sports_court': the gap index's supply norm"):
        ParkParameters(supply_norms=DEFAULT_SUPPLY_NORMS[1:])


def test_missing_file_gives_defaults_and_save_load_reset(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    assert load_park_parameters("jinshan", store=store) == ParkParameters()
    assert park_parameters_version("jinshan", store=store) == DEFAULT_VERSION
    params = _edited()
    save_park_parameters(params, "jinshan", store=store, expected_version=DEFAULT_VERSION)
    path = tmp_path / "parks" / "jinshan" / "parameters.toml"
    assert sorted(p.name for p in path.parent.iterdir()) == [".history", ".lock", "parameters.toml"]
    assert load_park_parameters("jinshan", store=store) == params
    version = park_parameters_version("jinshan", store=store)
    assert len(version) == 64
    save_park_parameters(ParkParameters(), "jinshan", store=store, expected_version=version)
    newer = park_parameters_version("jinshan", store=store)
    assert newer != version
    reset_park_parameters("jinshan", store=store, expected_version=newer)
    assert not path.exists()
    assert load_park_parameters("jinshan", store=store) == ParkParameters()


def test_a_save_based_on_an_older_version_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    mine, theirs = _edited(), ParkParameters()
    first = save_park_parameters(mine, "jinshan", store=store, expected_version=DEFAULT_VERSION)
    # a second user started from the defaults too: refused, the first save stays
    with pytest.raises(StaleVersionError, match="someone else saved parameters for it meanwhile"):
        save_park_parameters(theirs, "jinshan", store=store, expected_version=DEFAULT_VERSION)
    assert load_park_parameters("jinshan", store=store) == mine
    with pytest.raises(StaleVersionError, match="reload the page and apply your change again"):
        reset_park_parameters("jinshan", store=store, expected_version=DEFAULT_VERSION)
    assert park_parameters_version("jinshan", store=store) == first


def test_an_invalid_saved_file_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "parks" / "jinshan" / "parameters.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[privacy]\nmin_group_size = 2\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"file 'parks/jinshan/parameters.toml', column"):
        load_park_parameters("jinshan", store=FileStore(tmp_path))


def test_park_id_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"park id '\.\./x' is not allowed"):
        load_park_parameters("../x", store=FileStore(tmp_path))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_parameter_table_lists_every_value_with_source_and_flags_changes(lang: str) -> None:
    table = parameter_table(ParkParameters(), lang)
    assert list(table.columns) == [
        "group", "key", "name", "value", "unit", "range", "source", "default", "changed",
    ]  # fmt: skip
    assert not table["changed"].any()
    assert table["key"].is_unique
    assert {spec.path for spec in SCALARS} <= set(table["key"])
    scalar_rows = table[table["key"].isin([spec.path for spec in SCALARS])]
    assert (scalar_rows["source"].str.len() > 0).all()
    walk = table.set_index("key").loc["travel.walk_speed_m_per_min"]
    assert (walk["value"], walk["range"]) == ("60", "20–150")
    assert "GB 50647-2011" in walk["source"]
    assert "✱" in table.set_index("key").loc["categories.canteen.tier", "source"]
    changed = parameter_table(_edited(), lang)
    flagged = set(changed.loc[changed["changed"], "key"])
    assert {
        "travel.walk_speed_m_per_min",
        "time_windows.weekday_evening",
        "living_circle.tiers.5min.metres",
        "categories.canteen.tier",
        "categories.park.supply_norm_per_1000",
        "decay.kind",
        "privacy.min_group_size",
    } <= flagged
    assert "travel.ebike_speed_kmh" not in flagged


_travel_values = st.fixed_dictionaries(
    {
        spec.key: st.floats(spec.low, spec.high, allow_nan=False)
        for spec in SCALARS
        if spec.section == "travel"
    }
)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    travel=_travel_values,
    cost=st.floats(5_000.0, 20_000.0, allow_nan=False),
    k=st.integers(5, 100),
    norm=st.floats(1e-6, 1e6, allow_nan=False),
    target=st.floats(0.0, 100.0, allow_nan=False),
)
def test_numeric_fields_round_trip_exactly(
    travel: dict[str, float], cost: float, k: int, norm: float, target: float
) -> None:
    document = park_parameters_to_document(ParkParameters())
    document["travel"] = travel
    document["replacement_cost"]["cost_cny_per_leaver"] = cost
    document["privacy"]["min_group_size"] = k
    document["categories"]["grocery"]["supply_norm_per_1000"] = norm
    document["categories"]["grocery"]["target_minutes"] = target
    document["categories"]["grocery"]["cap_minutes"] = target + 1.0
    params = park_parameters_from_document(document)
    assert park_parameters_from_toml(park_parameters_to_toml(params)) == params


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_source_is_a_findable_citation_in_the_interface_language(lang: str) -> None:
    sources = set(parameter_table(ParkParameters(), lang)["source"]) - {""}
    assert len(sources) > 30
    for source in sources:
        # Never an internal file name: a reader can look up a standard or a paper, not these.
        assert ".md" not in source and "PARAMETERS" not in source, source
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", source), source
    catalogue = json.loads((REPO / "retention" / "locales" / "sources.json").read_text("utf-8"))
    for key, texts in catalogue.items():
        assert ".md" not in texts["en"] + texts["zh"], key
        assert re.search(r"[\u4e00-\u9fff]", texts["zh"]), key


def test_source_text_keeps_marks_and_translates_a_target_with_its_norm() -> None:
    walk = next(spec for spec in SCALARS if spec.path == "travel.walk_speed_m_per_min")
    zh = source_text(walk.source, "zh")
    assert "GB 50647-2011" in zh and "米/分钟" in zh
    # A park's own text is shown as written; a verified-against-text mark stays.
    assert source_text("our survey, 2025", "zh") == "our survey, 2025"
    assert source_text(PARK_SETTING + " ✱", "zh") == t("sources.park_setting", "zh") + " ✱"
    combined = source_text(f"{CAP_SOURCE}; norm: {PARK_SETTING}", "zh")
    assert combined == t("sources.cap", "zh") + "；配置指标：" + t("sources.park_setting", "zh")
