"""English / 中文: the library writes English; `tr(text, "zh")` gives the Chinese.

Each module registers the Chinese of the strings it writes, next to where it writes them:

    add_zh({"Sigmoid": "Sigmoid 函数", "Mean reduction": "均值归约"})
    add_zh_patterns([(r"^expected (.+), got (.+)$", r"期望 \\1，实际为 \\2")])

Exact strings are looked up first, then the patterns (for messages with numbers and names in them); a
message about a file's content, "pred (from 'a.csv'): expected ...", is "pred（来自 'a.csv'）：" and the
Chinese of "pred: expected ...".
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
    return _translate_from_file(text) or _translate_by_pattern(text)


def _translate_by_pattern(text: str) -> str | None:
    for pattern, replacement in _ZH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return match.expand(replacement)
    return None


_FROM = " (from "
_NAME_END = "\x00"  # marks where the input's name ends while the rest of a message is translated


def _translate_from_file(text: str) -> str | None:
    """A message about a file's content, 'NAME (from FILE): REST', as 'NAME（来自 FILE）：' and the Chinese
    of 'NAME: REST' (the patterns render NAME as NAME, or 'parameter X' as '参数 X'). FILE ends at the first
    '): ' after which the rest translates with NAME in its place: a file name may hold '): ' itself."""
    start = text.find(_FROM)
    if start <= 0 or _NAME_END in text:
        return None
    name, end = text[:start], text.find("): ", start)
    while end >= 0:
        chinese = _translate_by_pattern(f"{name}{_NAME_END}: {text[end + 3:]}")
        if chinese is not None and chinese.count(_NAME_END) == 1 and f"{_NAME_END}：" in chinese:
            return chinese.replace(f"{_NAME_END}：", f"（来自 {text[start + len(_FROM):end]}）：")
        end = text.find("): ", end + 1)
    return None


def tr(text: str, lang: str = "en") -> str:
    """The text in `lang` ("en" or "zh"); English when no translation is known."""
    if lang != "zh" or not text:
        return text
    return translate_zh(text) or text
