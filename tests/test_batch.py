"""Province-scale batch (``retention.batch``, ``parklife batch``) and the synthetic park corpus.

The central test builds a corpus of three tiny synthetic parks (one with a survey) plus one park
with a broken layer file, runs ``parklife batch`` on a real local Dask cluster of two worker
processes, and checks that every good park's results are identical to scoring it alone through
the pipeline, that the summary's figures are the residents' figures of the pipeline's own
indicators, and that the broken park is reported with its error while the others finish. The
resume test deletes one park's result and runs again on a running scheduler: only that park is
scored again.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.build_corpus import build_corpus, corpus_specs
from retention.batch import (
    BATCH_WINDOW,
    LEISURE_CATEGORIES,
    PLACES,
    read_summary_table,
    result_dir,
    run_batch,
)
from retention.cli import main
from retention.cli._command import ExitCode
from retention.escaping import markdown_text
from retention.i18n import t
from retention.model.leavers import leavers_by_enterprise
from retention.pipeline import (
    current_survey,
    indicators,
    park_inputs,
    retention_inputs,
    run_key,
    score_tables,
    travel_times,
)
from retention.storage.park import load_park

BROKEN = "syn_broken"
GOOD = ("syn_0001", "syn_0002", "syn_0003")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, environ={})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tiny parks (one with a survey) and a copy of one with an unreadable amenities file."""
    folder = tmp_path_factory.mktemp("corpus")
    build_corpus(folder, 3, seed=1, survey_share=1 / 3)  # syn_0001 has a survey
    shutil.copytree(folder / "syn_0001", folder / BROKEN)
    (folder / BROKEN / "amenities.geojson").write_text("{not geojson", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def batch(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``parklife batch`` on the corpus with a local cluster of two processes."""
    data_dir = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("batch_out")
    code, stdout, stderr = run(
        "--data-dir", str(data_dir), "batch", "--parks", str(corpus), "--out", str(out),
        "--workers", "2",
    )  # fmt: skip
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out, "data_dir": data_dir}


def _alone(park_id: str, corpus: Path, data_dir: Path):  # type: ignore[no-untyped-def]
    key = run_key(park_id, data_dir=data_dir, geodata_dir=corpus)
    park = park_inputs(key, data_dir=data_dir, geodata_dir=corpus)
    travel = travel_times(park, key)
    return key, park, travel


def _residents_mean(values: np.ndarray, people: np.ndarray) -> float:
    finite = np.isfinite(values)
    return float((values[finite] * people[finite]).sum() / people[finite].sum())


@pytest.mark.slow
def test_batch_on_two_processes_equals_each_park_scored_alone(
    batch: dict[str, object], corpus: Path
) -> None:
    out, data_dir = Path(str(batch["out"])), Path(str(batch["data_dir"]))
    assert batch["code"] == ExitCode.DATA, batch["stderr"]  # one park failed
    assert "4 parks on 2 workers: 3 scored, 0 already done, 1 failed" in str(batch["stdout"])
    summary = read_summary_table(out).set_index("park_id")
    assert list(summary.index) == [*GOOD, BROKEN]
    with_model = 0
    for park_id in GOOD:
        key, park, travel = _alone(park_id, corpus, data_dir)
        row = summary.loc[park_id]
        assert row["status"] == "scored" and row["run_key"] == key.digest()
        alone = score_tables(park, travel, key, window=BATCH_WINDOW)
        folder = result_dir(out, park_id, key.digest())
        for place in PLACES:
            stored = pd.read_parquet(folder / f"{place}.parquet")
            expected = pd.DataFrame(alone.tables()[place])
            pd.testing.assert_frame_equal(
                stored.drop(columns="geometry"), expected.drop(columns="geometry")
            )
            import geopandas as gpd

            stored_geo = gpd.read_parquet(folder / f"{place}.parquet")
            assert stored_geo.geometry.geom_equals_exact(
                alone.tables()[place].geometry, tolerance=0
            ).all()
        # Summary figures: the residents' figures of the pipeline's own walking indicators.
        walk = indicators(travel, key, mode="walk", window=BATCH_WINDOW)
        homes = (walk.origins["origin_set"] == "residence").to_numpy()
        people = walk.origins["weight"].to_numpy(dtype=float)[homes]
        gap = walk.gap["gap_index"].to_numpy(dtype=float)[homes]
        assert row["gap_index_0_100"] == pytest.approx(_residents_mean(gap, people), rel=1e-12)
        for category, share in walk.compliance["share"].items():
            assert row[f"compliance_{category}_share"] == pytest.approx(float(share), abs=1e-12)
        for category in LEISURE_CATEGORIES:
            nearest = walk.nearest[category].to_numpy(dtype=float)[homes]
            capped = np.minimum(nearest, travel.params.max_minutes)
            assert row[f"evening_minutes_{category}"] == pytest.approx(
                _residents_mean(capped, people), rel=1e-12
            )
        assert row["residents"] == pytest.approx(people.sum())
        # Expected leavers where a survey exists: the model fitted on this park alone.
        survey = current_survey(park, key, data_dir=data_dir, geodata_dir=corpus)
        assert row["survey_respondents"] == len(survey.survey)
        if survey.survey.empty:
            assert row["model_error"] == "no survey" and np.isnan(row["leavers_per_year"])
            continue
        inputs = retention_inputs(park, travel, survey, key)
        assert inputs.model is not None, inputs.error
        total = leavers_by_enterprise(
            inputs.model,
            inputs.features,
            inputs.headcounts,
            conversion=key.parameters.conversion,
            cost=key.parameters.replacement_cost,
        ).total
        assert row["leavers_per_year"] == pytest.approx(float(total["leavers_per_year"]))
        assert row["leavers_low"] <= row["leavers_per_year"] <= row["leavers_high"]
        assert 0 < row["turnover_share"] < 1
        with_model += 1
    assert with_model == 1


@pytest.mark.slow
def test_a_broken_park_is_reported_with_its_error_and_the_rest_finish(
    batch: dict[str, object],
) -> None:
    out = Path(str(batch["out"]))
    assert f"park {BROKEN} failed:" in str(batch["stderr"])
    assert "amenities.geojson" in str(batch["stderr"])  # the error names the file
    summary = read_summary_table(out).set_index("park_id")
    assert summary.loc[BROKEN, "status"] == "failed"
    assert "amenities.geojson" in summary.loc[BROKEN, "error"]
    assert (summary.loc[list(GOOD), "status"] == "scored").all()
    assert not (out / "parks" / BROKEN).exists() or not any((out / "parks" / BROKEN).iterdir())
    csv = (out / "summary.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("park_id,")


@pytest.mark.slow
def test_a_second_run_on_a_running_scheduler_scores_only_the_missing_park(
    batch: dict[str, object], corpus: Path
) -> None:
    from dask.distributed import LocalCluster

    out, data_dir = Path(str(batch["out"])), Path(str(batch["data_dir"]))
    before = read_summary_table(out).set_index("park_id")
    removed = result_dir(out, "syn_0002", str(before.loc["syn_0002", "run_key"]))
    shutil.rmtree(removed)
    kept = result_dir(out, "syn_0001", str(before.loc["syn_0001", "run_key"]))
    kept_mtime = (kept / "residences.parquet").stat().st_mtime_ns
    seen = []
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        report = run_batch(
            [*GOOD, BROKEN],
            out_dir=out,
            data_dir=data_dir,
            geodata_dir=corpus,
            scheduler=cluster.scheduler_address,
            on_park=lambda outcome: seen.append((outcome.park_id, outcome.status)),
        )
    statuses = {o.park_id: o.status for o in report.outcomes}
    assert statuses == {
        "syn_0001": "skipped",
        "syn_0002": "scored",
        "syn_0003": "skipped",
        BROKEN: "failed",
    }
    assert sorted(seen) == sorted(statuses.items())
    assert report.workers == 1
    assert (kept / "residences.parquet").stat().st_mtime_ns == kept_mtime
    after = read_summary_table(out).set_index("park_id")
    numbers = [c for c in before.columns if before[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(after.loc[list(GOOD), numbers], before.loc[list(GOOD), numbers])
    assert not [p for p in (out / "parks" / "syn_0002").iterdir() if p.name.startswith(".tmp")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_refuses_bad_arguments_before_starting_a_cluster(tmp_path: Path, lang: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = str(tmp_path / "out")
    code, _, err = run("--lang", lang, "batch", "--parks", str(tmp_path / "nope"), "--out", out)
    assert code == ExitCode.INPUT
    assert t("cli_batch.batch.no_folder", lang, path=str(tmp_path / "nope")) in err
    code, _, err = run("--lang", lang, "batch", "--parks", str(empty), "--out", out)
    assert code == ExitCode.INPUT
    assert t("cli_batch.batch.no_parks", lang, path=str(empty)) in err
    code, _, err = run(
        "--lang", lang, "batch", "--parks", str(empty), "--out", out, "--workers", "0"
    )
    assert code == ExitCode.USAGE
    assert t("cli_batch.batch.bad_workers", lang, value=0) in err
    args = ("--parks", str(empty), "--out", out, "--scheduler", "localhost:8786")
    code, _, err = run("--lang", lang, "batch", *args)
    assert code == ExitCode.USAGE
    assert t("cli_batch.batch.bad_scheduler", lang, value="localhost:8786") in err
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    park = tmp_path / "parks" / "p1"
    park.mkdir(parents=True)
    (park / "park.json").write_text("{}", encoding="utf-8")
    code, _, err = run("--lang", lang, "batch", "--parks", str(park.parent), "--out", str(blocked))
    assert code == ExitCode.OUTPUT
    assert t("cli_batch.batch.out_failed", lang, path=str(blocked)) in err


@pytest.mark.slow
def test_cli_reports_an_unreachable_scheduler(tmp_path: Path) -> None:
    park = tmp_path / "parks" / "p1"
    park.mkdir(parents=True)
    (park / "park.json").write_text("{}", encoding="utf-8")
    code, _, err = run(
        "--lang", "zh", "batch", "--parks", str(park.parent), "--out", str(tmp_path / "out"),
        "--scheduler", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert code == ExitCode.INPUT
    assert t("cli_batch.batch.scheduler_failed", "zh", address="tcp://127.0.0.1:9") in err


def test_corpus_specs_are_seeded_varied_and_labelled_synthetic() -> None:
    first = corpus_specs(30, seed=11, survey_share=0.5)
    assert first == corpus_specs(30, seed=11, survey_share=0.5)
    assert first != corpus_specs(30, seed=12, survey_share=0.5)
    assert 8 <= sum(p.survey for p in first) <= 22
    assert corpus_specs(10, seed=11, survey_share=0.5) == first[:10]  # growing adds parks
    assert {p.size for p in first} == {"small", "mid"}
    areas = [p.spec.area_km2 for p in first]
    assert min(areas) >= 1.5 and max(areas) <= 8.0 and len(set(areas)) > 20
    density = [p.spec.amenities / p.spec.area_km2 for p in first]
    assert max(density) > 2 * min(density)
    assert len({p.spec.centres for p in first}) > 1
    assert len({p.city_en for p in first}) > 3
    assert all("synthetic" in p.spec.name_en and "合成" in p.spec.name_zh for p in first)
    assert len({p.spec.park_id for p in first}) == 30


def test_corpus_parks_load_like_demo_parks(tmp_path: Path) -> None:
    ids = build_corpus(tmp_path, 2, seed=3, survey_share=0.0)
    assert ids == ["syn_0001", "syn_0002"]
    specs = corpus_specs(2, seed=3, survey_share=0.0)
    for park_id, spec in zip(ids, specs, strict=True):
        park = load_park(park_id, data_dir=tmp_path / "data", geodata_dir=tmp_path)
        assert park.synthetic
        assert len(park.layer("enterprises")) == spec.spec.enterprises
        assert len(park.layer("amenities")) == spec.spec.amenities
        metadata = json.loads((tmp_path / park_id / "park.json").read_text(encoding="utf-8"))
        assert metadata["district"]["province_en"] == "Zhejiang"
        assert metadata["synthetic"] is True
    first = (tmp_path / "syn_0001" / "roads.geojson").read_bytes()
    build_corpus(tmp_path, 1, seed=3, survey_share=0.0)
    assert (tmp_path / "syn_0001" / "roads.geojson").read_bytes() == first


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_comparison_page_ranks_the_batch_results(
    batch: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app_session import signed_in
    from ui import state

    data_dir = tmp_path / "data"
    shutil.copytree(Path(str(batch["out"])), data_dir / "batches" / "corpus")
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(data_dir))
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = signed_in(AppTest.from_file(app, default_timeout=300))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    summary = read_summary_table(Path(str(batch["out"])))
    scored = summary[summary["status"] != "failed"]  # skipped parks keep their figures
    expected = scored.sort_values("gap_index_0_100", ascending=False)[f"name_{lang}"].tolist()
    table = at.dataframe[0].value
    assert table[t("compare.col.name", lang)].tolist() == expected
    gaps = table[t("compare.indicator.gap_index_0_100", lang)].tolist()
    assert gaps == [round(g, 1) for g in sorted(scored["gap_index_0_100"], reverse=True)]
    assert any(markdown_text(BROKEN) in warning.value for warning in at.warning)
