"""Tests for retention.i18n: catalogues complete in both languages, every used key exists."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from retention import i18n
from retention.data.layers import (
    AmenityCategory,
    LayerKind,
    ResidenceKind,
    RoadClass,
    ShiftPattern,
    TransitKind,
    ZoneLevel,
)
from retention.i18n import LANGUAGES, catalogue, label, language_for_locale, placeholders, t

REPO = Path(__file__).resolve().parent.parent
LOCALES = REPO / "retention" / "locales"


def _catalogue_files() -> list[Path]:
    return sorted(LOCALES.glob("*.json"))


@pytest.mark.parametrize("path", _catalogue_files(), ids=lambda path: path.name)
def test_every_entry_has_both_languages_and_the_same_placeholders(path: Path) -> None:
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert entries, f"{path.name} is empty"
    namespace = path.stem
    for key, texts in entries.items():
        assert key.startswith(f"{namespace}."), key
        assert set(texts) == set(LANGUAGES), key
        for lang in LANGUAGES:
            assert isinstance(texts[lang], str) and texts[lang].strip(), (key, lang)
        assert placeholders(texts["en"]) == placeholders(texts["zh"]), key


def test_keys_are_unique_across_catalogues() -> None:
    # JSON objects silently keep the last duplicate; read pairs to catch duplicates in one file.
    for path in _catalogue_files():
        pairs = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=list)
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate key in {path.name}"
    total = sum(len(json.loads(p.read_text(encoding="utf-8"))) for p in _catalogue_files())
    assert len(catalogue()) == total


def _literal_keys(source: str) -> set[str]:
    """Keys of every call t("literal", ...) in ``source``."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "t"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            keys.add(node.args[0].value)
    return keys


def _sources() -> list[Path]:
    roots = [REPO / "pages", REPO / "ui", REPO / "retention"]
    files = [path for root in roots if root.is_dir() for path in sorted(root.rglob("*.py"))]
    return [*files, REPO / "app.py"] if (REPO / "app.py").is_file() else files


@pytest.mark.parametrize("path", _sources(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_literal_key_used_in_code_exists(path: Path) -> None:
    missing = _literal_keys(path.read_text(encoding="utf-8")) - set(catalogue())
    assert not missing, f"{path.relative_to(REPO)} uses keys missing from the catalogues: {missing}"


def test_key_scanner_finds_calls() -> None:
    source = 'from x import t\nt("a.b", lang)\nfoo.t("c.d", "en", n=1)\nt(name, lang)\n'
    assert _literal_keys(source) == {"a.b", "c.d"}


@pytest.mark.parametrize(
    ("group", "enum"),
    [
        ("category", AmenityCategory),
        ("residence_kind", ResidenceKind),
        ("zone_level", ZoneLevel),
        ("transit_kind", TransitKind),
        ("road_class", RoadClass),
        ("shift_pattern", ShiftPattern),
        ("layer", LayerKind),
    ],
)
def test_every_enum_member_has_a_label(group: str, enum: type) -> None:
    for member in enum:
        for lang in LANGUAGES:
            assert label(group, member.value, lang)
    assert label("category", "canteen", "zh") == "食堂与餐饮"


def test_t_formats_and_translates() -> None:
    assert t("common.sidebar.data_version", "en", version="ab12") == "Data version ab12"
    assert t("common.sidebar.data_version", "zh", version="ab12") == "数据版本 ab12"


def test_missing_key_raises_key_error() -> None:
    with pytest.raises(KeyError, match=re.escape("no translation for 'common.no_such_key'")):
        t("common.no_such_key", "en")


def test_unknown_language_raises() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        t("common.app_title", "fr")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-CN", "zh"),
        ("zh-TW", "zh"),
        ("zh", "zh"),
        ("zh_Hans_CN", "zh"),
        ("ZH-cn", "zh"),
        ("en-US", "en"),
        ("fr-FR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_for_locale(locale: str | None, expected: str) -> None:
    assert language_for_locale(locale) == expected


def test_placeholders() -> None:
    assert placeholders("{a} and {b.c} and {d[0]:>3}") == {"a", "b", "d"}
    assert placeholders("no fields") == frozenset()


def test_malformed_catalogue_is_rejected() -> None:
    with pytest.raises(i18n.CatalogueError, match=re.escape("must start with 'map.'")):
        i18n._parse_catalogue("map", {"data.title": {"en": "x", "zh": "y"}})
    with pytest.raises(i18n.CatalogueError, match="must map exactly the languages en, zh"):
        i18n._parse_catalogue("map", {"map.title": {"en": "x"}})
    with pytest.raises(i18n.CatalogueError, match="empty or non-text"):
        i18n._parse_catalogue("map", {"map.title": {"en": "x", "zh": " "}})
