"""Column mapping: which survey-file column answers which canonical question, and how to read it.

A Wenjuanxing export names its columns by question text (``"3、您的年龄段:"``), one column per
option of a multi-select question (``"8、您考虑离职的原因:(工资待遇)"``) and one per row of a
matrix question (``"10、您对以下设施的满意度:(食堂与餐饮)"``). ``suggest_mapping`` proposes a
target for every column from keywords and fuzzy matching (rapidfuzz); the user edits it; the
result is saved per park and reused when the next wave arrives with the same headers.
``apply_mapping`` then turns the raw text answers into canonical values, reporting every cell it
cannot read.

Targets (``MAPPING_TARGETS``):

* ``ignore`` — not used;
* ``respondent_id`` — a persistent person id (e.g. 工号), pseudonymised on import;
* ``response_number`` — a per-wave response number (Wenjuanxing ``序号``), used when no
  persistent id exists; pseudonymised together with the wave so waves never collide;
* ``enterprise`` / ``residence`` — an id or a name, linked by ``retention.survey.link``;
* ``longitude`` / ``latitude`` — where the respondent lives (WGS84), linked to the nearest
  residence;
* the canonical survey columns (``age_band``, ``tenure_months``, ``sat_canteen``, ...), plus
  ``tenure_years`` (converted to months);
* ``reasons`` — one column holding several reasons (``工资待遇┋通勤不便``);
* ``reason:<code>`` — one column per option of the reasons question (1/0, 选中/未选中).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, process

from retention.data.columns import headers_signature
from retention.errors import ValidationError
from retention.survey.answers import (
    MISSING,
    ValueMap,
    is_skipped,
    likert_text_map,
    value_group,
)
from retention.survey.schema import (
    AGE_BAND_LABELS_ZH,
    LIKERT_MAX,
    LIKERT_MIN,
    REASON_LABELS_ZH,
    SURVEY_CATEGORIES,
    AgeBand,
    CommuteMode,
    LeaveReason,
    SurveyIssue,
    imp_column,
    sat_column,
)

IGNORE = "ignore"
REASON_PREFIX = "reason:"

_SCALAR_TARGETS: tuple[str, ...] = (
    "respondent_id",
    "response_number",
    "enterprise",
    "residence",
    "longitude",
    "latitude",
    "age_band",
    "tenure_months",
    "tenure_years",
    "shift",
    "wage_band",
    "commute_mode",
    "commute_minutes",
    "overall_satisfaction",
    "intent_to_leave",
    "reasons",
    "submitted_at",
    "wave",
)
MAPPING_TARGETS: tuple[str, ...] = (
    IGNORE,
    *_SCALAR_TARGETS,
    *(sat_column(c) for c in SURVEY_CATEGORIES),
    *(imp_column(c) for c in SURVEY_CATEGORIES),
    *(f"{REASON_PREFIX}{r.value}" for r in LeaveReason),
)
"""Every target a column can be mapped to (the options of the mapping editor)."""

REQUIRED_TARGETS: Mapping[str, str] = MappingProxyType(
    {
        "enterprise": "您所在的企业 (enterprise)",
        "intent_to_leave": "未来12个月内您离职的可能性 (intent to leave)",
    }
)
"""Questions every survey file must answer, with the question text shown in errors."""

MULTI_SELECT_SEPARATORS = r"[┋|;；,，、/\r\n]"

META_IGNORED: tuple[str, ...] = (
    "所用时间",
    "来源详情",
    "来源渠道",
    "来源",
    "答题时长",
    "总分",
    "开始答题时间",
    "起答时间",
    "修改时间",
    "更新时间",
    "填写设备",
    "操作系统",
    "浏览器",
    "填写地区",
    "地理位置",
    "用户标识",
    "用户类型",
    "渠道",
)
"""Headers of the survey tools' own columns (time taken, device, channel) that are not answers."""
SUBMITTED_HEADERS = ("提交答卷时间", "提交时间", "填写时间", "结束答题时间", "答题时间")

# Keywords that identify a question (searched in the question stem without its number).
_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "respondent_id": ("工号", "员工编号", "员工号", "respondent_id", "respondent"),
        "response_number": ("序号", "答卷编号", "答卷序号", "编号"),
        "enterprise": ("企业", "公司", "单位", "厂", "enterprise", "company", "employer"),
        "residence": ("居住", "住在", "宿舍", "住处", "住址", "residence", "dorm"),
        "longitude": ("经度", "longitude", "lon", "lng"),
        "latitude": ("纬度", "latitude", "lat"),
        "age_band": ("年龄", "出生", "age"),
        "tenure_months": ("工作了多久", "工作了多少", "多少个月", "入职", "工龄", "司龄", "tenure"),
        "shift": ("班次", "班制", "倒班", "上班制度", "shift"),
        "wage_band": ("工资", "收入", "月薪", "薪资", "wage", "income"),
        "commute_mode": (
            "通勤方式",
            "上下班方式",
            "交通方式",
            "主要方式",
            "出行方式",
            "怎么上班",
            "commute mode",
        ),
        "commute_minutes": (
            "通勤时间",
            "上班路上",
            "单程",
            "通勤时长",
            "多少分钟",
            "commute minutes",
        ),
        "overall_satisfaction": ("总体满意", "整体满意", "总体", "整体", "总的来说", "overall"),
        "intent_to_leave": ("离职的可能", "离职意向", "打算离职", "离开本企业", "intent"),
        "reasons": ("离职的原因", "离职原因", "原因", "reasons"),
        "submitted_at": ("提交答卷时间", "提交时间", "填写时间", "结束答题时间", "submitted"),
        "wave": ("批次", "调查轮次", "wave"),
        IGNORE: META_IGNORED,
    }
)

