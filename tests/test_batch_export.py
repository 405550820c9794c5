"""A batch's results as a GeoPackage, CSV tables and store records (``retention.batch.export``).

Two tiny synthetic parks are scored (serially: the export does not care who scored them; the
Dask path is covered by tests/test_batch.py and the kill-midway test), a third park is broken.
The GeoPackage's layers must hold exactly the rows the workers wrote, tagged with park and run
key; the ``parks`` layer must carry each park's outline (checked against the park's own zones
layer) and its summary row; the store must give back the same tables and summary, by run key,
on the file store and on PostgreSQL, and must not be written twice for the same key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geodata.build_corpus import build_corpus
from retention.batch import PLACES, read_summary, result_dir, score_park, summary_frame
from retention.batch.export import (
    BATCH_RESULTS,
    BatchFormat,
    export_results,
    read_stored_result,
    stored_digests,
    write_csv_tables,
    write_geopackage,
    write_to_store,
)
from retention.errors import DamagedFileError
from retention.storage.park import load_park, park_outline

GOOD = ("syn_0001", "syn_0002")
BROKEN = "syn_broken"
FORMULA_NAME = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two scored parks (one named like a spreadsheet formula) and one that failed."""
    corpus = tmp_path_factory.mktemp("corpus")
    build_corpus(corpus, 2, seed=3, survey_share=0.0)
    meta_path = corpus / "syn_0002" / "park.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["name_en"] = FORMULA_NAME
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    shutil.copytree(corpus / "syn_0001", corpus / BROKEN)
    (corpus / BROKEN / "residences.geojson").write_text("[", encoding="utf-8")
    out, data = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("data")
    outcomes = [
        score_park(park_id, out_dir=out, data_dir=data, geodata_dir=corpus)
        for park_id in (*GOOD, BROKEN)
    ]
    assert [o.status for o in outcomes] == ["scored", "scored", "failed"], outcomes
    return {"corpus": corpus, "out": out, "summary": summary_frame(outcomes)}


def _folder(scored: dict[str, object], park_id: str) -> Path:
    summary = scored["summary"]
    assert isinstance(summary, pd.DataFrame)
    digest = str(summary.set_index("park_id").loc[park_id, "run_key"])
    return result_dir(Path(str(scored["out"])), park_id, digest)


@pytest.mark.slow
def test_geopackage_has_a_layer_per_result_table_and_the_park_outlines(
    scored: dict[str, object],
) -> None:
    out, corpus = Path(str(scored["out"])), Path(str(scored["corpus"]))
    summary = scored["summary"]
    assert isinstance(summary, pd.DataFrame)
    path = write_geopackage(summary, out)
    assert path == out / "results.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {*PLACES, "parks"}
    for place in PLACES:
        layer = pyogrio.read_dataframe(path, layer=place)
        for park_id in GOOD:
            written = gpd.read_parquet(_folder(scored, park_id) / f"{place}.parquet")
            rows = layer[layer["park_id"] == park_id].reset_index(drop=True)
            assert len(rows) == len(written) > 0
            assert set(rows["run_key"]) == {_folder(scored, park_id).name}
            numbers = [c for c in written.columns if written[c].dtype.kind == "f"]
            np.testing.assert_allclose(
                rows[numbers].to_numpy(dtype=float), written[numbers].to_numpy(dtype=float)
            )
            assert rows.geometry.geom_equals_exact(written.geometry, tolerance=1e-9).all()
        assert BROKEN not in set(layer["park_id"])
    parks = pyogrio.read_dataframe(path, layer="parks").set_index("park_id")
    assert list(parks.index) == list(GOOD)
    for park_id in GOOD:
        outline = park_outline(load_park(park_id, geodata_dir=corpus))
        assert outline is not None
        expected = outline.to_crs("EPSG:4326").geometry.union_all()
        assert parks.loc[park_id, "geometry"].equals_exact(expected, tolerance=1e-9)
        row = read_summary(_folder(scored, park_id))
        assert parks.loc[park_id, "gap_index_0_100"] == pytest.approx(row["gap_index_0_100"])
        assert parks.loc[park_id, "run_key"] == row["run_key"]
    assert parks.loc["syn_0002", "name_en"] == FORMULA_NAME  # GIS keeps the name as it is


