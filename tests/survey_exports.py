"""Survey exports of several tools, built from their documented layouts (not a test module).

Each layout writes the same respondents the way its tool exports them:

* ``wjx_two`` — Wenjuanxing, options in a second header row under the question cell;
* ``wjx_one`` — Wenjuanxing, one header row, option columns ``N、问题:—选项``;
* ``tencent`` — Tencent Survey: ``编号``, ``开始答题时间``, ``结束答题时间``, ``答题时长``,
  questions ``Qn.问题``, matrix rows ``Qn.问题—选项``, multi-select joined with ``┋``;
* ``jinshuju`` — Jinshuju: ``序号``, plain question headers, matrix rows ``问题(选项)``,
  multi-select joined with ``|``, then ``提交人``, ``提交时间``, ``修改时间``, ``填写设备``,
  ``操作系统``, ``浏览器``, ``填写地区``, ``IP``.

A respondent's row can carry one injected defect (``DEFECTS``); ``expected`` says what the
import must make of it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import xlsxwriter

ENTERPRISES = pd.DataFrame(
    {"id": ["E01", "E02", "E03"], "name": ["金山电子有限公司", "湘江机械厂", "株洲新材料科技"]}
)
LAYOUTS = ("wjx_two", "wjx_one", "tencent", "jinshuju")
FORMATS = ("xlsx", "utf8", "gbk")
LIKELIHOOD = {1: "很不可能", 2: "不太可能", 3: "说不准", 4: "比较可能", 5: "很可能"}
SATISFACTION = {1: "很不满意", 2: "不太满意", 3: "一般", 4: "比较满意", 5: "很满意"}
IMPORTANCE = {1: "很不重要", 2: "不太重要", 3: "一般", 4: "比较重要", 5: "很重要"}
AGES = {"post80": "80后", "post90": "90后", "post00": "00后"}
SHIFTS = {"day": "常白班", "two_shift": "两班倒", "three_shift": "三班倒"}
REASONS = {"wage": "工资待遇", "commute": "通勤不便"}
CATEGORIES = {"canteen": "食堂/餐饮", "sports_court": "篮球场"}

DEFECTS = ("good", "unknown_enterprise", "bad_intent", "bad_age", "range_commute", "blank")
"""Row kinds: good, or one injected defect (``ragged`` is added for CSV files)."""
REJECTING = frozenset({"unknown_enterprise", "bad_intent", "ragged"})
WARNING_ONLY = frozenset({"bad_age", "range_commute"})


@dataclass(frozen=True)
class Respondent:
    """One respondent's true answers (codes) and the defect injected into its row."""

    number: int
    enterprise: int
    age: str
    shift: str
    commute_minutes: int
    sat: tuple[int, int]
    imp: tuple[int, int]
    intent: int
    reasons: tuple[str, ...]
    defect: str = "good"