CATEGORY_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "canteen": ("食堂", "餐饮", "吃饭", "餐厅", "canteen"),
        "grocery": ("超市", "便利店", "菜市场", "购物买菜", "grocery"),
        "clinic": ("诊所", "卫生站", "卫生服务", "医务室", "clinic"),
        "hospital": ("医院", "hospital"),
        "sports_court": ("篮球场", "球场", "运动场", "足球场", "sports"),
        "gym": ("健身房", "健身", "gym"),
        "park": ("公园", "绿地", "park"),
        "library_culture": ("图书馆", "文化活动", "书屋", "文化中心", "library"),
        "cafe_leisure": ("咖啡", "夜间休闲", "休闲娱乐", "娱乐", "cafe"),
        "mall": ("商场", "购物中心", "mall"),
        "kindergarten": ("幼儿园", "托儿", "kindergarten"),
        "school": ("中小学", "学校", "上学", "school"),
        "training": ("技能培训", "培训", "training"),
        "employment_service": ("就业驿站", "就业服务", "招聘", "employment"),
        "express_delivery": ("快递", "驿站收件", "express"),
    }
)
REASON_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "boring_life": ("业余生活单调", "生活单调", "无聊", "没有娱乐", "枯燥", "boring"),
        "commute": ("通勤不便", "通勤", "交通不便", "上下班远", "commute"),
        "wage": ("工资待遇", "工资", "待遇", "收入低", "薪资", "wage"),
        "workload": ("工作强度大", "强度", "加班", "太累", "workload"),
        "housing": ("住宿条件差", "住宿", "住房", "宿舍", "housing"),
        "family": ("家庭原因", "家庭", "家人", "回老家", "family"),
        "career": ("职业发展", "发展", "晋升", "前途", "career"),
        "other": ("其他", "其它", "other"),
    }
)
_SHIFT_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "three_shift": ("三班", "四班三倒", "three"),
        "two_shift": ("两班", "二班", "两倒", "倒班", "two"),
        "day": ("常白班", "长白班", "白班", "单班", "正常班", "day"),
    }
)
_COMMUTE_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "shuttle": ("班车", "通勤车", "厂车", "shuttle"),
        "bus": ("公交", "地铁", "bus", "metro"),
        "ebike": ("电动车", "电瓶车", "自行车", "单车", "骑车", "ebike", "bike"),
        "walk": ("步行", "走路", "walk"),
        "car": ("私家车", "开车", "汽车", "小车", "打车", "car", "taxi"),
        "other": ("其他", "其它", "摩托", "other"),
    }
)

_HEADER = re.compile(
    r"^\s*(?:(?:第\s*(?P<num2>\d+)\s*题)|(?:[QqＱ]?\s*(?P<num>\d+)\s*[、.．:：]))?\s*(?P<body>.*?)\s*$",
    re.DOTALL,
)
# The option in round brackets (Wenjuanxing, Jinshuju) or square ones (Google Forms grids
# "问题 [选项]", 【选项】).
_OPTION = re.compile(
    r"^(?P<stem>.*?)[:：]?\s*"
    r"(?:[(（](?P<option>[^()（）]*)[)）]|[\[【](?P<bracketed>[^\[\]【】]*)[\]】])\s*$",
    re.DOTALL,
)
# Wenjuanxing's one-header layout ("8、您对以下设施的满意度:—食堂/餐饮") and Tencent Survey's
# option columns ("您考虑离职的原因—工资待遇"): the option follows a dash.
_DASH_OPTION = re.compile(
    r"^(?P<stem>.+?)[:：]?\s*(?:[—–]{1,2}|[:：]-)\s*(?P<option>[^—–]+?)\s*$", re.DOTALL
)


@dataclass(frozen=True)
class HeaderParts:
    """A column header split into question number, question stem and option."""

    number: int | None
    stem: str
    option: str


