"""A pseudo-locale: the English catalog with every template wrapped in ⟦ ⟧, written as one catalog file.

Rendering through it shows at a glance any text that does not come from a catalog: everything a user
reads is inside ⟦ ⟧ except numbers, code, formulas and names."""

from __future__ import annotations

import json
from pathlib import Path

from lossapp import i18n

PSEUDO = "qps"


def write_pseudo_locale(folder: Path, lang: str = PSEUDO) -> str:
    """Write `folder/<lang>.toml` and return the language's name."""
    lines = [f"{json.dumps(key)} = {json.dumps('⟦' + template + '⟧', ensure_ascii=False)}"
             for key, template in sorted(i18n.catalog("en").items())]
    (folder / f"{lang}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lang