def respondent(number: int, defect: str = "good") -> Respondent:
    """Return a deterministic respondent whose answers vary with ``number``."""
    return Respondent(
        number=number,
        enterprise=number % 3,
        age=list(AGES)[number % 3],
        shift=list(SHIFTS)[(number // 3) % 3],
        commute_minutes=5 + number % 40,
        sat=(1 + number % 5, 1 + (number * 3) % 5),
        imp=(1 + (number * 2) % 5, 1 + (number + 4) % 5),
        intent=1 + (number * 7) % 5,
        reasons=tuple(r for i, r in enumerate(REASONS) if (number >> i) & 1),
        defect=defect,
    )


def _answers(r: Respondent, names: list[str] | None = None) -> dict[str, str]:
    known = names if names is not None else list(ENTERPRISES["name"])
    enterprise = (
        "不存在的公司XYZ" if r.defect == "unknown_enterprise" else known[r.enterprise % len(known)]
    )
    return {
        "enterprise": enterprise,
        "age": "其他" if r.defect == "bad_age" else AGES[r.age],
        "shift": SHIFTS[r.shift],
        "commute": "10-20" if r.defect == "range_commute" else str(r.commute_minutes),
        "intent": "想走就走" if r.defect == "bad_intent" else LIKELIHOOD[r.intent],
    }


QUESTIONS = {
    "enterprise": "您所在的企业",
    "age": "您的年龄段",
    "shift": "您的班次",
    "commute": "您单程通勤时间大约多少分钟",
    "sat": "您对以下设施的满意度",
    "imp": "这些设施对您的重要程度",
    "intent": "未来12个月内您离职的可能性",
    "reasons": "您考虑离职的原因",
}
_SCALARS = ("enterprise", "age", "shift", "commute")


def _wjx(
    respondents: list[Respondent], *, two_rows: bool, names: list[str] | None = None
) -> list[list[str]]:
    top: list[str] = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
    sub: list[str] = [""] * len(top)
    number = 0

    def question(key: str, options: list[str] | None = None) -> None:
        nonlocal number
        number += 1
        text = f"{number}、{QUESTIONS[key]}:"
        if options is None:
            top.append(text)
            sub.append("")
            return
        for index, option in enumerate(options):
            if two_rows:
                top.append(text if index == 0 else "")
                sub.append(option)
            else:
                top.append(f"{text}—{option}")
                sub.append("")

    for key in _SCALARS:
        question(key)
    question("sat", list(CATEGORIES.values()))
    question("imp", list(CATEGORIES.values()))
    question("intent")
    question("reasons", list(REASONS.values()))
    rows = [top, sub] if two_rows else [top]
    for r in respondents:
        a = _answers(r, names)
        rows.append(
            [
                str(r.number),
                "2024/3/1 8:30:12",
                "95秒",
                "微信",
                "N/A",
                "111.22.33.44(湖南-株洲)",
                *(a[k] for k in _SCALARS),
                *(SATISFACTION[v] for v in r.sat),
                *(IMPORTANCE[v] for v in r.imp),
                a["intent"],
                *("1" if code in r.reasons else "0" for code in REASONS),
            ]
        )
    return rows


def _tencent(respondents: list[Respondent], names: list[str] | None = None) -> list[list[str]]:
    header = ["编号", "开始答题时间", "结束答题时间", "答题时长"]
    header += [f"Q{i + 1}.{QUESTIONS[k]}" for i, k in enumerate(_SCALARS)]
    header += [f"Q5.{QUESTIONS['sat']}—{c}" for c in CATEGORIES.values()]
    header += [f"Q6.{QUESTIONS['imp']}—{c}" for c in CATEGORIES.values()]
    header += [f"Q7.{QUESTIONS['intent']}", f"Q8.{QUESTIONS['reasons']}"]
    rows = [header]
    for r in respondents:
        a = _answers(r, names)
        rows.append(
            [
                str(1000 + r.number),
                "2024-03-01 08:28:00",
                "2024-03-01 08:30:12",
                "132",
                *(a[k] for k in _SCALARS),
                *(SATISFACTION[v] for v in r.sat),
                *(IMPORTANCE[v] for v in r.imp),
                a["intent"],
                "┋".join(REASONS[c] for c in r.reasons),
            ]
        )
    return rows


def _jinshuju(respondents: list[Respondent], names: list[str] | None = None) -> list[list[str]]:
    header = ["序号", *(QUESTIONS[k] for k in _SCALARS)]
    header += [f"{QUESTIONS['sat']}({c})" for c in CATEGORIES.values()]
    header += [f"{QUESTIONS['imp']}({c})" for c in CATEGORIES.values()]
    header += [QUESTIONS["intent"], QUESTIONS["reasons"]]
    header += ["提交人", "提交时间", "修改时间", "填写设备", "操作系统", "浏览器", "填写地区", "IP"]
    rows = [header]
    for r in respondents:
        a = _answers(r, names)
        rows.append(
            [
                str(r.number),
                *(a[k] for k in _SCALARS),
                *(SATISFACTION[v] for v in r.sat),
                *(IMPORTANCE[v] for v in r.imp),
                a["intent"],
                "|".join(REASONS[c] for c in r.reasons),
                f"用户{r.number}",
                "2024-03-01 08:30:12",
                "2024-03-01 08:30:12",
                "手机",
                "Android",
                "微信",
                "湖南 株洲",
                "111.22.33.44",
            ]
        )
    return rows


def export_rows(
    layout: str, respondents: list[Respondent], *, names: list[str] | None = None
) -> tuple[list[list[str]], int]:
    """Return the export's rows (header rows first) and its number of header rows.

    A ``blank`` respondent's row is all empty; a ``ragged`` one loses its last cell. ``names``
    replaces the enterprise names answered (default ``ENTERPRISES``).
    """
    builders = {
        "wjx_two": lambda rs: _wjx(rs, two_rows=True, names=names),
        "wjx_one": lambda rs: _wjx(rs, two_rows=False, names=names),
        "tencent": lambda rs: _tencent(rs, names),
        "jinshuju": lambda rs: _jinshuju(rs, names),
    }
    rows = builders[layout](respondents)
    header_rows = 2 if layout == "wjx_two" else 1
    for index, r in enumerate(respondents):
        row = rows[header_rows + index]
        if r.defect == "blank":
            rows[header_rows + index] = [""] * len(row)
        elif r.defect == "ragged":
            rows[header_rows + index] = row[:-1]
    return rows, header_rows


def _csv_text(rows: list[list[str]]) -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def export_bytes(
    layout: str, respondents: list[Respondent], fmt: str, *, names: list[str] | None = None
) -> tuple[bytes, str]:
    """Return the export as bytes in ``fmt`` (``xlsx``, ``utf8`` CSV with BOM, ``gbk`` CSV)."""
    rows, _ = export_rows(layout, respondents, names=names)
    if fmt == "xlsx":
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet("Sheet1")
        plain = book.add_format()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value != "":
                    sheet.write_string(r, c, value)
            if not any(row):
                # A formatted empty cell keeps a blank row in the sheet, as Excel does.
                sheet.write_blank(r, 0, None, plain)
        book.close()
        return buffer.getvalue(), f"{layout}.xlsx"
    text = _csv_text(rows)
    if fmt == "utf8":
        return text.encode("utf-8-sig"), f"{layout}.csv"
    return text.encode("gbk"), f"{layout}.csv"
