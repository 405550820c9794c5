"""The Survey page's words and tables: cohort means as text cells, numbered IPA points with
quadrant names, mapping targets and answer codes by name, and the labelled results workbook.

Formats what ``retention.survey.analysis`` returns (already k-anonymous) for display in the
interface language: a reader meets names (00后, 食堂, the enterprise's name), never the codes the
data use (``post00``, ``canteen``, ``e0001``); the workbook keeps the codes in columns of their
own. Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go

from retention.i18n import label, t
from retention.safe_cells import xlsx_bytes
from retention.survey.analysis import QUADRANTS, IPAResult, released_table
from retention.survey.coding import MISSING_CODE
from retention.survey.mapping import REASON_PREFIX
from retention.survey.privacy import SUPPRESSED_MARKER
from retention.survey.schema import AGE_BAND_DTYPE, COMMUTE_MODE_DTYPE, SHIFT_DTYPE, WAGE_BAND_DTYPE

GROUPINGS: tuple[str, ...] = ("age_band", "enterprise_id", "residence_id", "zone_id")
"""What the Survey page's group tables break down by (column of the survey)."""


def mean_cell(mean: float, ci_low: float, ci_high: float, n: float, *, suppressed: bool) -> str:
    """Return one cohort cell: ``mean [low–high] n=…``, or the suppression marker.

    A group without a mean (no answers) shows the marker too: there is nothing to show.
    """
    if suppressed or pd.isna(mean):
        return SUPPRESSED_MARKER
    return f"{mean:.2f} [{ci_low:.2f}–{ci_high:.2f}] n={int(n)}"


def cohort_table(
    means: pd.DataFrame,
    *,
    lang: str,
    by: str = "age_band",
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return category means as a group × category table of text cells, groups by name.

    Assumes ``means`` is ``retention.survey.analysis.category_means``'s output (``group``,
    ``category``, ``mean``, ``ci_low``, ``ci_high``, ``n``, ``suppressed``).

    Parameters
    ----------
    means
        Weighted means per group and category (k-anonymous).
    lang
        ``"en"`` or ``"zh"`` (category and group names).
    by
        The grouping (one of :data:`GROUPINGS`).
    names
        Display names of enterprise, residence or zone ids (:func:`group_names`).

    Returns
    -------
    pandas.DataFrame
        Index: group name (named after the grouping); one column per category.
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
    shown = group_names(means["group"], by=by, lang=lang, names=names)
    frame = pd.DataFrame(
        {
            "group": [shown[str(g)] for g in means["group"]],
            "category": [label("category", str(c), lang) for c in means["category"]],
            "cell": cells,
        }
    )
    table = frame.pivot(index="group", columns="category", values="cell")
    table.index.name = t(f"survey.group.{by}", lang)
    table.columns.name = None
    return table


def suppressed_rows(table: pd.DataFrame) -> int:
    """Return how many rows ``retention.survey.privacy.suppress_small_groups`` hid in ``table``."""
    return int(table.attrs.get("suppression", {}).get("suppressed_rows", 0))