def parse_header(header: str) -> HeaderParts:
    """Split a Wenjuanxing header into its question number, stem and option.

    ``"8、您考虑离职的原因:(工资待遇)"`` becomes ``(8, "您考虑离职的原因", "工资待遇")``;
    ``"第10题(食堂)"`` becomes ``(10, "", "食堂")``; the one-header layout's
    ``"8、您对以下设施的满意度:—食堂/餐饮"`` becomes ``(8, "您对以下设施的满意度", "食堂/餐饮")``
    and Tencent Survey's ``"Q3.原因—工资"`` ``(3, "原因", "工资")``; a header without a
    trailing bracket or dash has an empty option.
    """
    match = _HEADER.match(str(header))
    number_text = (match.group("num") or match.group("num2")) if match else None
    body = match.group("body") if match else str(header)
    option_match = _OPTION.match(body) or _DASH_OPTION.match(body)
    if option_match:
        groups = option_match.groupdict()
        stem = option_match.group("stem")
        option = groups.get("option") or groups.get("bracketed") or ""
    else:
        stem, option = body, ""
    stem = stem.strip().rstrip(":：?？").strip()
    return HeaderParts(int(number_text) if number_text else None, stem, option.strip())


@dataclass(frozen=True)
class ColumnMapping:
    """Target of every column of one survey file layout.

    Parameters
    ----------
    columns
        The file's headers, in file order.
    targets
        One entry of ``MAPPING_TARGETS`` per header.
    scores
        Confidence of each suggestion, 0–100 (100 for a user-confirmed or exact match).
    """

    columns: tuple[str, ...]
    targets: tuple[str, ...]
    scores: tuple[float, ...]

    def __post_init__(self) -> None:
        if not len(self.columns) == len(self.targets) == len(self.scores):
            raise ValidationError(
                f"mapping has {len(self.columns)} columns, {len(self.targets)} targets and "
                f"{len(self.scores)} scores; expected one target and score per column"
            )
        for column, target in zip(self.columns, self.targets, strict=True):
            if target not in MAPPING_TARGETS:
                raise ValidationError(
                    f"unknown mapping target {target!r}; expected one of ignore, "
                    "respondent_id, enterprise, sat_<category>, reason:<code>, ...",
                    column=column,
                )
        used = [t for t in self.targets if t != IGNORE]
        repeated = sorted({t for t in used if used.count(t) > 1})
        if repeated:
            where = [c for c, t in zip(self.columns, self.targets, strict=True) if t == repeated[0]]
            raise ValidationError(
                f"target {repeated[0]!r} is mapped from {len(where)} columns "
                f"({', '.join(where)}); expected at most one column per target",
                column=where[1],
            )

    @property
    def signature(self) -> str:
        """Return a hash of the headers: two files with the same headers share a mapping."""
        return headers_signature(self.columns)

    def as_dict(self) -> dict[str, str]:
        """Return ``{header: target}``."""
        return dict(zip(self.columns, self.targets, strict=True))

    def column_for(self, target: str) -> str | None:
        """Return the header mapped to ``target``, or ``None``."""
        for column, mapped in zip(self.columns, self.targets, strict=True):
            if mapped == target:
                return column
        return None

    def to_frame(self) -> pd.DataFrame:
        """Return the mapping as an editable table (column, target, score)."""
        return pd.DataFrame(
            {"column": list(self.columns), "target": list(self.targets), "score": self.scores}
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ColumnMapping:
        """Build a mapping from an edited ``to_frame`` table (edited rows count as score 100)."""
        for name in ("column", "target"):
            if name not in frame.columns:
                raise ValidationError(
                    f"mapping table lacks column {name!r}; expected column, target", column=name
                )
        targets = [IGNORE if pd.isna(t) or not str(t) else str(t) for t in frame["target"]]
        scores = (
            [float(s) if pd.notna(s) else 100.0 for s in frame["score"]]
            if "score" in frame.columns
            else [100.0] * len(frame)
        )
        return cls(tuple(str(c) for c in frame["column"]), tuple(targets), tuple(scores))

    def to_json(self) -> str:
        """Return the mapping as JSON text (headers, targets, signature)."""
        return json.dumps(
            {
                "signature": self.signature,
                "columns": list(self.columns),
                "targets": list(self.targets),
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        """Read a mapping written by ``to_json`` (scores become 100: the user saved it)."""
        try:
            data = json.loads(text)
            columns = tuple(str(c) for c in data["columns"])
            targets = tuple(str(t) for t in data["targets"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValidationError(
                f"saved mapping is not valid JSON with 'columns' and 'targets' ({exc})"
            ) from exc
        return cls(columns, targets, tuple(100.0 for _ in columns))


def _keyword_score(text: str, keywords: Sequence[str]) -> float:
    lowered = text.lower()
    hits = [len(k) for k in keywords if k.lower() in lowered]
    if hits:
        # A longer keyword is more specific: 工作了多久 (tenure) beats 企业 (enterprise).
        return min(100.0, 90.0 + 2.0 * max(hits))
    if not text:
        return 0.0
    best = process.extractOne(lowered, [k.lower() for k in keywords], scorer=fuzz.partial_ratio)
    # partial_ratio of short keywords against long questions is noisy: scale it down.
    return 0.8 * float(best[1]) if best else 0.0


def match_label(
    text: str, synonyms: Mapping[str, Sequence[str]], *, threshold: float = 70.0
) -> tuple[str | None, float]:
    """Return the code whose synonyms best match ``text`` and the score (0–100).

    Substring hits score 100 (the longest synonym wins, so 篮球场 beats 球场); otherwise the best
    rapidfuzz ``WRatio`` over all synonyms, and ``None`` below ``threshold``. A one-character text
    matches only a synonym equal to it.
    """
    cleaned = str(text).strip().lower()
    if not cleaned:
        return None, 0.0
    if len(cleaned) == 1:
        # One character (an option letter "A", "B") is inside many labels ("wage", "bus"):
        # only a synonym that is exactly it counts, never a fuzzy or substring hit.
        exact = [code for code, words in synonyms.items() if cleaned in (w.lower() for w in words)]
        return (exact[0], 100.0) if exact else (None, 0.0)
    best_code, best_len = None, 0
    for code, words in synonyms.items():
        for word in words:
            w = word.lower()
            if (w in cleaned or (len(cleaned) >= 2 and cleaned in w)) and len(w) > best_len:
                best_code, best_len = code, len(w)
    if best_code is not None:
        return best_code, 100.0
    choices = [(code, w.lower()) for code, words in synonyms.items() for w in words]
    hit = process.extractOne(cleaned, [w for _, w in choices], scorer=fuzz.WRatio)
    if hit is None or hit[1] < threshold:
        return None, float(hit[1]) if hit else 0.0
    return choices[hit[2]][0], float(hit[1])


def suggest_mapping(headers: Sequence[str]) -> ColumnMapping:
    """Propose a target for every header from its question text.

    Assumes Wenjuanxing conventions: ``N、question`` headers, option columns
    ``N、question:(option)`` for multi-select and matrix questions. Satisfaction/importance
    matrices are recognised by 满意/重要 in the stem and the category by its option text;
    reason options by the 原因 stem. Each target goes to at most one column (the best-scoring).

    Parameters
    ----------
    headers
        Column headers in file order.

    Returns
    -------
    ColumnMapping
        The suggestion, with a confidence score per column.
    """
    parts = [parse_header(h) for h in headers]
    numbers = [p.number for p in parts]
    # Columns sharing a question number with another column are options of one question.
    grouped = {n for n in numbers if n is not None and numbers.count(n) > 1}
    # Exports without question numbers (Jinshuju, Tencent) group option columns by their stem.
    option_stems = [p.stem for p in parts if p.option and p.stem]
    grouped_stems = {stem for stem in option_stems if option_stems.count(stem) > 1}
    stems: dict[int, str] = {}
    for part in parts:
        if part.number is not None and part.stem and part.number not in stems:
            stems[part.number] = part.stem
    candidates: list[tuple[str, float]] = []
    for header, part in zip(headers, parts, strict=True):
        stem = part.stem or (stems.get(part.number, "") if part.number is not None else "")
        is_option = bool(part.option) and (
            part.number in grouped or part.stem in grouped_stems or not part.stem
        )
        candidates.append(_suggest_one(str(header), stem, part.option if is_option else ""))
    # One column per target: keep the best score, the rest become "ignore".
    best: dict[str, int] = {}
    for index, (target, score) in enumerate(candidates):
        if target == IGNORE:
            continue
        if target not in best or score > candidates[best[target]][1]:
            best[target] = index
    targets, scores = [], []
    for index, (target, score) in enumerate(candidates):
        if target != IGNORE and best[target] != index:
            targets.append(IGNORE)
            scores.append(0.0)
        else:
            targets.append(target)
            scores.append(round(score, 1))
    if "respondent_id" in best and "response_number" in best:
        # A persistent id makes the per-wave number redundant.
        position = best["response_number"]
        targets[position], scores[position] = IGNORE, 0.0
    return ColumnMapping(tuple(str(h) for h in headers), tuple(targets), tuple(scores))


def with_known_targets(mapping: ColumnMapping, known: Mapping[str, str]) -> ColumnMapping:
    """Return ``mapping`` with the targets the park gave these headers in earlier layouts.

    ``known`` is ``{header: target}`` from the park's saved mappings; a header found there takes
    that target (score 100) and any other header suggested for the same target is ignored.
    """
    targets = list(mapping.targets)
    scores = list(mapping.scores)
    for index, column in enumerate(mapping.columns):
        target = known.get(column)
        if target is None or target not in MAPPING_TARGETS:
            continue
        for other, current in enumerate(targets):
            if current == target and other != index:
                targets[other], scores[other] = IGNORE, 0.0
        targets[index], scores[index] = target, 100.0
    return ColumnMapping(mapping.columns, tuple(targets), tuple(scores))


def _suggest_one(header: str, stem: str, option: str) -> tuple[str, float]:
    text = stem or header
    meta = header.strip()
    if meta in ("序号", "答卷编号", "编号"):
        return "response_number", 100.0
    if meta in SUBMITTED_HEADERS:
        return "submitted_at", 100.0
    if meta in META_IGNORED or re.sub(r"[(（].*", "", meta) in META_IGNORED:
        return IGNORE, 100.0
    if option:
        if "满意" in text or "重要" in text:
            code, score = match_label(option, CATEGORY_SYNONYMS)
            if code is not None:
                prefix = "imp_" if "重要" in text else "sat_"
                return prefix + code, score
        if _keyword_score(text, _KEYWORDS["reasons"]) >= 90:
            code, score = match_label(option, REASON_SYNONYMS)
            if code is not None:
                return REASON_PREFIX + code, score
        return IGNORE, 0.0
    scored = [
        (target, _keyword_score(text, words))
        for target, words in _KEYWORDS.items()
        if target not in (IGNORE, "response_number")
    ]
    # Overall satisfaction is a satisfaction question too; let its specific keywords win.
    scored.sort(key=lambda pair: -pair[1])
    target, score = scored[0]
    if score < 60:
        return IGNORE, 0.0
    if target == "tenure_months" and "年" in text and "月" not in text:
        target = "tenure_years"
    return target, score


# ---------------------------------------------------------------------------------------------
# Reading values
# ---------------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell cannot be read; carries what was expected (internal to ``apply_mapping``)."""


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_likert(value: str, text_map: Mapping[str, int]) -> int:
    """Read a 1–5 answer written as a number or as its Chinese label."""
    text = str(value).strip()
    number = _number(text)
    if number is not None:
        if number.is_integer() and LIKERT_MIN <= number <= LIKERT_MAX:
            return int(number)
        raise CellError(f"an integer from {LIKERT_MIN} to {LIKERT_MAX} or its label")
    cleaned = re.sub(r"^[A-Ea-e1-5][.、\s]+", "", text).strip()
    if cleaned in text_map:
        return text_map[cleaned]
    labels = "/".join(list(dict.fromkeys(text_map))[:5])
    raise CellError(f"an integer from {LIKERT_MIN} to {LIKERT_MAX} or a label such as {labels}")


_RANGE = re.compile(r"(\d+(?:\.\d+)?)")
# A thousands separator (ASCII or full-width comma) between a digit and exactly three digits:
# "5,500" is 5500, while "1,5" and "20, 30" stay lists of two numbers.
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")


def _without_thousands_separators(text: str) -> str:
    return _THOUSANDS_SEPARATOR.sub("", text)


def read_amount(
    value: str, *, unit_words: Mapping[str, float], default_factor: float
) -> tuple[float, str]:
    """Read a number or a band and say how a band was read.

    ``"10-20分钟"`` gives ``(15.0, "the midpoint of 10-20")``; a plain number gives an empty
    explanation. Bands become their midpoint; an open upper band (``以上``) becomes 1.25 × its
    bound and an open lower band (``以下``, ``不满``, ``以内``) half its bound; a number with
    words around it (``"1小时左右"``) is taken at that number — documented approximations the
    caller reports as warnings.

    Raises
    ------
    CellError
        No number in the text, or a negative one.
    """
    text = str(value).strip().replace("～", "-").replace("~", "-").replace("至", "-")
    text = text.replace("—", "-").replace("–", "-").replace("－", "-")
    text = _without_thousands_separators(text)
    if text.startswith("-"):
        raise CellError("a number >= 0")
    plain = _number(text)
    if plain is not None:  # "1e3" is a thousand, not the band 1-3
        return plain * default_factor, ""
    factor = default_factor
    for word, unit_factor in unit_words.items():
        if word in text:
            factor = unit_factor
            break
    numbers = [float(n) for n in _RANGE.findall(text)]
    if not numbers:
        raise CellError("a number or a band such as 10-20")
    if len(numbers) >= 2:
        amount = (numbers[0] + numbers[1]) / 2
        how = f"the midpoint of {numbers[0]:g}-{numbers[1]:g}"
    elif any(w in text for w in ("以上", "超过", "多于", ">")):
        amount, how = numbers[0] * 1.25, f"1.25 × the open band's bound {numbers[0]:g}"
    elif any(w in text for w in ("以下", "不满", "不到", "以内", "少于", "<")):
        amount, how = numbers[0] / 2, f"half the open band's bound {numbers[0]:g}"
    else:
        amount = numbers[0]
        how = "" if _number(text) is not None else f"the number {numbers[0]:g} in the answer"
    return amount * factor, how


def parse_amount(value: str, *, unit_words: Mapping[str, float], default_factor: float) -> float:
    """Read a number or a band such as ``"10-20分钟"``, ``"3年以上"``, ``"不满3个月"``.

    The amount of ``read_amount`` without its explanation.
    """
    return read_amount(value, unit_words=unit_words, default_factor=default_factor)[0]


def parse_age_band(value: str) -> str:
    """Read an age band from a code, a 后 label (``"90后"``) or a birth year."""
    text = str(value).strip()
    if text in {b.value for b in AgeBand}:
        return text
    for code, label in AGE_BAND_LABELS_ZH.items():
        if text == label:
            return code
    match = re.search(r"(\d{2,4})\s*后", text)
    if match:
        decade = int(match.group(1)) % 100
        if decade in (0, 5):
            return AgeBand.POST00.value
        if decade in (90, 95):
            return AgeBand.POST90.value
        if decade in (80, 85):
            return AgeBand.POST80.value
        if 40 <= decade <= 79:
            return AgeBand.POST70.value
    if "以前" in text or "及以上" in text:
        return AgeBand.POST70.value
    number = _number(text)
    if number is not None and 1920 <= number <= 2015:
        if number >= 2000:
            return AgeBand.POST00.value
        if number >= 1990:
            return AgeBand.POST90.value
        if number >= 1980:
            return AgeBand.POST80.value
        return AgeBand.POST70.value
    raise CellError("an age band such as 70后及以前/80后/90后/00后 or a birth year")


def parse_wage_band(value: str) -> str:
    """Read a wage band (CNY per month) from a band label or an amount."""
    text = _without_thousands_separators(str(value).strip())
    if text in ("<4000", "4000-6000", "6000-8000", ">8000"):
        return text
    amount = parse_amount(
        text.replace("k", "000").replace("K", "000"),
        unit_words={
            "万": 10000.0,
        },
        default_factor=1.0,
    )
    numbers = [float(n) for n in _RANGE.findall(text)]
    if len(numbers) == 1 and any(w in text for w in ("以上", "超过", ">")):
        amount = numbers[0] + 1  # "8000元以上" is above 8000, not 1.25 × 8000 by definition
    if len(numbers) == 1 and any(w in text for w in ("以下", "不到", "不满", "<")):
        amount = numbers[0] - 1
    if amount < 4000:
        return "<4000"
    if amount < 6000:
        return "4000-6000"
    if amount <= 8000:
        return "6000-8000"
    return ">8000"


def _parse_choice(value: str, words: Mapping[str, Sequence[str]], codes: Sequence[str]) -> str:
    text = str(value).strip()
    if text in codes:
        return text
    code, _ = match_label(text, words, threshold=85.0)
    if code is None:
        raise CellError(f"one of {', '.join(codes)} (or its Chinese label)")
    return code


def parse_shift(value: str) -> str:
    """Read a shift pattern (常白班/两班倒/三班倒 or a code)."""
    return _parse_choice(value, _SHIFT_WORDS, ("day", "two_shift", "three_shift"))


def parse_commute_mode(value: str) -> str:
    """Read a commute mode (步行/电动车/公交/班车/私家车/其他 or a code)."""
    return _parse_choice(value, _COMMUTE_WORDS, tuple(m.value for m in CommuteMode))


_TRUE = frozenset({"1", "1.0", "选中", "是", "√", "✓", "true", "yes", "y", "checked"})
_FALSE = frozenset({"0", "0.0", "未选中", "否", "false", "no", "n", ""})


def parse_selected(value: str, *, option_text: str) -> bool:
    """Read one multi-select option cell: 1/0, 选中/未选中, or the option's own text."""
    text = str(value).strip()
    if text.lower() in _TRUE or (option_text and text == option_text):
        return True
    if text.lower() in _FALSE:
        return False
    raise CellError("1 or 0 (选中 or 未选中)")


def parse_reason_list(value: str) -> list[str]:
    """Read several reasons from one cell (``工资待遇┋通勤不便``) into reason codes."""
    found: list[str] = []
    for part in re.split(MULTI_SELECT_SEPARATORS, str(value)):
        if not part.strip():
            continue
        code = part.strip() if part.strip() in {r.value for r in LeaveReason} else None
        if code is None:
            code, _ = match_label(part, REASON_SYNONYMS, threshold=80.0)
        if code is None:
            examples = "/".join(list(REASON_LABELS_ZH.values())[:4])
            raise CellError(f"reasons such as {examples}, separated by ┋")
        found.append(code)
    return [r.value for r in LeaveReason if r.value in found]


_TENURE_UNITS = MappingProxyType({"年": 12.0, "个月": 1.0, "月": 1.0})
_MINUTE_UNITS = MappingProxyType({"小时": 60.0, "分钟": 1.0, "分": 1.0})
# target -> (unit words, default factor, unit of the stored value)
_AMOUNTS: Mapping[str, tuple[Mapping[str, float], float, str]] = MappingProxyType(
    {
        "tenure_months": (_TENURE_UNITS, 1.0, "months"),
        "tenure_years": (_TENURE_UNITS, 12.0, "months"),
        "commute_minutes": (_MINUTE_UNITS, 1.0, "minutes"),
    }
)
REQUIRED_READ_TARGETS = frozenset(
    {"enterprise", "intent_to_leave", "respondent_id", "response_number"}
)
"""Targets whose unreadable answer rejects the row; any other unreadable answer is left blank."""


def _coded_value(target: str, code: str) -> Any:
    """Return the canonical value of a value-map code for ``target``."""
    if code == MISSING:
        return None
    if value_group(target) in ("satisfaction", "importance", "intent_to_leave"):
        number = _number(code)
        if number is None or not number.is_integer() or not LIKERT_MIN <= number <= LIKERT_MAX:
            raise CellError(f"a value-map code from {LIKERT_MIN} to {LIKERT_MAX}")
        return int(number)
    return code


def read_cell(
    target: str, value: object, *, option_text: str = "", values: ValueMap | None = None
) -> Any:
    """Convert one raw cell for ``target``; ``None`` for a skipped answer.

    A ``values`` map (the user's value-mapping decisions) is consulted first for ordinal and
    categorical targets; otherwise the built-in dictionaries (``retention.survey.answers``).

    Raises
    ------
    CellError
        With what was expected, if the cell cannot be read.
    """
    if target.startswith(REASON_PREFIX):
        if is_skipped(value) and str(value).strip() not in ("0", "0.0", ""):
            return None
        return parse_selected("" if is_skipped(value) else str(value), option_text=option_text)
    if is_skipped(value):
        return None
    text = str(value).strip()
    group = value_group(target)
    if values is not None and group is not None:
        code = values.code(group, text)
        if code is not None:
            return _coded_value(target, code)
    if target in _AMOUNTS:
        units, factor, _ = _AMOUNTS[target]
        return parse_amount(text, unit_words=units, default_factor=factor)
    parsers: dict[str, Any] = {
        "age_band": parse_age_band,
        "wage_band": parse_wage_band,
        "shift": parse_shift,
        "commute_mode": parse_commute_mode,
        "reasons": parse_reason_list,
        "longitude": _parse_coordinate,
        "latitude": _parse_coordinate,
        "submitted_at": _parse_time,
    }
    if group in ("satisfaction", "importance", "intent_to_leave"):
        return parse_likert(text, likert_text_map(group))
    if target in parsers:
        return parsers[target](text)
    return text  # ids, names, wave: kept as text


def amount_note(target: str, value: object) -> str:
    """Return how a band or approximate answer for an amount target was read, else ``""``."""
    if target not in _AMOUNTS or is_skipped(value):
        return ""
    units, factor, unit = _AMOUNTS[target]
    amount, how = read_amount(str(value), unit_words=units, default_factor=factor)
    return f"read as {amount:g} {unit} ({how})" if how else ""


def _parse_coordinate(text: str) -> float:
    number = _number(text)
    if number is None:
        raise CellError("a decimal coordinate in degrees (WGS84)")
    return number


_CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_HALF_DAY = re.compile(r"(上午|下午)\s*(\d{1,2})(:\d{2}(?::\d{2})?)")
# Excel's serial days (1900 date system) from 1954 to 2119: a date cell saved to CSV as a number.
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_DAYS = (20_000.0, 80_000.0)


def _half_day(match: re.Match[str]) -> str:
    hour = int(match.group(2)) % 12 + (12 if match.group(1) == "下午" else 0)
    return f"{hour}{match.group(3)}"


def _parse_time(text: str) -> pd.Timestamp:
    """Read a submission time: what pandas reads, plus 2024年3月1日, 上午/下午 8:30 and Excel's
    serial day numbers."""
    number = _number(text)
    if number is not None:
        if not _EXCEL_DAYS[0] <= number <= _EXCEL_DAYS[1]:
            raise CellError("a date and time such as 2024/3/1 8:30:12")
        return _EXCEL_EPOCH + pd.to_timedelta(number, unit="D").round("s")
    text = _CHINESE_DATE.sub(lambda m: f"{m.group(1)}-{m.group(2)}-{m.group(3)} ", text)
    text = _HALF_DAY.sub(_half_day, text).strip()
    stamp = pd.to_datetime(text, errors="coerce", format="mixed")
    if pd.isna(stamp):
        raise CellError("a date and time such as 2024/3/1 8:30:12")
    return stamp


@dataclass(frozen=True)
class MappedSurvey:
    """Survey answers converted to canonical values, before linking and validation.

    ``frame`` holds the canonical columns that were mapped plus, when mapped, ``enterprise``,
    ``residence``, ``longitude``, ``latitude`` and ``raw_id`` (the raw respondent id, removed
    by ``retention.survey.importer`` as soon as it is pseudonymised). ``bad_rows`` lists the
    positions of rows with at least one unreadable cell.
    """

    frame: pd.DataFrame
    issues: tuple[SurveyIssue, ...]
    bad_rows: frozenset[int]


def apply_mapping(
    raw: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    file: str = "",
    source_rows: Sequence[int] | None = None,
    values: ValueMap | None = None,
) -> MappedSurvey:
    """Convert raw text answers into canonical values using ``mapping``.

    Assumes ``raw`` has one column per header of ``mapping`` (same order or by name) and
    one row per response.

    Parameters
    ----------
    raw
        Raw cells as text (as read by ``retention.survey.importer.read_survey_file``).
    mapping
        Target of every column.
    file
        File name for issues.
    source_rows
        1-based data-row number of each row (default position + 1).
    values
        The user's codes for answer texts (value-mapping step); ``None`` uses the built-in
        dictionaries only.

    Returns
    -------
    MappedSurvey
        Converted frame, one issue per unreadable cell, and the positions of bad rows. Only an
        unreadable answer to a required question (``REQUIRED_READ_TARGETS``) makes a row bad;
        any other is left blank with a warning, and so is a band or approximate amount
        (``"10-20"``, ``"1小时左右"``), with a warning saying how it was read.

    Raises
    ------
    ValidationError
        If a required question (``REQUIRED_TARGETS``) or any respondent id is not mapped, or a
        mapped column is absent from ``raw``.
    """
    mapped = mapping.as_dict()
    for column in mapped:
        if column not in raw.columns:
            raise ValidationError(
                f"mapped column {column!r} is not in the file; expected the file's headers to "
                "match the mapping",
                file=file or None,
                column=column,
            )
    targets = set(mapped.values())
    missing = [target for target in REQUIRED_TARGETS if target not in targets]
    if missing:
        raise ValidationError(
            f"required question{'s' if len(missing) > 1 else ''} "
            f"{'; '.join(REQUIRED_TARGETS[t] for t in missing)} missing: no column is mapped to "
            f"{', '.join(repr(t) for t in missing)}",
            file=file or None,
            column=", ".join(missing),
        )
    if "respondent_id" not in targets and "response_number" not in targets:
        raise ValidationError(
            "no column identifies respondents: map a respondent id (工号) or the response "
            "number (序号) so duplicates can be found",
            file=file or None,
            column="respondent_id",
        )
    rows = list(source_rows) if source_rows is not None else list(range(1, len(raw) + 1))
    issues: list[SurveyIssue] = []
    bad: set[int] = set()
    out: dict[str, list[Any]] = {}
    reason_columns: dict[str, list[Any]] = {}
    for column, target in mapped.items():
        if target == IGNORE:
            continue
        option = parse_header(column).option
        converted: list[Any] = []
        for position, value in enumerate(raw[column].tolist()):
            text = "" if value is None else str(value)
            try:
                converted.append(read_cell(target, value, option_text=option, values=values))
            except CellError as exc:
                converted.append(None)
                if target in REQUIRED_READ_TARGETS:
                    bad.add(position)
                    issues.append(SurveyIssue(file, rows[position], column, text, str(exc)))
                else:
                    issues.append(
                        SurveyIssue(
                            file,
                            rows[position],
                            column,
                            text,
                            f"{exc} (optional question: left blank, row kept)",
                            rejected=False,
                        )
                    )
                continue
            if converted[-1] is not None and (note := amount_note(target, value)):
                issues.append(SurveyIssue(file, rows[position], column, text, note, rejected=False))
        if target.startswith(REASON_PREFIX):
            reason_columns[target[len(REASON_PREFIX) :]] = converted
        elif target == "tenure_years":
            out["tenure_months"] = converted
        elif target in ("respondent_id", "response_number"):
            out[f"_{target}"] = converted
        else:
            out[target] = converted
    frame = pd.DataFrame(out, index=range(len(raw)))
    # A persistent id (工号) links waves; a per-wave response number (序号) must not.
    per_wave = "_respondent_id" not in frame.columns
    frame["raw_id"] = frame["_response_number" if per_wave else "_respondent_id"]
    frame["raw_id_is_per_wave"] = per_wave
    frame = frame.drop(columns=[c for c in ("_respondent_id", "_response_number") if c in frame])
    if reason_columns:
        lists = []
        for position in range(len(raw)):
            chosen = [code for code, vals in reason_columns.items() if vals[position]]
            lists.append([r.value for r in LeaveReason if r.value in chosen])
        if "reasons" in frame.columns:
            lists = [
                sorted(set(a) | set(b or []), key=[r.value for r in LeaveReason].index)
                for a, b in zip(lists, frame["reasons"], strict=True)
            ]
        frame["reasons"] = pd.Series(lists, index=frame.index, dtype="object")
    elif "reasons" in frame.columns:
        frame["reasons"] = pd.Series(
            [v if isinstance(v, list) else [] for v in frame["reasons"]],
            index=frame.index,
            dtype="object",
        )
    return MappedSurvey(frame, tuple(issues), frozenset(bad))
