"""Which survey tool's export a file is, told from its headers.

The layouts ParkLife reads, and the headers that identify each (the tools' own columns, which
answers never have):

* ``wenjuanxing_two_header`` — 问卷星 with option texts in a second header row under merged
  question cells (``序号``, ``提交答卷时间``, ``所用时间``, ``来源``, ``来源详情``, ``来自IP``);
* ``wenjuanxing_one_header`` — 问卷星 with one header row, each option its own column named
  ``8、问题:—选项`` or ``8、问题:(选项)``;
* ``tencent`` — 腾讯问卷: ``编号``, ``开始答题时间``/``起答时间``, ``结束答题时间``,
  ``答题时长``, ``用户标识``, ``来源渠道``; questions as ``Q1.问题`` or plain text, options after
  a dash, several choices joined by ``┋`` or ``|``;
* ``jinshuju`` — 金数据: ``序号``, ``提交人``, ``填写时间``/``提交时间``, ``修改时间``,
  ``填写设备``, ``操作系统``, ``浏览器``, ``填写地区``; questions as plain text, several choices
  in one cell joined by ``|`` or ``,`` or split in columns;
* ``parklife_template`` — ParkLife's own template: a Chinese header row and under it the English
  mapping targets (``respondent_id``, ``enterprise``, ``sat_canteen``, ...).

A file matching none is still read (its columns can be mapped by hand); when its required
questions cannot be found, the error names the layouts ParkLife knows (``layout_hint``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

LAYOUT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "wenjuanxing_two_header": "Wenjuanxing (问卷星), two header rows",
        "wenjuanxing_one_header": "Wenjuanxing (问卷星), one header row",
        "tencent": "Tencent Survey (腾讯问卷)",
        "jinshuju": "Jinshuju (金数据)",
        "parklife_template": "ParkLife survey template",
        "unknown": "no known layout",
    }
)
"""English name of each layout (the pages show ``survey.layout.<name>`` from the catalogue)."""

_MARKERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "wenjuanxing": frozenset(
            {"提交答卷时间", "所用时间", "来源详情", "来自IP", "答卷编号", "来自ip"}
        ),
        "tencent": frozenset(
            {"开始答题时间", "结束答题时间", "起答时间", "答题时长", "用户标识", "来源渠道", "编号"}
        ),
        "jinshuju": frozenset(
            {"提交人", "填写设备", "填写地区", "修改时间", "操作系统", "浏览器", "填写时间"}
        ),
    }
)


@dataclass(frozen=True)
class SurveyLayout:
    """A detected export layout.

    Parameters
    ----------
    name
        A key of ``LAYOUT_NAMES``.
    evidence
        The headers that identified it (empty for ``unknown``).
    """

    name: str
    evidence: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """English name of the layout."""
        return LAYOUT_NAMES[self.name]


def _bare(header: str) -> str:
    # "答题时长(秒)" and "来自IP" are matched without their unit or case.
    text = str(header).strip()
    for bracket in ("(", "（"):
        if bracket in text and not text.startswith(bracket):
            text = text.split(bracket, 1)[0]
    return text.strip()


def detect_layout(
    headers: Sequence[str], *, header_rows: int = 1, template: bool = False
) -> SurveyLayout:
    """Tell the export layout from the header row(s).

    Parameters
    ----------
    headers
        The file's first header row as read (before personal columns are dropped).
    header_rows
        1, or 2 when a second header row of option texts was found.
    template
        Whether the second row held ParkLife's English mapping targets.

    Returns
    -------
    SurveyLayout
        The layout whose tool columns the headers contain most of; ``unknown`` if none.
    """
    if template:
        return SurveyLayout("parklife_template", ("respondent_id/enterprise/... row",))
    bare = [_bare(h) for h in headers]
    found = {
        tool: tuple(h for h in bare if h in markers or h.lower() in markers)
        for tool, markers in _MARKERS.items()
    }
    tool, evidence = max(found.items(), key=lambda item: len(item[1]))
    # "编号"/"填写时间" alone are too common to decide on; two tool columns are needed.
    if len(evidence) < 2 and not (tool == "wenjuanxing" and evidence):
        return SurveyLayout("unknown")
    if tool == "wenjuanxing":
        name = "wenjuanxing_two_header" if header_rows == 2 else "wenjuanxing_one_header"
        return SurveyLayout(name, evidence)
    return SurveyLayout(tool, evidence)


def layout_hint(layout: SurveyLayout) -> str:
    """Return a sentence naming the detected layout, or the known ones when none fits."""
    if layout.name == "unknown":
        known = ", ".join(v for k, v in LAYOUT_NAMES.items() if k != "unknown")
        return (
            f"the headers match none of the known layouts ({known}); map the columns by hand or "
            "use the ParkLife survey template"
        )
    return (
        f"the file looks like a {layout.label} export (recognised by {', '.join(layout.evidence)})"
    )