def ipa_points(points: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the IPA categories that have both coordinates, numbered in the order to act on them.

    Assumes ``points`` is ``IPAResult.points`` (``category``, ``importance``, ``performance``,
    ``quadrant``). Order: quadrant as in ``retention.survey.analysis.QUADRANTS`` (concentrate
    here first), then higher importance first; ``number`` counts from 1 in that order (the chart
    marks each point with its number, the legend table names it).

    Returns
    -------
    pandas.DataFrame
        ``number``, ``category`` (code), ``performance``, ``importance``, ``name`` (category),
        ``quadrant`` (code) and ``quadrant_name``.
    """
    shown = points.dropna(subset=["importance", "performance"])
    rank = {quadrant: position for position, quadrant in enumerate(QUADRANTS)}
    order = sorted(
        range(len(shown)),
        key=lambda i: (
            rank.get(str(shown["quadrant"].iloc[i]), len(rank)),
            -float(shown["importance"].iloc[i]),
        ),
    )
    shown = shown.iloc[order]
    return pd.DataFrame(
        {
            "number": np.arange(1, len(shown) + 1),
            "category": shown["category"].astype(str).to_numpy(),
            "performance": shown["performance"].to_numpy(dtype=float),
            "importance": shown["importance"].to_numpy(dtype=float),
            "name": [label("category", str(c), lang) for c in shown["category"]],
            "quadrant": shown["quadrant"].astype(str).to_numpy(),
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


# Where plotly can put a point's text, and the direction it moves the text box (x, y in units of
# the box's width and height, measured from the marker's edge).
_TEXT_POSITIONS: tuple[tuple[str, float, float], ...] = (
    ("top center", -0.5, 0.0),
    ("middle right", 0.0, -0.5),
    ("bottom center", -0.5, -1.0),
    ("middle left", -1.0, -0.5),
    ("top right", 0.0, 0.0),
    ("top left", -1.0, 0.0),
    ("bottom right", 0.0, -1.0),
    ("bottom left", -1.0, -1.0),
)
PLOT_WIDTH_PX = 560.0
"""Plot-area width the label placement assumes (the page's narrowest usual chart width)."""
PLOT_HEIGHT_PX = 430.0
"""Plot-area height of :func:`ipa_figure` (520 px figure less title and axis margins)."""
_MARKER_PX = 6.0
_CHAR_PX = 8.0
_LINE_PX = 14.0


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def label_boxes(
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str],
    positions: Sequence[str],
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[tuple[float, float, float, float]]:
    """Return each label's box ``(left, bottom, right, top)`` in pixels of the plot area.

    Assumes the plot area is :data:`PLOT_WIDTH_PX` × :data:`PLOT_HEIGHT_PX`, about
    ``_CHAR_PX`` pixels per character and a marker of radius ``_MARKER_PX``.
    """
    shift = {name: (dx, dy) for name, dx, dy in _TEXT_POSITIONS}
    boxes = []
    for xi, yi, text, position in zip(x, y, texts, positions, strict=True):
        cx = (xi - x_range[0]) / (x_range[1] - x_range[0]) * PLOT_WIDTH_PX
        cy = (yi - y_range[0]) / (y_range[1] - y_range[0]) * PLOT_HEIGHT_PX
        width, height = _CHAR_PX * max(len(text), 1), _LINE_PX
        dx, dy = shift[position]
        # The box starts at the marker's edge in the direction of the position.
        gap_x = _MARKER_PX * (1 if dx == 0.0 else -1 if dx == -1.0 else 0)
        gap_y = _MARKER_PX * (1 if dy == 0.0 else -1 if dy == -1.0 else 0)
        left = cx + gap_x + dx * width
        bottom = cy + gap_y + dy * height
        boxes.append((left, bottom, left + width, bottom + height))
    return boxes


def place_labels(
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str],
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[str]:
    """Choose a plotly ``textposition`` per point so that labels do not cover each other.

    Greedy, in the given order: each label takes the first of eight positions around its marker
    whose box overlaps no label already placed, no other marker and stays inside the plot; when
    every position collides, the one with the least overlapping area.

    Returns
    -------
    list of str
        One plotly text position per point (e.g. ``"top center"``).
    """
    markers = [
        (cx - _MARKER_PX, cy - _MARKER_PX, cx + _MARKER_PX, cy + _MARKER_PX)
        for cx, cy in (
            (
                (xi - x_range[0]) / (x_range[1] - x_range[0]) * PLOT_WIDTH_PX,
                (yi - y_range[0]) / (y_range[1] - y_range[0]) * PLOT_HEIGHT_PX,
            )
            for xi, yi in zip(x, y, strict=True)
        )
    ]
    placed: list[tuple[float, float, float, float]] = []
    chosen: list[str] = []
    for index in range(len(texts)):
        best, best_cost = _TEXT_POSITIONS[0][0], float("inf")
        for name, _, _ in _TEXT_POSITIONS:
            (box,) = label_boxes(
                [x[index]], [y[index]], [texts[index]], [name], x_range=x_range, y_range=y_range
            )
            cost = sum(_overlap(box, other) for other in placed)
            cost += sum(_overlap(box, m) for j, m in enumerate(markers) if j != index)
            outside = box[0] < 0 or box[1] < 0 or box[2] > PLOT_WIDTH_PX or box[3] > PLOT_HEIGHT_PX
            cost += 1e6 if outside else 0.0
            if cost < best_cost:
                best, best_cost = name, cost
            if cost == 0.0:
                break
        chosen.append(best)
        (box,) = label_boxes(
            [x[index]], [y[index]], [texts[index]], [best], x_range=x_range, y_range=y_range
        )
        placed.append(box)
    return chosen


# Corner of the plot each quadrant name sits in: (x, y, xanchor, yanchor) in axis-domain units.
_QUADRANT_CORNERS: Mapping[str, tuple[float, float, str, str]] = {
    "concentrate_here": (0.01, 0.99, "left", "top"),
    "keep_up": (0.99, 0.99, "right", "top"),
    "low_priority": (0.01, 0.01, "left", "bottom"),
    "possible_overkill": (0.99, 0.01, "right", "bottom"),
}


def ipa_axis_title(kind: str, lang: str) -> str:
    """Return the importance axis title of an importance kind (``stated``, ``derived_*``)."""
    return t(f"survey_words.ipa.axis.{kind}", lang)


def ipa_figure(chart: IPAResult, *, lang: str, importance_title: str | None = None) -> go.Figure:
    """Return the importance–performance chart: numbered points, named quadrants, mean lines.

    Each category is a marker with its number from :func:`ipa_points` (the legend table names
    them), placed by :func:`place_labels` so that no two numbers cover each other; the quadrant
    names sit in the four corners; hovering shows the category and its quadrant.

    Parameters
    ----------
    chart
        ``retention.survey.analysis.ipa`` result (not suppressed).
    lang
        ``"en"`` or ``"zh"`` for category and quadrant names.
    importance_title
        The y-axis title; default :func:`ipa_axis_title` of the chart's importance kind.
    """
    points = ipa_points(chart.points, lang=lang)
    x_range = padded_range(points["performance"], min_pad=0.15)
    y_range = padded_range(
        points["importance"], min_pad=0.02 if chart.importance_kind != "stated" else 0.15
    )
    numbers = [str(n) for n in points["number"]]
    positions = place_labels(
        points["performance"].tolist(),
        points["importance"].tolist(),
        numbers,
        x_range=x_range,
        y_range=y_range,
    )
    figure = go.Figure(
        go.Scatter(
            x=points["performance"],
            y=points["importance"],
            mode="markers+text",
            text=numbers,
            textposition=positions,
            textfont={"size": 13},
            customdata=np.stack([points["name"], points["quadrant_name"]], axis=-1)
            if len(points)
            else None,
            hovertemplate="%{text}. %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            showlegend=False,
        )
    )
    figure.add_vline(x=chart.performance_mean, line_dash="dash", line_color="grey")
    figure.add_hline(y=chart.importance_mean, line_dash="dash", line_color="grey")
    for quadrant, (x, y, xanchor, yanchor) in _QUADRANT_CORNERS.items():
        figure.add_annotation(
            x=x,
            y=y,
            xref="x domain",
            yref="y domain",
            xanchor=xanchor,
            yanchor=yanchor,
            text=t(f"survey.quadrant.{quadrant}", lang),
            showarrow=False,
            font={"size": 12, "color": "#6b6b6b"},
        )
    figure.update_layout(
        xaxis_range=list(x_range),
        yaxis_range=list(y_range),
        xaxis_title=t("survey_words.ipa.axis.performance", lang),
        yaxis_title=importance_title or ipa_axis_title(chart.importance_kind, lang),
        height=520,
        margin={"t": 30},
    )
    return figure


def ipa_legend(points: pd.DataFrame, *, lang: str, importance_kind: str) -> pd.DataFrame:
    """Return the table naming the chart's numbered points (``ipa_points`` output), in order.

    Importance keeps 2 decimals when stated (1–5) and 3 when derived (a correlation).
    """
    derived = importance_kind != "stated"
    return pd.DataFrame(
        {
            t("survey_words.ipa.number", lang): points["number"].to_numpy(),
            t("survey_words.ipa.category", lang): points["name"].to_numpy(),
            t("survey_words.ipa.quadrant", lang): points["quadrant_name"].to_numpy(),
            t("survey_words.ipa.importance", lang): points["importance"]
            .round(3 if derived else 2)
            .to_numpy(),
            t("survey_words.ipa.performance", lang): points["performance"].round(2).to_numpy(),
        }
    )


# --- words for codes -------------------------------------------------------------------------


def target_label(target: str, lang: str) -> str:
    """Return what a survey mapping target means, e.g. ``age_band`` → ``年龄段（几零后）``."""
    if target.startswith(REASON_PREFIX):
        reason = t(f"survey.reason.{target.removeprefix(REASON_PREFIX)}", lang)
        return t("survey_words.target.reason", lang, reason=reason)
    for prefix in ("sat", "imp"):
        if target.startswith(f"{prefix}_"):
            category = label("category", target.removeprefix(f"{prefix}_"), lang)
            return t(f"survey_words.target.{prefix}", lang, category=category)
    return t(f"survey_words.target.{target}", lang)


def code_label(code: str, lang: str) -> str:
    """Return an answer code's name (``post00`` → ``00后``, ``two_shift`` → ``两班倒`` …).

    Likert codes ``1``–``5`` stay digits; the codes are those of
    ``retention.survey.coding.CODE_OPTIONS``.
    """
    if code == MISSING_CODE:
        return t("survey_words.code.missing", lang)
    if code in AGE_BAND_DTYPE.categories:
        return t(f"survey.age.{code}", lang)
    if code in SHIFT_DTYPE.categories:
        return label("shift_pattern", code, lang)
    if code in COMMUTE_MODE_DTYPE.categories:
        return t(f"survey_words.commute.{code}", lang)
    if code in WAGE_BAND_DTYPE.categories:
        return t("survey_words.code.wage", lang, band=code)
    return code


def labels_to_codes(codes: Sequence[str], name_of: object) -> dict[str, str]:
    """Return a lookup from a code's name in either language (or the code itself) to the code.

    ``name_of`` is :func:`target_label` or :func:`code_label`. An editor that shows names hands
    back the name of a choice (in the language it was made in, should the user switch since).
    """
    lookup: dict[str, str] = {}
    for code in codes:
        lookup[code] = code
        for lang in ("en", "zh"):
            lookup[name_of(code, lang)] = code  # type: ignore[operator]
    return lookup


def group_names(
    groups: Sequence[object] | pd.Series,
    *,
    by: str,
    lang: str,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the display name of each group code: ``post00`` → ``00后``, ``e0001`` → its name.

    Ids without a known name show as "not linked"; two groups with the same name are told apart
    by a number (``name #2``), never by their code.
    """
    names = names or {}
    shown: dict[str, str] = {}
    used: dict[str, int] = {}
    for group in dict.fromkeys(str(g) for g in groups):
        if by == "age_band":
            name = t(f"survey.age.{group}", lang) if group in AGE_BAND_DTYPE.categories else group
        elif group == "all":
            name = t("survey.cohort.all", lang)
        else:
            name = names.get(group, t("survey_words.group.unknown", lang))
        used[name] = used.get(name, 0) + 1
        shown[group] = name if used[name] == 1 else f"{name} #{used[name]}"
    return shown


# --- the results workbook ----------------------------------------------------------------------

_SHOWN = "survey_words.col.shown"


def _labelled(
    table: pd.DataFrame,
    sheet: str,
    *,
    lang: str,
    columns: Mapping[str, str],
    percent: Sequence[str] = (),
    decimals: Mapping[str, int],
    codes: Mapping[str, tuple[str, Mapping[str, str]]],
) -> pd.DataFrame:
    """Round, mark suppressed cells, name the columns and translate coded values of one table."""
    rounded = table.copy()
    for column in percent:
        rounded[column] = rounded[column] * 100.0
    for column, places in decimals.items():
        rounded[column] = pd.to_numeric(rounded[column], errors="coerce").round(places)
    rounded.attrs = dict(table.attrs)
    marked = released_table(rounded, sheet)
    out = pd.DataFrame(index=marked.index)
    for column, key in columns.items():
        if column in codes:
            code_key, names = codes[column]
            out[t(key, lang)] = [names.get(str(v), str(v)) for v in marked[column]]
            out[t(code_key, lang)] = marked[column].astype(str).to_numpy()
        else:
            out[t(key, lang)] = marked[column].to_numpy()
    shown = ~table["suppressed"].to_numpy(dtype=bool)
    out[t(_SHOWN, lang)] = [
        t("survey_words.shown.yes" if s else "survey_words.shown.no", lang) for s in shown
    ]
    return out.reset_index(drop=True)


def results_workbook(
    *,
    ipa: IPAResult,
    means: pd.DataFrame,
    measure: str,
    by: str,
    reasons: pd.DataFrame,
    weighting: pd.DataFrame,
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    note: str,
) -> bytes:
    """Return the Survey page's results as a labelled, rounded, formula-safe XLSX workbook.

    Sheets (names in ``lang``): a note (the anonymity rule, which importance, what the data are),
    the IPA points with their chart numbers, the group means, the reasons for leaving and the
    weighting per enterprise. Column headers and coded values (categories, cohorts, enterprises,
    reasons, quadrants) are in ``lang``, each code kept in a column of its own; means have 2
    decimals, shares and rates are percentages with 1, effective sizes 1 decimal. Suppressed
    cells hold ``<k`` (``retention.survey.analysis.released_table`` refuses a table that did not
    pass the disclosure control); every cell is neutralised by ``retention.safe_cells``.

    Parameters
    ----------
    ipa
        The chart's points (``retention.survey.analysis.ipa``).
    means
        ``category_means`` output for ``measure`` by ``by``.
    measure
        ``sat`` or ``imp``.
    by
        The grouping of ``means`` (one of :data:`GROUPINGS`).
    reasons
        ``reason_shares`` output.
    weighting
        ``weighting_table`` output.
    names
        Display names by grouping (``enterprise_id``, ``residence_id``, ``zone_id``) and id.
    lang
        ``"en"`` or ``"zh"``.
    note
        What the data are (e.g. synthetic), first line of the note sheet.
    """
    k = int(ipa.points.attrs.get("suppression", {}).get("min_group_size", 0))
    derived = ipa.importance_kind != "stated"
    categories = {
        str(c): label("category", str(c), lang)
        for c in pd.concat([ipa.points["category"], means["category"]]).unique()
    }
    points = ipa.points.copy()
    numbered = ipa_points(ipa.points, lang=lang)
    numbers = dict(zip(numbered["category"], numbered["number"], strict=True))
    points.insert(0, "number", [numbers.get(str(c), pd.NA) for c in points["category"]])
    points.attrs = dict(ipa.points.attrs)
    quadrants = {q: t(f"survey.quadrant.{q}", lang) for q in QUADRANTS}
    quadrants["None"] = ""
    sheet_names = {
        "ipa": t("survey_words.sheet.ipa", lang),
        "means": t(
            "survey_words.sheet.means",
            lang,
            measure=t(f"survey.measure.{measure}", lang),
            group=t(f"survey.group.{by}", lang),
        ),
        "reasons": t("survey_words.sheet.reasons", lang),
        "weighting": t("survey_words.sheet.weighting", lang),
    }
    sheets = {
        sheet_names["ipa"]: _labelled(
            points,
            "ipa",
            lang=lang,
            columns={
                "number": "survey_words.ipa.number",
                "category": "survey_words.col.category",
                "importance": "survey_words.col.importance",
                "performance": "survey_words.col.performance",
                "n": "survey_words.col.n",
                "quadrant": "survey_words.col.quadrant",
            },
            decimals={"importance": 3 if derived else 2, "performance": 2},
            codes={
                "category": ("survey_words.col.category_code", categories),
                "quadrant": ("survey_words.col.quadrant_code", quadrants),
            },
        ),
        sheet_names["means"]: _labelled(
            means,
            "means",
            lang=lang,
            columns={
                "group": "survey_words.col.group",
                "category": "survey_words.col.category",
                "mean": "survey_words.col.mean",
                "ci_low": "survey_words.col.ci_low",
                "ci_high": "survey_words.col.ci_high",
                "n": "survey_words.col.n",
                "n_eff": "survey_words.col.n_eff",
            },
            decimals={"mean": 2, "ci_low": 2, "ci_high": 2, "n_eff": 1},
            codes={
                "group": (
                    "survey_words.col.group_code",
                    group_names(means["group"], by=by, lang=lang, names=names.get(by)),
                ),
                "category": ("survey_words.col.category_code", categories),
            },
        ),
        sheet_names["reasons"]: _labelled(
            reasons,
            "reasons",
            lang=lang,
            columns={
                "group": "survey_words.col.group",
                "reason": "survey_words.col.reason",
                "share": "survey_words.col.share",
                "ci_low": "survey_words.col.share_low",
                "ci_high": "survey_words.col.share_high",
                "n": "survey_words.col.n",
                "n_eff": "survey_words.col.n_eff",
            },
            percent=("share", "ci_low", "ci_high"),
            decimals={"share": 1, "ci_low": 1, "ci_high": 1, "n_eff": 1},
            codes={
                "group": (
                    "survey_words.col.group_code",
                    group_names(reasons["group"], by="", lang=lang),
                ),
                "reason": (
                    "survey_words.col.reason_code",
                    {str(r): t(f"survey.reason.{r}", lang) for r in reasons["reason"].unique()},
                ),
            },
        ),
        sheet_names["weighting"]: _labelled(
            weighting,
            "weighting",
            lang=lang,
            columns={
                "group": "survey_words.col.group",
                "employees": "survey_words.col.employees",
                "n": "survey_words.col.n",
                "response_rate": "survey_words.col.response_rate",
            },
            percent=("response_rate",),
            decimals={"response_rate": 1},
            codes={
                "group": (
                    "survey_words.col.group_code",
                    group_names(
                        weighting["group"],
                        by="enterprise_id",
                        lang=lang,
                        names=names.get("enterprise_id"),
                    ),
                )
            },
        ),
    }
    notes = [
        note,
        t("survey_words.note.rule", lang, k=k),
        t(
            "survey_words.note.importance",
            lang,
            kind=t(f"survey.importance.{ipa.importance_kind}", lang),
        ),
    ]
    tables = {"ipa": points, "means": means, "reasons": reasons, "weighting": weighting}
    for key, table in tables.items():
        notes.append(
            t(
                "survey_words.note.sheet",
                lang,
                sheet=sheet_names[key],
                count=suppressed_rows(table),
            )
        )
    workbook = {
        t("survey_words.sheet.note", lang): pd.DataFrame({t("survey_words.col.note", lang): notes})
    }
    workbook.update(sheets)
    return xlsx_bytes(workbook)
