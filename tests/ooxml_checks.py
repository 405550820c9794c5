"""Package-level rules of Office Open XML (ECMA-376 Part 2, OPC) and PresentationML that a
PowerPoint file must keep for strict readers (PowerPoint, WPS, LibreOffice) — checked without
the schemas, which are not available offline. Not a test module: ``ooxml_problems`` is used by
tests/test_pptx_compat.py.

What is checked: the zip (readable, no duplicate or case-colliding part names, valid part
names); ``[Content_Types].xml`` (every part has a content type, by extension or override, and
the main parts have their PresentationML types); every XML part parses and declares UTF-8;
relationships (unique ids per part, every internal target exists, every ``r:id``/``r:embed``
used in a part is declared by that part); every part reachable from the package root; slide ids
unique and in PresentationML's range; slide size type consistent with the size; tables with as
many cells per row as grid columns; pictures pointing at image parts; the document properties
naming the deck and counting its slides.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import Counter

from lxml import etree

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
EP = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
DC = "{http://purl.org/dc/elements/1.1/}"
PML = "application/vnd.openxmlformats-officedocument.presentationml."
EXPECTED_TYPES = {
    "ppt/presentation.xml": PML + "presentation.main+xml",
    "ppt/slides/": PML + "slide+xml",
    "ppt/slideLayouts/": PML + "slideLayout+xml",
    "ppt/slideMasters/": PML + "slideMaster+xml",
    "ppt/notesSlides/": PML + "notesSlide+xml",
    "ppt/notesMasters/": PML + "notesMaster+xml",
    "ppt/media/": "image/",
}
_PART_NAME = re.compile(r"^[A-Za-z0-9._~\-/\[\]]+$")
_SIZE_TYPES = {(9144000, 6858000): {"screen4x3"}}
"""Slide size types fixed by their size; any other size is "custom" or has no type."""


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _content_types(archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    root = etree.fromstring(archive.read("[Content_Types].xml"))
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in root.iter(CT + "Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in root.iter(CT + "Override")}
    return defaults, overrides


def _content_type(part: str, defaults: dict[str, str], overrides: dict[str, str]) -> str | None:
    extension = posixpath.basename(part).rpartition(".")[2].lower()
    return overrides.get("/" + part) or defaults.get(extension)


def ooxml_problems(data: bytes) -> list[str]:
    """Return every rule the PowerPoint file ``data`` breaks, as sentences (empty: none)."""
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        return [f"not a zip package: {error}"]
    names = [info.filename for info in archive.infolist()]
    if archive.testzip() is not None:
        problems.append(f"damaged zip member {archive.testzip()}")
    for name, count in Counter(n.lower() for n in names).items():
        if count > 1:
            problems.append(f"part name {name!r} occurs {count} times (case-insensitive)")
    for name in names:
        if name.startswith("/") or not _PART_NAME.match(name) or name.endswith("/"):
            problems.append(f"invalid part name {name!r}")
    if "[Content_Types].xml" not in names:
        return [*problems, "no [Content_Types].xml"]
    defaults, overrides = _content_types(archive)
    parts = [n for n in names if n != "[Content_Types].xml"]
    for part in parts:
        kind = _content_type(part, defaults, overrides)
        if kind is None:
            problems.append(f"part {part!r} has no content type")
            continue
        for prefix, expected in EXPECTED_TYPES.items():
            if part.startswith(prefix) and "/_rels/" not in part and not kind.startswith(expected):
                problems.append(f"part {part!r} has content type {kind!r}; expected {expected}")
    for name in overrides:
        if name[1:] not in names:
            problems.append(f"content type override for missing part {name!r}")
    trees: dict[str, etree._Element] = {}
    for part in names:
        if part.endswith((".xml", ".rels")):
            text = archive.read(part)
            if not text.startswith(b"<?xml") or b"UTF-8" not in text[:60].upper():
                problems.append(f"XML part {part!r} does not declare UTF-8")
            try:
                trees[part] = etree.fromstring(text)
            except etree.XMLSyntaxError as error:
                problems.append(f"XML part {part!r} does not parse: {error}")
    # Relationships: ids unique, internal targets present, every used id declared.
    targets: dict[str, dict[str, str]] = {}
    for source in ["", *parts]:
        if source.endswith(".rels"):
            continue
        rels_part = "_rels/.rels" if source == "" else _rels_name(source)
        if rels_part not in trees:
            continue
        declared: dict[str, str] = {}
        for rel in trees[rels_part].iter(REL + "Relationship"):
            rel_id = rel.get("Id")
            if rel_id in declared:
                problems.append(f"{rels_part}: relationship id {rel_id} declared twice")
            if rel.get("TargetMode") == "External":
                declared[rel_id] = ""
                continue
            base = posixpath.dirname(source)
            target = posixpath.normpath(posixpath.join(base, rel.get("Target"))).lstrip("/")
            if target not in names:
                problems.append(f"{rels_part}: {rel_id} points at missing part {target!r}")
            declared[rel_id] = target
        targets[source] = declared
    for part, tree in trees.items():
        if part.endswith(".rels"):
            continue
        declared_ids = targets.get(part, {})
        for element in tree.iter():
            for attribute, value in element.attrib.items():
                if attribute.startswith(R) and value not in declared_ids:
                    problems.append(f"{part}: {attribute[len(R) :]}={value} is not declared")
    reachable, queue = set(), [""]
    while queue:
        source = queue.pop()
        for target in targets.get(source, {}).values():
            if target and target not in reachable:
                reachable.add(target)
                queue.append(target)
    for part in parts:
        if not part.endswith(".rels") and part not in reachable:
            problems.append(f"part {part!r} is not reachable from the package root")
    problems += _presentation_problems(trees, targets, defaults, overrides)
    return problems


def _presentation_problems(
    trees: dict[str, etree._Element],
    targets: dict[str, dict[str, str]],
    defaults: dict[str, str],
    overrides: dict[str, str],
) -> list[str]:
    problems: list[str] = []
    presentation = trees.get("ppt/presentation.xml")
    if presentation is None:
        return ["no ppt/presentation.xml"]
    ids = [int(s.get("id")) for s in presentation.iter(P + "sldId")]
    if len(set(ids)) != len(ids) or not all(256 <= i < 2147483648 for i in ids):
        problems.append(f"slide ids {ids} are not unique values in [256, 2147483648)")
    size = presentation.find(P + "sldSz")
    if size is None:
        problems.append("presentation.xml has no sldSz")
    else:
        dims = (int(size.get("cx")), int(size.get("cy")))
        if size.get("type") not in _SIZE_TYPES.get(dims, {None, "custom"}):
            problems.append(f"slide size {dims} is marked type={size.get('type')!r}")
    slides = [s for s in trees if s.startswith("ppt/slides/slide")]
    for slide in slides:
        tree = trees[slide]
        for table in tree.iter(A + "tbl"):
            columns = len(table.findall(f"{A}tblGrid/{A}gridCol"))
            for number, row in enumerate(table.iter(A + "tr"), start=1):
                cells = row.findall(A + "tc")
                if len(cells) != columns:
                    problems.append(
                        f"{slide}: table row {number} has {len(cells)} of {columns} cells"
                    )
                if any(cell.find(A + "txBody") is None for cell in cells):
                    problems.append(f"{slide}: table row {number} has a cell without text body")
        for blip in tree.iter(A + "blip"):
            target = targets.get(slide, {}).get(blip.get(R + "embed"), "")
            kind = _content_type(target, defaults, overrides) if target else None
            if not (kind or "").startswith("image/"):
                problems.append(f"{slide}: picture points at {target!r} ({kind})")
    app = trees.get("docProps/app.xml")
    if app is not None:
        counted = app.findtext(EP + "Slides")
        if counted is not None and int(counted) != len(slides):
            problems.append(f"docProps/app.xml counts {counted} slides; the deck has {len(slides)}")
        notes = [n for n in trees if n.startswith("ppt/notesSlides/notesSlide")]
        counted = app.findtext(EP + "Notes")
        if counted is not None and int(counted) != len(notes):
            problems.append(f"docProps/app.xml counts {counted} notes; the deck has {len(notes)}")
    core = trees.get("docProps/core.xml")
    if core is not None and not (core.findtext(DC + "title") or "").strip():
        problems.append("docProps/core.xml has no title")
    return problems
