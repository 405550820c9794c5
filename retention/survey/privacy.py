"""Respondent privacy: pseudonymous ids and the k-anonymity rule for every survey aggregate.

Two rules from DESIGN.md ("Rules of the house"):

* raw respondent ids never enter the clean survey table: they are replaced on import by a keyed
  hash (HMAC-SHA256) whose key — the *salt* — is kept per park outside the data directory
  (``retention.survey.pseudonym_key``, which also says what is kept and why), so the same person
  gets the same pseudonym in the next wave (waves can be linked) but the pseudonym cannot be
  reversed without the key;
* no group with fewer than ``k`` respondents (default 5) is shown or exported. Every aggregate the
  survey modules return passes through ``suppress_small_groups``, which blanks the statistics of
  small groups, marks them, and — where a published total would let a reader subtract the others
  to recover a single small group — also suppresses the next-smallest group (complementary
  suppression).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retention.errors import ParameterError

# Re-exported: callers ask this module for the park's key.
from retention.survey.pseudonym_key import load_or_create_salt as load_or_create_salt

DEFAULT_MIN_GROUP_SIZE = 5  # DESIGN.md "Rules of the house": anonymity threshold, default 5
SUPPRESSED_MARKER = "<k"  # shown in place of a suppressed statistic; the page says what k is
SALT_BYTES = 32


@dataclass(frozen=True)
class PrivacyParameters:
    """How survey aggregates are protected.

    Parameters
    ----------
    min_group_size
        Smallest number of respondents a published group may have (k of k-anonymity);
        DESIGN.md default 5.
    """

    min_group_size: int = DEFAULT_MIN_GROUP_SIZE

    def __post_init__(self) -> None:
        if isinstance(self.min_group_size, bool) or not isinstance(self.min_group_size, int):
            raise ParameterError(
                f"min_group_size must be an integer, got {self.min_group_size!r}",
                column="min_group_size",
            )
        if self.min_group_size < 1:
            raise ParameterError(
                f"min_group_size must be >= 1, got {self.min_group_size}",
                column="min_group_size",
            )


def new_salt() -> bytes:
    """Return a fresh random salt (cryptographically strong)."""
    return secrets.token_bytes(SALT_BYTES)


def pseudonymise_ids(raw_ids: Iterable[object], *, salt: bytes) -> list[str]:
    """Replace each raw respondent id by its keyed hash (16 hex digits of HMAC-SHA256).

    Assumes ids that differ only in surrounding spaces or an integer written as ``12.0`` are the
    same person (spreadsheets do that to ids).

    Parameters
    ----------
    raw_ids
        Raw ids as read from the file; missing values stay missing (``None``).
    salt
        The park's key, from ``load_or_create_salt``.

    Returns
    -------
    list[str | None]
        One pseudonym per input, in order.
    """
    if len(salt) < 16:
        raise ParameterError(f"salt must hold at least 16 bytes, got {len(salt)}", column="salt")
    out: list[str] = []
    for raw in raw_ids:
        if raw is None or (isinstance(raw, float) and np.isnan(raw)) or raw is pd.NA:
            out.append(None)  # type: ignore[arg-type]
            continue
        text = str(raw).strip()
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        if not text:
            out.append(None)  # type: ignore[arg-type]
            continue
        digest = hmac.new(salt, text.encode("utf-8"), hashlib.sha256).hexdigest()
        out.append(digest[:16])
    return out


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    count_column: str = "n",
    value_columns: Sequence[str],
    partition_columns: Sequence[str] = (),
    parameters: PrivacyParameters = PrivacyParameters(),
    complementary: bool = True,
) -> pd.DataFrame:
    """Blank the statistics of every group with fewer than k respondents, and say so.

    Every survey aggregate passes through here before it is returned. Assumes one row per group
    (per partition); ``count_column`` holds the number of respondents behind the row.

    Complementary suppression: within each partition (e.g. one amenity category of an
    enterprise breakdown) that has more than one group, if exactly one group is suppressed, the
    next-smallest group is suppressed too, because a published park total minus the other groups
    would otherwise reveal the small one.

    Parameters
    ----------
    table
        Aggregate table (not modified).
    count_column
        Column with the respondent count of each row.
    value_columns
        Statistic columns to blank in suppressed rows (means, CIs, shares, effective n ...).
    partition_columns
        Columns that define independent breakdowns (rows sharing their values are one
        breakdown whose groups add up to a total).
    parameters
        The threshold k.
    complementary
        Whether to apply complementary suppression.

    Returns
    -------
    pandas.DataFrame
        A copy with ``value_columns`` and ``count_column`` set to missing in suppressed rows,
        a boolean ``suppressed`` column, and ``attrs["suppression"]`` describing the rule and
        how many rows it hid.
    """
    k = parameters.min_group_size
    missing = [c for c in (count_column, *value_columns, *partition_columns) if c not in table]
    if missing:
        raise ParameterError(
            f"aggregate table lacks column(s) {', '.join(missing)}; expected them for suppression",
            column=missing[0],
        )
    result = table.copy()
    counts = pd.to_numeric(result[count_column], errors="coerce").fillna(0.0)
    small = counts < k
    if complementary and len(result):
        small = small.copy()
        keys = [result[c] for c in partition_columns] if partition_columns else None
        groups = (
            result.groupby(keys, sort=False, dropna=False).indices
            if keys is not None
            else {(): np.arange(len(result))}
        )
        for positions in groups.values():
            positions = np.asarray(positions)
            if len(positions) < 2:
                continue
            hidden = small.iloc[positions]
            if int(hidden.sum()) == 1:
                visible = positions[~hidden.to_numpy()]
                smallest = visible[np.argmin(counts.iloc[visible].to_numpy())]
                small.iloc[smallest] = True
    result["suppressed"] = small.to_numpy()
    blank = list(dict.fromkeys([count_column, *value_columns]))
    for column in blank:
        series = result[column]
        if series.dtype.kind in "iub":  # numpy ints cannot hold NaN
            result[column] = series.astype("float64")
        result.loc[small.to_numpy(), column] = np.nan
    result.attrs["suppression"] = {
        "min_group_size": k,
        "suppressed_rows": int(small.sum()),
        "marker": SUPPRESSED_MARKER,
        "rule": (
            f"groups with fewer than {k} respondents are suppressed"
            + (" (with complementary suppression)" if complementary else "")
        ),
    }
    return result
