"""How pages show tables of counts: thousands separators on every whole-number column."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pandas.api.types import is_integer_dtype

# "localized": grouped digits in the reader's locale (14,076), no decimals added to counts.
COUNT_FORMAT = "localized"


def count_columns(frame: pd.DataFrame) -> dict[str, st.column_config.NumberColumn]:
    """Return ``column_config`` that shows each whole-number column with thousands separators.

    Parameters
    ----------
    frame
        The table a page is about to show.

    Returns
    -------
    dict
        ``{column: NumberColumn(format="localized")}`` for the integer columns.
    """
    return {
        str(column): st.column_config.NumberColumn(format=COUNT_FORMAT)
        for column in frame.columns
        if is_integer_dtype(frame[column].dtype)
    }
