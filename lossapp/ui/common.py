"""Shared pieces of the Gradio UI: the offline theme, CSS, LaTeX delimiters, the language switch
registry and the error conversion: an InputError becomes a gr.Error with its message (bounded, escaped for the
modal, which renders HTML); anything else is an internal error, logged here with its traceback and shown as a
generic message with a reference to find it in the log, never its internals."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, no version check
# Gradio's queue recomputes a pandas summary of its last 10,000 events after every event, for a monitoring
# dashboard this app does not enable (launch_kwargs: enable_monitoring=False): a cost that grows with the
# traffic. Keep 100 events and summarise them never (a deployment may still set its own values).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))

import functools
import html
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import gradio as gr

from lossapp.i18n import LANGUAGES, localize
from lossapp.inputs import InputError, limits
from lossapp.ui.strings import t
from lossapp.ui.templates import css, render_template

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Noto Sans CJK SC",
                "PingFang SC", "Microsoft YaHei", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]


def theme() -> gr.themes.Base:
    """The default theme with system fonts only (no web fonts: the app runs offline)."""
    return gr.themes.Default(primary_hue="indigo", secondary_hue="blue", neutral_hue="slate",
                             font=SYSTEM_FONTS, font_mono=MONO_FONTS)


CSS = """
.la-header h1 { margin-bottom: 0.1em; font-size: 1.55em; }
.la-header p { margin-top: 0; opacity: 0.8; }
.la-result { padding: 14px 18px; border-radius: 10px; border: 1px solid var(--border-color-primary);
             background: var(--background-fill-secondary); }
.la-caption { font-size: 0.95em; opacity: 0.75; }
.la-value { font-size: 2.6em; font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums;
            letter-spacing: 0.01em; word-break: break-all; }
.la-value.la-small { font-size: 1.35em; font-weight: 600; }
.la-badge { display: inline-block; margin-top: 8px; padding: 4px 10px; border-radius: 999px; font-size: 0.9em;
            font-weight: 600; }
