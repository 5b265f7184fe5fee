"""English / 中文 (and any language with a catalog): messages by id, rendered per locale.

A user-facing text is a `Message`: a catalog id and named fields. `msg(id, **fields)` makes one; it *is* its
English rendering (a `str` subclass), so it can be printed, compared and written to JSON unchanged, and
`tr(message, lang)` (or `message.render(lang)`, or `localize(error, lang)` for an exception carrying one)
renders it in another language from that language's catalog:

    message = msg("common.expected_got", expected="a number", got="x")
    str(message)         # 'expected a number, got x'
    tr(message, "zh")    # '期望 a number，实际为 x'  (a field that is itself a Message is rendered too)

Catalogs are one TOML file per language, `lossapp/locales/<lang>.toml`: tables group ids
(`[inputs] expected_got = "expected {expected}, got {got}"` is the id `inputs.expected_got`), templates
are `str.format` strings over the named fields. Adding a language is adding one catalog file, here or in a
folder named by the environment variable `LOSSAPP_LOCALE_DIRS` (os.pathsep-separated); `LANGUAGES` lists
every language found. An id a catalog lacks falls back to English; tests keep every catalog complete.

Only Messages are translated: there is no matching of English text back to another language.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).with_name("locales")
LOCALE_DIRS_ENV = "LOSSAPP_LOCALE_DIRS"
_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def _locale_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(LOCALE_DIRS_ENV, "").split(os.pathsep) if p]
    return [LOCALE_DIR, *extra]


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(lang: str) -> dict[str, str]:
    """The templates of one language, by id (empty for a language with no catalog file)."""
    for folder in reversed(_locale_dirs()):
        path = folder / f"{lang}.toml"
        if path.is_file():
            with path.open("rb") as handle:
                return _flatten(tomllib.load(handle))
    return {}


def _languages() -> tuple[str, ...]:
    found = {p.stem for folder in _locale_dirs() if folder.is_dir() for p in folder.glob("*.toml")}
    return ("en", "zh", *sorted(found - {"en", "zh"}))


LANGUAGES = _languages()


class Message(str):
    """A user-facing text: a catalog id and its named fields; as a `str`, its English rendering."""

    id: str
    fields: Mapping[str, Any]

    def __new__(cls, message_id: str, fields: Mapping[str, Any] | None = None) -> Message:
        fields = dict(fields or {})
        self = super().__new__(cls, _render(message_id, fields, "en"))
        self.id, self.fields = message_id, fields
        return self

    def render(self, lang: str = "en") -> str:
        return str(self) if lang == "en" else _render(self.id, self.fields, lang)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.id, self.fields))


def msg(message_id: str, **fields: Any) -> Message:
    """The message `message_id` of the catalogs with its named fields (a KeyError names an unknown id)."""
    if message_id not in catalog("en"):
        raise KeyError(f"no message {message_id!r} in {LOCALE_DIR / 'en.toml'}")
    return Message(message_id, fields)


def is_message_id(text: str) -> bool:
    return bool(_ID.fullmatch(text)) and text in catalog("en")


class _Rendered(dict):
    def __init__(self, fields: Mapping[str, Any], lang: str) -> None:
        super().__init__(fields)
        self.lang = lang

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return value.render(self.lang) if isinstance(value, str) and hasattr(value, "render") else value


def _render(message_id: str, fields: Mapping[str, Any], lang: str) -> str:
    template = catalog(lang).get(message_id) or catalog("en")[message_id]
    if lang == "en":  # a Message field formats as its English already (a str): no _Rendered needed
        return template.format_map(fields)
    return template.format_map(_Rendered(fields, lang))


def localize(item: object, lang: str = "en") -> str:
    """A Message, an exception carrying one (InputError), or a plain string, in `lang`."""
    if isinstance(item, BaseException):
        item = item.args[0] if len(item.args) == 1 and isinstance(item.args[0], str) else str(item)
    return tr(item, lang) if isinstance(item, str) else str(item)


def message_ids(item: object) -> set[str]:
    """The ids a Message is rendered from (its own and its fields' ones)."""
    if not isinstance(item, Message):
        return set()
    return {item.id}.union(*(message_ids(v) for v in item.fields.values()))

def has_zh(text: object) -> bool:
    """Whether `text` (a Message, an exception carrying one, or English) has its Chinese."""
    if isinstance(text, BaseException):
        text = text.args[0] if len(text.args) == 1 and isinstance(text.args[0], str) else str(text)
    return isinstance(text, Message) and all(i in catalog("zh") for i in message_ids(text))


def tr(text: str, lang: str = "en") -> str:
    """The text in `lang`: a Message from its catalog; any other text (a name, a number, code) as it is."""
    return text.render(lang) if isinstance(text, Message) else text
