"""The Survey page's tables: cohort means as text cells, IPA points with labels, suppression counts.

Formats what ``retention.survey.analysis`` returns (already k-anonymous) for display in the
interface language. Inputs are never modified.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go

from retention.i18n import label, t
from retention.survey.analysis import IPAResult
from retention.survey.privacy import SUPPRESSED_MARKER


def mean_cell(mean: float, ci_low: float, ci_high: float, n: float, *, suppressed: bool) -> str:
    """Return one cohort cell: ``mean [low–high] n=…``, or the suppression marker.

    A group without a mean (no answers) shows the marker too: there is nothing to show.
    """
    if suppressed or pd.isna(mean):
        return SUPPRESSED_MARKER
    return f"{mean:.2f} [{ci_low:.2f}–{ci_high:.2f}] n={int(n)}"


def cohort_table(means: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return category means as a group × category table of text cells.

    Assumes ``means`` is ``retention.survey.analysis.category_means``'s output (``group``,
    ``category``, ``mean``, ``ci_low``, ``ci_high``, ``n``, ``suppressed``).

    Parameters
    ----------
    means
        Weighted means per group and category (k-anonymous).
    lang
        ``"en"`` or ``"zh"`` (category names in the columns).

    Returns
    -------
    pandas.DataFrame
        Index: group; one column per category.
    """
    cells = [
        mean_cell(mean, low, high, n, suppressed=bool(hidden))
        for mean, low, high, n, hidden in zip(
            means["mean"],
            means["ci_low"],
            means["ci_high"],
            means["n"],
            means["suppressed"],
            strict=True,
        )
    ]
    frame = pd.DataFrame(
        {
            "group": means["group"].to_numpy(),
            "category": [label("category", str(c), lang) for c in means["category"]],
            "cell": cells,
        }
    )
    return frame.pivot(index="group", columns="category", values="cell")


def suppressed_rows(table: pd.DataFrame) -> int:
    """Return how many rows ``retention.survey.privacy.suppress_small_groups`` hid in ``table``."""
    return int(table.attrs.get("suppression", {}).get("suppressed_rows", 0))


def ipa_points(points: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the IPA categories that have both coordinates, with their names and quadrants.

    Assumes ``points`` is ``IPAResult.points`` (``category``, ``importance``, ``performance``,
    ``quadrant``).

    Returns
    -------
    pandas.DataFrame
        ``performance``, ``importance``, ``name`` (category) and ``quadrant_name``.
    """
    shown = points.dropna(subset=["importance", "performance"])
    return pd.DataFrame(
        {
            "performance": shown["performance"].to_numpy(dtype=float),
            "importance": shown["importance"].to_numpy(dtype=float),
            "name": [label("category", str(c), lang) for c in shown["category"]],
            "quadrant_name": [t(f"survey.quadrant.{q}", lang) for q in shown["quadrant"]],
        }
    )


def padded_range(
    values: npt.ArrayLike, *, min_pad: float = 0.25, share: float = 0.12
) -> tuple[float, float]:
    """Return an axis range around ``values`` with room for labels beside the outermost points.

    Parameters
    ----------
    values
        The plotted values (NaN ignored).
    min_pad
        Smallest margin on each side, in axis units.
    share
        Margin as a share of the values' spread, when that is larger.

    Returns
    -------
    tuple
        ``(low, high)``; ``(0, 1)`` padded when there is no finite value.
    """
    numbers = np.asarray(values, dtype=float)
    finite = numbers[np.isfinite(numbers)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = max(min_pad, share * (high - low))
    return low - pad, high + pad


def reason_bars(reasons: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the reasons for leaving that may be shown, smallest share first, with their names.

    Assumes ``reasons`` is ``retention.survey.analysis.reason_shares``'s output (``reason``,
    ``share``, ``ci_low``, ``ci_high``; suppressed shares are missing and left out).

    Returns
    -------
    pandas.DataFrame
        ``name``, ``share`` and the interval's distances below and above the share
        (``minus``, ``plus``) for error bars.
    """
    shown = reasons.dropna(subset=["share"]).sort_values("share", kind="stable")
    share = shown["share"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "name": [t(f"survey.reason.{r}", lang) for r in shown["reason"]],
            "share": share,
            "minus": share - shown["ci_low"].to_numpy(dtype=float),
            "plus": shown["ci_high"].to_numpy(dtype=float) - share,
        }
    )


def ipa_figure(chart: IPAResult, *, lang: str, importance_title: str) -> go.Figure:
    """Return the importance–performance chart: categories, mean lines, readable axis range.

    Parameters
    ----------
    chart
        ``retention.survey.analysis.ipa`` result (not suppressed).
    lang
        ``"en"`` or ``"zh"`` for category and quadrant names.
    importance_title
        The y-axis title (which importance the chart uses).
    """
    points = ipa_points(chart.points, lang=lang)
    figure = go.Figure(
        go.Scatter(
            x=points["performance"],
            y=points["importance"],
            mode="markers+text",
            text=points["name"],
            textposition="top center",
            customdata=points["quadrant_name"],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>",
        )
    )
    figure.add_vline(x=chart.performance_mean, line_dash="dash")
    figure.add_hline(y=chart.importance_mean, line_dash="dash")
    # Room beside the outermost points so their category labels are not cut off.
    figure.update_layout(
        xaxis_range=list(padded_range(points["performance"])),
        xaxis_title=t("survey.axis.performance", lang),
        yaxis_title=importance_title,
        height=520,
        margin={"t": 30},
    )
    return figure