.la-badge.ok { background: #dcfce7; color: #166534; border: 1px solid #86efac; }
.la-badge.bad { background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; }
.la-badge.none { background: #e2e8f0; color: #334155; border: 1px solid #cbd5e1; }
.la-verdict { margin-top: 8px; font-size: 0.95em; }
.la-verdict code { font-weight: 700; }
.la-empty { opacity: 0.7; font-style: italic; }
.la-matrix { border-collapse: collapse; margin: 6px 0 10px 0; font-variant-numeric: tabular-nums; }
.la-matrix th, .la-matrix td { border: 1px solid var(--border-color-primary); padding: 8px 14px; text-align: center; }
.la-matrix td.cell { font-size: 1.5em; font-weight: 700; min-width: 90px; }
.la-matrix td.tp { background: #dcfce7; color: #14532d; } .la-matrix td.tn { background: #dbeafe; color: #1e3a8a; }
.la-matrix td.fp { background: #fef3c7; color: #78350f; } .la-matrix td.fn { background: #fee2e2; color: #7f1d1d; }
.la-matrix small { display: block; font-size: 0.55em; font-weight: 500; opacity: 0.8; }
#la-conf-identity .katex-display, #la-conf-steps .katex-display { overflow-x: auto; overflow-y: hidden; }
@media (max-width: 480px) {  /* the whole matrix on a phone: its headings wrap between words */
  .la-matrix th, .la-matrix td { padding: 6px 6px; white-space: normal !important; }
  .la-matrix td.cell { min-width: 56px; }
}
.la-headline { font-size: 1.6em; font-weight: 700; margin: 4px 0 8px 0; }
.la-card { padding: 10px 14px !important; }
.la-card h4 { margin: 0 0 4px 0; }
/* a card's table (stated / lossapp / verdict) fits its card on a phone: cells wrap, a long name breaks last */
.la-card table { table-layout: fixed; width: 100%; }
.la-card th, .la-card td, .la-card th *, .la-card td * { white-space: normal !important; overflow-wrap: anywhere;
                                                     word-break: normal !important; }
.la-note { font-size: 0.9em; opacity: 0.8; }
.la-lang .wrap { flex-wrap: nowrap !important; }
""" + css("layout.css")


# Gradio heads every error toast with its type, the English word "Error" (a gr.Error's title is not shown):
# on page load, watch for toasts and write the chosen language's word there instead (ui.toast_error)
TOAST_JS = """() => {
  const words = %s;
  const relabel = () => {
    const lang = document.querySelector('#la-lang input[aria-checked="true"]')?.value;
    const word = (words[lang] || words.en) + ' ';
    for (const title of document.querySelectorAll('.toast-title.error')) {
      const text = title.firstChild;
      if (text && text.nodeType === Node.TEXT_NODE && text.textContent !== word) text.textContent = word;
    }
  };
  new MutationObserver(relabel).observe(document.body, {childList: true, subtree: true});
}"""


def page_js(*scripts: str) -> str:
    """One page-load function that runs each of `scripts` (page-load functions: Gradio's `js` takes one)."""
    return "() => {\n" + "\n".join(f"  ({script})();" for script in scripts) + "\n}"


def toast_js() -> str:
    """The page-load script of TOAST_JS with the word of every language."""
    return TOAST_JS % json.dumps({lang: t("toast_error", lang) for lang in LANGUAGES}, ensure_ascii=False)


class Translations:
    """Components whose text depends on the language, each with fn(lang) -> gr.update(...)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Callable[[str], Any]]] = []

    def add(self, component: Any, fn: Callable[[str], Any]) -> Any:
        self.items.append((component, fn))
        return component

    def keys(self, component: Any, **keys: str) -> Any:
        """Translate props from UI string keys: keys(button, value="compute"), keys(box, label=..., info=...)."""
        return self.add(component, lambda lang: gr.update(**{prop: t(key, lang) for prop, key in keys.items()}))

    @property
    def components(self) -> list[Any]:
        return [c for c, _ in self.items]

    def updates(self, lang: str) -> list[Any]:
        return [fn(lang) for _, fn in self.items]


log = logging.getLogger("lossapp.ui")


def bounded(message: str, lang: str = "en") -> str:
    """The message, cut to limits.MAX_MESSAGE_CHARS (a safety net: InputError messages quote user text in excerpts)."""
    if len(message) <= limits.MAX_MESSAGE_CHARS:
        return message
    return t("bounded", lang, text=message[:limits.MAX_MESSAGE_CHARS], count=len(message))


def user_error(exc: Exception, lang: str) -> gr.Error:
    """An InputError as the modal the user sees, in their language (the modal renders HTML: the user's text
    quoted in the message is escaped, so it shows as typed). Its title is never gr.Error's English "Error"."""
    message = bounded(localize(exc, lang), lang)
    return gr.Error(html.escape(message, quote=False), title=t("error_title", lang), print_exception=False)


def internal_error(exc: BaseException, where: str, lang: str = "en") -> gr.Error:
    """A bug, not a bad input: logged with its traceback under a short reference; the user gets the reference
    and a fixed message, none of the exception's text. Its title ("Internal error", not gr.Error's "Error") lets
    a client tell a bug from a bad input."""
    reference = secrets.token_hex(4)
    log.error("internal error %s in %s", reference, where, exc_info=exc)
    return gr.Error(t("internal_error", lang, reference=reference), title=t("internal_title", lang),
                    print_exception=False)


@contextmanager
def as_gradio_errors(lang: str, where: str) -> Iterator[None]:
    """InputError -> the user's error modal; any other exception -> internal_error, logged as happening in
    `where` (a gr.Error passes)."""
    try:
        yield
    except InputError as exc:
        raise user_error(exc, lang) from None
    except gr.Error:
        raise
    except Exception as exc:
        raise internal_error(exc, where, lang) from None


T = TypeVar("T")


def once(fn: Callable[[], T]) -> Callable[[], T]:
    """fn() computed the first time it is asked for, then the same value; a caller arriving meanwhile (a page load
    during the warm-up) waits for the first instead of computing it again. `cache_clear()` forgets the value."""
    cached = functools.cache(fn)
    lock = threading.Lock()

    @functools.wraps(fn)
    def value() -> T:
        with lock:
            return cached()

    value.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    value.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return value


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


_DOTTED_NAME = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def breakable_names(escaped: str) -> str:
    """Escaped HTML text whose dotted names (torch.nn.functional.binary_cross_entropy) may break after a dot or an
    underscore on a narrow screen (<wbr>), never inside a number."""
    return _DOTTED_NAME.sub(lambda m: re.sub(r"([._])", r"\1<wbr>", m.group(0)), escaped)


def value_html(caption: str, value: str, badge: str, state: str, verdict: str = "", small: bool = False,
               stamp: str = "") -> str:
    """The big value with its PyTorch badge; `stamp` identifies the computation (a new one re-renders)."""
    cls = "la-value la-small" if small else "la-value"
    parts = [f'<div class="la-result" data-stamp="{esc(stamp)}"><div class="la-caption">{esc(caption)}</div>',
             f'<div class="{cls}" id="la-value">{esc(value)}</div>']
    if badge:
        mark = {"ok": "✓", "bad": "✗", "none": "•"}[state]
        parts.append(f'<div class="la-badge {state}" id="la-badge">{mark} {breakable_names(esc(badge))}</div>')
    if verdict:
        parts.append(f'<div class="la-verdict" id="la-verdict">{verdict}</div>')
    parts.append("</div>")
    return "".join(parts)


LONG_LINE = 40  # characters: a table cell with a longer line wraps between words (templates/data_table.html)


def data_table_html(heads: list[Any], rows: list[list[Any]], elem_id: str) -> str:
    """A table for reading (templates/data_table.html): `heads` are column names, each a text or the pieces of
    render.symbol_parts; a cell is any value, written as the lines of render.cell_lines."""
    from lossapp.render import cell_lines  # the library's text formatting; no gradio there

    pieces = [[(h, "")] if isinstance(h, str) else list(h) for h in heads]
    return render_template("data_table.html", elem_id=elem_id, heads=pieces, long_line=LONG_LINE,
                           rows=[[cell_lines(value) for value in row] for row in rows])


def empty_html(text: str) -> str:
    return f'<div class="la-result la-empty">{esc(text)}</div>'