@pytest.mark.slow
def test_csv_tables_hold_every_park_and_neutralise_formulas(scored: dict[str, object]) -> None:
    out = Path(str(scored["out"]))
    summary = scored["summary"]
    assert isinstance(summary, pd.DataFrame)
    paths = write_csv_tables(summary, out)
    assert sorted(p.name for p in paths) == sorted(f"{n}.csv" for n in (*PLACES, "parks"))
    for place in PLACES:
        table = pd.read_csv(out / f"{place}.csv", encoding="utf-8-sig")
        counts = table["park_id"].value_counts().to_dict()
        expected = {p: len(pd.read_parquet(_folder(scored, p) / f"{place}.parquet")) for p in GOOD}
        assert counts == expected
        assert table["geometry"].str.match(r"^(POINT|POLYGON|MULTIPOLYGON) ").all()
    parks = pd.read_csv(out / "parks.csv", encoding="utf-8-sig").set_index("park_id")
    assert parks.loc["syn_0002", "name_en"] == "'" + FORMULA_NAME


@pytest.mark.slow
def test_store_keeps_each_result_under_its_run_key_once(scored: dict[str, object], store) -> None:  # type: ignore[no-untyped-def]
    out = Path(str(scored["out"]))
    summary = scored["summary"]
    assert isinstance(summary, pd.DataFrame)
    assert write_to_store(summary, out, store) == 2
    assert write_to_store(summary, out, store) == 0  # same run keys: nothing rewritten
    for park_id in GOOD:
        folder = _folder(scored, park_id)
        assert stored_digests(store, park_id) == [folder.name]
        result = read_stored_result(store, park_id, folder.name)
        assert result is not None and result.version == 1
        row = read_summary(folder)
        assert set(result.summary) == set(row)
        for name, value in row.items():
            if isinstance(value, float) and np.isnan(value):
                assert np.isnan(result.summary[name]), name
            else:
                assert result.summary[name] == value, name
        for place in PLACES:
            written = gpd.read_parquet(folder / f"{place}.parquet")
            pd.testing.assert_frame_equal(
                pd.DataFrame(result.tables[place]).drop(columns="geometry"),
                pd.DataFrame(written).drop(columns="geometry"),
            )
            assert result.tables[place].geometry.geom_equals_exact(written.geometry, 0).all()
    assert stored_digests(store, BROKEN) == []
    assert read_stored_result(store, "syn_0001", "0" * 64) is None
    # A record whose tables are not there is named, not read as empty.
    store.records.put("syn_0001", BATCH_RESULTS, "f" * 64, {"park_id": "x"}, expected_version=0)
    with pytest.raises(DamagedFileError, match="residences"):
        read_stored_result(store, "syn_0001", "f" * 64)


@pytest.mark.slow
def test_export_refuses_store_format_without_a_store(scored: dict[str, object]) -> None:
    summary = scored["summary"]
    assert isinstance(summary, pd.DataFrame)
    with pytest.raises(ValueError, match="store"):
        export_results(summary, Path(str(scored["out"])), (BatchFormat.STORE,))


@pytest.mark.parametrize(("n", "seed"), [(44, 20260312), (5, 5)])
def test_corpus_parks_whose_route_folds_onto_one_road_node_still_build(n: int, seed: int) -> None:
    # syn_0044 of the default seed (its shuttle's village and plant share a road node) and
    # syn_0005 of seed 5 (its custom bus folds back to its start) stopped the corpus builder.
    from geodata.build_corpus import corpus_specs
    from geodata.synthetic import generate_park
    from retention.data.layers import LayerKind

    park = corpus_specs(n, seed=seed)[n - 1]
    layers = generate_park(park.spec, seed=park.seed)
    routes = layers[LayerKind.TRANSIT_ROUTES]
    assert len(routes) >= 2
    assert (routes.geometry.apply(lambda line: len(line.coords)) >= 2).all()
    stops = layers[LayerKind.TRANSIT_STOPS]
    assert set(stops["route_id"]) == set(routes["route_id"])
