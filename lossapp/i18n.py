"""English / 中文: the library writes English; `tr(text, "zh")` gives the Chinese.

Each module registers the Chinese of the strings it writes, next to where it writes them:

    add_zh({"Sigmoid": "Sigmoid 函数", "Mean reduction": "均值归约"})
    add_zh_patterns([(r"^expected (.+), got (.+)$", r"期望 \\1，实际为 \\2")])

Exact strings are looked up first, then the patterns (for messages with numbers and names in them).
A string with no translation comes back in English; tests check that every step title, note,
parameter description and error message the test suite sees has one.
"""

from __future__ import annotations

import re

LANGUAGES = ("en", "zh")

_ZH: dict[str, str] = {}
_ZH_PATTERNS: list[tuple[re.Pattern[str], str]] = []


CONFLICTS: list[tuple[str, str, str]] = []  # (english, first chinese, second chinese): a test keeps this empty


def add_zh(mapping: dict[str, str]) -> None:
    for english, chinese in mapping.items():
        if english in _ZH and _ZH[english] != chinese:
            CONFLICTS.append((english, _ZH[english], chinese))
    _ZH.update(mapping)


def add_zh_patterns(patterns: list[tuple[str, str]]) -> None:
    _ZH_PATTERNS.extend((re.compile(p, re.DOTALL), r) for p, r in patterns)


def has_zh(text: str) -> bool:
    return translate_zh(text) is not None


def translate_zh(text: str) -> str | None:
    if text in _ZH:
        return _ZH[text]
    for pattern, replacement in _ZH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return match.expand(replacement)
    return None


def tr(text: str, lang: str = "en") -> str:
    """The text in `lang` ("en" or "zh"); English when no translation is known."""
    if lang != "zh" or not text:
        return text
    return translate_zh(text) or text
