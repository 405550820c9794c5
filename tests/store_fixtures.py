"""Stores to run the same tests against: the file store in a temp folder and, when a PostgreSQL
server is available (``tests/postgres_cluster.py``), a PostgreSQL/PostGIS store in a fresh
database. Inputs (an upload's validation, a survey import) are built here from tiny tables."""

from __future__ import annotations

import pandas as pd

from retention.data.io import read_layer
from retention.data.layers import LayerKind
from retention.data.validate import LayerValidation, validate_layer

ENTERPRISES = [
    {"编号": "E1", "名称": "金山电机", "行业": "electrical", "员工数": 1200, "班制": "two_shift",
     "经度": 113.145, "纬度": 27.845},
    {"编号": "E2", "名称": "湘江轨道", "行业": "rail", "员工数": 800, "班制": "day",
     "经度": 113.150, "纬度": 27.850},
]  # fmt: skip


def enterprise_validation() -> LayerValidation:
    """Two valid enterprise rows with Chinese names, as a user's CSV gives them."""
    data = pd.DataFrame(ENTERPRISES).to_csv(index=False).encode("utf-8")
    frame = read_layer(data, file_name="企业.csv").frame
    return validate_layer(
        frame, LayerKind.ENTERPRISES, source_name="企业.csv", coordinate_system="wgs84"
    )


def survey_import():  # -> SurveyImport: three valid respondents (a tiny Wenjuanxing CSV)
    """A survey import with three valid respondents, built as tests/test_survey_store.py does."""
    from tests.survey_fixtures import wenjuanxing_csv
    from tests.test_survey_store import HEADERS, _import, _rows

    return _import(wenjuanxing_csv(HEADERS, _rows()))
