"""Answer texts of ordinal and categorical questions, and the user's value map.

Survey tools write the same 1–5 answer in many wordings: a satisfaction matrix says 很满意 or
比较满意, a leave-intention question may use a likelihood scale (很不可能 / 不太可能 / 说不准 /
比较可能 / 很可能), an agreement scale (非常不同意 … 非常同意) or a frequency scale (从不 …
总是). ``LIKERT_SCALES`` holds these common Chinese wordings (plus numbers written as ``5分`` or
``五``); which scales a question accepts depends on what it asks (``SCALES_BY_GROUP``).

Every answer that is not a plain number is shown to the user in the value-mapping step
(``retention.survey.coding``) with the code suggested for it; what the user confirms is a
``ValueMap`` saved with the park's mapping and reused for the next wave. Answers neither in the
map nor in these dictionaries are never coded silently: they are reported as unreadable cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from retention.survey.schema import IMPORTANCE_TEXT, INTENT_TEXT, SATISFACTION_TEXT

SKIP_TEXTS = frozenset(
    {"(跳过)", "（跳过）", "跳过", "(空)", "（空）", "空", "-3", "-2", "-3.0", "-2.0"}
)
"""Wenjuanxing's markers for a skipped (-3, 跳过) or unanswered (-2, 空) question."""

MISSING = ""
"""Code of an answer the user decided to treat as missing (e.g. 不适用, 没用过)."""


def is_skipped(value: object) -> bool:
    """Return whether a cell is empty or one of the survey tools' skip markers."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    text = str(value).strip()
    return not text or text in SKIP_TEXTS or text.lower() in ("nan", "none", "n/a", "na")


def _scale(
    *pairs: tuple[int, Iterable[str]], known: Mapping[str, int] | None = None
) -> Mapping[str, int]:
    merged = dict(known or {})
    for code, texts in pairs:
        for text in texts:
            merged.setdefault(text, code)
    return MappingProxyType(merged)


LIKERT_SCALES: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "satisfaction": _scale(
            (5, ("非常满意", "很满意", "十分满意", "特别满意", "完全满意")),
            (4, ("满意", "比较满意", "较满意", "基本满意", "还算满意")),
            (3, ("一般", "一般般", "说不清", "中立", "还行", "普通")),
            (2, ("不满意", "不太满意", "比较不满意", "较不满意", "不大满意")),
            (1, ("非常不满意", "很不满意", "十分不满意", "极不满意", "完全不满意")),
            known=SATISFACTION_TEXT,
        ),
        "importance": _scale(
            (5, ("非常重要", "很重要", "十分重要", "极其重要", "特别重要")),
            (4, ("重要", "比较重要", "较重要")),
            (3, ("一般", "一般重要", "无所谓", "说不清", "中立")),
            (2, ("不重要", "不太重要", "比较不重要", "较不重要", "不大重要")),
            (1, ("非常不重要", "很不重要", "完全不重要", "一点也不重要", "根本不重要")),
            known=IMPORTANCE_TEXT,
        ),
        "agreement": _scale(
            (5, ("非常同意", "完全同意", "很同意", "十分同意")),
            (4, ("同意", "比较同意", "较同意", "基本同意")),
            (3, ("一般", "中立", "说不清", "不确定", "既不同意也不反对")),
            (2, ("不同意", "不太同意", "比较不同意", "较不同意")),
            (1, ("非常不同意", "完全不同意", "很不同意", "强烈反对")),
        ),
        "likelihood": _scale(
            (5, ("很可能", "非常可能", "极有可能", "很有可能", "一定会", "肯定会")),
            (4, ("比较可能", "可能", "有可能", "较可能", "可能会")),
            (3, ("说不准", "说不清", "不确定", "不好说", "一般", "不一定")),
            (2, ("不太可能", "不大可能", "较不可能", "可能不会")),
            (1, ("很不可能", "非常不可能", "极不可能", "不可能", "肯定不会", "一定不会")),
        ),
        "frequency": _scale(
            (5, ("总是", "一直", "几乎总是", "每天")),
            (4, ("经常", "常常", "较多")),
            (3, ("有时", "有时候", "一般")),
            (2, ("很少", "偶尔", "较少")),
            (1, ("从不", "从来没有", "从未", "没有")),
        ),
        "intent": _scale(known=INTENT_TEXT),
        "numbers": _scale(
            *(
                (code, (f"{code}分", f"{code} 分", f"{code}星", chinese, f"{chinese}分"))
                for code, chinese in zip(range(1, 6), "一二三四五", strict=True)
            )
        ),
    }
)
"""1–5 codes of answer texts, by scale (1 = least satisfied/important/likely/often)."""

SCALES_BY_GROUP: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "satisfaction": ("satisfaction", "agreement", "numbers"),
        "importance": ("importance", "agreement", "numbers"),
        "intent_to_leave": ("intent", "likelihood", "agreement", "frequency", "numbers"),
    }
)
"""Scales a group of Likert questions accepts, in the order they are searched."""

CODED_TARGETS: tuple[str, ...] = ("age_band", "shift", "wage_band", "commute_mode")
"""Categorical targets whose answers go through the value-mapping step."""


def value_group(target: str) -> str | None:
    """Return the value-mapping group of a mapping target, or ``None`` if its answers are free.

    Satisfaction questions (every ``sat_<category>`` and ``overall_satisfaction``) share one
    group, importance questions another, so one decision codes the same answer text in every
    column of a matrix; each categorical target (``CODED_TARGETS``) is its own group.
    """
    if target.startswith("sat_") or target == "overall_satisfaction":
        return "satisfaction"
    if target.startswith("imp_"):
        return "importance"
    if target == "intent_to_leave" or target in CODED_TARGETS:
        return target
    return None


@cache
def likert_text_map(group: str) -> Mapping[str, int]:
    """Return every known wording of a Likert group's answers (first scale wins a clash)."""
    merged: dict[str, int] = {}
    for scale in SCALES_BY_GROUP[group]:
        for text, code in LIKERT_SCALES[scale].items():
            merged.setdefault(text, code)
    return MappingProxyType(merged)


