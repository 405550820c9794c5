"""Translations of every string a user sees, English and Chinese.

Catalogues live in ``retention/locales/<namespace>.json``, one file per page or concern so that
authors of different pages never edit the same file. Each maps ``"<namespace>.<key>"`` to
``{"en": "...", "zh": "..."}``; values are ``str.format`` templates.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

LANGUAGES: tuple[str, ...] = ("en", "zh")
"""Languages every catalogue entry must provide, in the order the language switch lists them."""

LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType({"en": "English", "zh": "中文"})
"""Each language named in itself, for the language switch."""


class CatalogueError(ValueError):
    """A catalogue file is malformed (bad JSON shape, wrong namespace, missing language)."""


def language_for_locale(locale: str | None) -> str:
    """Return the interface language for a browser locale such as ``"zh-CN"`` or ``"en-US"``.

    Assumes BCP 47 tags (``navigator.language``); every Chinese variant (zh, zh-CN, zh-TW,
    zh-Hans-CN) maps to ``"zh"``, anything else (or no locale) to ``"en"``.

    Parameters
    ----------
    locale
        The browser's locale tag, or ``None`` when unknown.

    Returns
    -------
    str
        ``"zh"`` or ``"en"``.
    """
    if locale and locale.strip().lower().replace("_", "-").split("-")[0] == "zh":
        return "zh"
    return "en"


def _parse_catalogue(namespace: str, raw: object) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise CatalogueError(f"locales/{namespace}.json: expected a JSON object at the top level")
    entries: dict[str, dict[str, str]] = {}
    for key, texts in raw.items():
        if not key.startswith(f"{namespace}."):
            raise CatalogueError(
                f"locales/{namespace}.json: key {key!r} must start with {namespace + '.'!r}"
            )
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            raise CatalogueError(
                f"locales/{namespace}.json: key {key!r} must map exactly the languages "
                f"{', '.join(LANGUAGES)} to text"
            )
        if not all(isinstance(text, str) and text.strip() for text in texts.values()):
            raise CatalogueError(
                f"locales/{namespace}.json: key {key!r} has an empty or non-text translation"
            )
        entries[key] = dict(texts)
    return entries


@cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Return every translation, read once from the package's ``locales`` directory.

    Assumes the catalogues ship with the package (they are read-only data, so caching them for
    the life of the process is safe and shared by every session).

    Returns
    -------
    Mapping
        ``{"<namespace>.<key>": {"en": ..., "zh": ...}}``, read-only.
    """
    merged: dict[str, Mapping[str, str]] = {}
    locales = resources.files("retention").joinpath("locales")
    for entry in sorted(locales.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        namespace = entry.name.removesuffix(".json")
        parsed = _parse_catalogue(namespace, json.loads(entry.read_text(encoding="utf-8")))
        for key, texts in parsed.items():
            merged[key] = MappingProxyType(texts)
    return MappingProxyType(merged)


def placeholders(template: str) -> frozenset[str]:
    """Return the names of the ``{placeholders}`` in a ``str.format`` template."""
    return frozenset(
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field is not None
    )


def t(key: str, lang: str, **fmt: object) -> str:
    """Return the text for ``key`` in language ``lang``, formatted with ``fmt``.

    Assumes ``lang`` is one of ``LANGUAGES``. A missing key raises rather than falling back to the
    key itself, so that an untranslated string is caught by the catalogue tests, not by users.

    Parameters
    ----------
    key
        ``"<namespace>.<key>"``, e.g. ``"overview.title"``.
    lang
        ``"en"`` or ``"zh"``.
    **fmt
        Values for the template's ``{placeholders}``.

    Returns
    -------
    str
        The translated, formatted text.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    texts = catalogue().get(key)
    if texts is None:
        raise KeyError(f"no translation for {key!r}; add it to retention/locales/*.json")
    template = texts[lang]
    return template.format(**fmt) if fmt else template


def label(group: str, value: str, lang: str) -> str:
    """Return the display name of an enumerated value, e.g. an amenity category.

    Assumes the ``common`` catalogue holds ``common.<group>.<value>`` for every member (a test
    checks this for every enum in ``retention.data.layers``).

    Parameters
    ----------
    group
        E.g. ``"category"``, ``"residence_kind"``, ``"zone_level"``, ``"layer"``.
    value
        The enum value, e.g. ``"canteen"``.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The translated label.
    """
    return t(f"common.{group}.{value}", lang)
