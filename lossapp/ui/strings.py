"""The app's own texts (labels, buttons, tabs, placeholders, help): the `[ui]` table of the catalogs
(lossapp/locales/<lang>.toml), rendered in the chosen language.

    t("compute", "zh")  -> "计算"          (the message ui.compute)

Library texts (step titles, notes, warnings, errors, spec titles) are the library's own messages, rendered
with `lossapp.i18n.tr` / `render`. Every language with a catalog is offered by the language switch.
"""

from __future__ import annotations

from lossapp.i18n import LANGUAGES, is_message_id, msg


def ui_id(key: str) -> str:
    """The catalog id of the UI text `key`."""
    return f"ui.{key}"


def has(key: str) -> bool:
    """Whether the catalogs have the UI text `key`."""
    return is_message_id(ui_id(key))


def t(key: str, lang: str = "en", **fields: object) -> str:
    """The UI text `key` in `lang`, its template filled with `fields`."""
    return msg(ui_id(key), **fields).render(lang)


def language_choices() -> list[tuple[str, str]]:
    """(name, code) of every language with a catalog, each named in its own language."""
    return [(t("language_name", lang), lang) for lang in LANGUAGES]


def family_label(family: str, lang: str = "en") -> str:
    key = f"family_{family}"
    return t(key, lang) if has(key) else family
