"""The UI's HTML templates (Jinja2, which ships with gradio) and their CSS, read from this folder.

A template is written one element per line, for reading; the loader joins its lines (a line break and the
indentation after it are not part of the HTML), so a component gets compact HTML. Autoescaping is on: every
value put into a template is escaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

FOLDER = Path(__file__).resolve().parent
_LINE_BREAK = re.compile(r"\n[ \t]*")


class _JoinedLines(jinja2.FileSystemLoader):
    """Templates from FOLDER with their lines joined."""

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        return _LINE_BREAK.sub("", source), filename, uptodate


ENV = jinja2.Environment(loader=_JoinedLines(FOLDER), autoescape=True, undefined=jinja2.StrictUndefined)


def render_template(name: str, **context: Any) -> str:
    """The template `name` of this folder filled with `context` (every value escaped)."""
    return ENV.get_template(name).render(**context)


@functools.cache
def css(name: str) -> str:
    """A stylesheet of this folder (read once per process)."""
    return (FOLDER / name).read_text(encoding="utf-8")