@dataclass(frozen=True)
class ValueMap:
    """The user's codes for answer texts, per value-mapping group.

    Parameters
    ----------
    entries
        ``(group, answer text, code)`` triples; the code is ``"1"``–``"5"`` for Likert groups,
        the category code (``post90``, ``two_shift``, ...) for categorical ones, or ``MISSING``
        (``""``) for an answer to treat as not given. Frozen and hashable: a cache key.
    """

    entries: tuple[tuple[str, str, str], ...] = ()

    def code(self, group: str, answer: str) -> str | None:
        """Return the code of ``answer`` in ``group``, or ``None`` when the map has none."""
        return self.as_dict().get((group, answer.strip()))

    def as_dict(self) -> dict[tuple[str, str], str]:
        """Return ``{(group, answer): code}``."""
        return {(g, a): c for g, a, c in self.entries}

    def merged(self, newer: ValueMap) -> ValueMap:
        """Return this map updated with ``newer`` (``newer`` wins where both code an answer)."""
        combined = self.as_dict() | newer.as_dict()
        return ValueMap(tuple(sorted((g, a, c) for (g, a), c in combined.items())))

    def to_json(self) -> list[list[str]]:
        """Return the entries as JSON-ready lists."""
        return [list(entry) for entry in self.entries]

    @classmethod
    def from_json(cls, payload: object) -> ValueMap:
        """Read entries written by ``to_json``; ``ValueError`` if they are not string triples."""
        if not isinstance(payload, list):
            raise ValueError("a value map must be a list of [group, answer, code] triples")
        entries = []
        for item in payload:
            if not (
                isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item)
            ):
                raise ValueError(f"value map entry {item!r} is not a [group, answer, code] triple")
            entries.append((item[0], item[1], item[2]))
        return cls(tuple(sorted(entries)))
