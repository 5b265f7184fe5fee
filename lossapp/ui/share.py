"""Share a computation by its link: the state of the calculator, the Check tab or the confusion matrix lives in
the page's query string, so a student sends the link to a TA and the TA sees the same result.

    ?tab=calculator&loss=bce&pred=[0.2947, 0.5898, 0.4863]&target=[1, 0, 0]&reduction=mean&device=cpu
     &dtype=float32&p.weight=[1, 2, 3]&lang=zh
    ?tab=check&loss=bce&pred=...&target=...&claimed=0.9264
    ?tab=confusion&tp=20&fp=5&fn=10&tn=65&metric=dice&claimed=0.7273

Written back on every Compute / Check (history.replaceState; inside a Hugging Face Space's iframe also posted to
the Space page, whose query string Spaces hands to the app on load), read when a page loads (the inputs are
filled in and the computation runs), and shown with a "Copy link" button. A parameter is in the link only when
it differs from its default; an uploaded file cannot travel in a link, nor can an input longer than
MAX_QUERY_CHARS (the link then names the tab and the loss only).
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from lossapp import service
from lossapp.confusion_metrics import METRICS
from lossapp.i18n import LANGUAGES, msg
from lossapp.inputs import InputError
from lossapp.registry import Param, lookup
from lossapp.ui import calculator, confusion_tab
from lossapp.ui.common import Translations, gr
from lossapp.ui.concurrency import compute_events
from lossapp.ui.copy_export import WRITE_CLIPBOARD_JS

TABS = ("calculator", "check", "confusion")
PARAM_PREFIX = "p."
COUNTS = ("tp", "fp", "fn", "tn")
MAX_QUERY_CHARS = 8000  # a link's query string; the server reads a request line of up to 16 KiB (h11)


def text(key: str, lang: str, **fields: Any) -> str:
    """The share bar's text `key` (the catalogs' [ui_share] table) in `lang`."""
    return msg(f"ui_share.{key}", **fields).render(lang)


# -- the query string of a state (pure) ------------------------------------------------------------------


def _param_text(p: Param, value: Any) -> str | None:
    """How the value of a parameter control is written in a link; None when it is the default or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if p.kind == "bool":
        return None if bool(value) == bool(p.default) else ("true" if value else "false")
    if isinstance(value, float) and value == int(value) and p.kind == "int":
        value = int(value)
    if p.kind not in ("tensor", "float_or_tensor", "choice") and isinstance(value, int | float):
        if p.default is not None and not isinstance(p.default, bool | str) and float(value) == float(p.default):
            return None
        return repr(value)
    written = str(value).strip()
    return None if written == calculator.control_value(p, p.default) else written


def _query(fields: dict[str, Any], lang: str) -> str:
    pairs = {k: v for k, v in fields.items() if v not in (None, "")}
    if lang != "en":
        pairs["lang"] = lang
    return urlencode(pairs)


def loss_query(tab: str, lang: str, loss: str, pred: Any, target: Any, reduction: Any, device: Any, dtype: Any,
               claimed: Any, controls: Mapping[str, Any], from_file: bool = False) -> tuple[str, bool]:
    """(query string, complete) of a calculator or Check tab state; `controls` maps a parameter of `loss` to its
    control's value. Not complete (the tab and the loss only) when an input came from a file or the link would
    be longer than MAX_QUERY_CHARS."""
    fields: dict[str, Any] = {"tab": tab, "loss": loss}
    try:
        spec = lookup(loss)
    except InputError:
        return _query(fields, lang), False
    if from_file:
        return _query(fields, lang), False
    fields.update({"pred": pred, "target": target if spec.target_kind is not None else None,
                   "reduction": reduction, "device": device, "dtype": dtype, "claimed": claimed})
    for p in spec.params:
        if p.name in controls:
            fields[PARAM_PREFIX + p.name] = _param_text(p, controls[p.name])
    query = _query(fields, lang)
    if len(query) > MAX_QUERY_CHARS:
        return _query({"tab": tab, "loss": loss}, lang), False
    return query, True


def confusion_query(lang: str, tp: Any, fp: Any, fn: Any, tn: Any, metric: Any, claimed: Any) -> str:
    """The query string of the confusion-matrix tab's counts."""
    counts = {name: _count_text(value) for name, value in zip(COUNTS, (tp, fp, fn, tn), strict=True)}
    return _query({"tab": "confusion", **counts, "metric": metric, "claimed": claimed}, lang)


def _count_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


# -- a state from a query string (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """What a link asks for: its tab, its language (None: keep the page's) and its fields as written."""

    tab: str
    lang: str | None
    fields: Mapping[str, str]

    @property
    def computes(self) -> bool:
        """Whether the link holds a computation to run (a loss tab needs its pred, the confusion tab its counts)."""
        if self.tab == "confusion":
            return any(self.fields.get(name) for name in COUNTS)
        return bool(self.fields.get("pred"))

    def params(self) -> dict[str, str]:
        return {k[len(PARAM_PREFIX):]: v for k, v in self.fields.items() if k.startswith(PARAM_PREFIX)}


def read_query(query: Mapping[str, str]) -> Shared | None:
    """The state a page's query parameters ask for, or None (no tab, or one this app does not have)."""
    tab = query.get("tab")
    if tab not in TABS:
        return None
    lang = query.get("lang")
    return Shared(tab, lang if lang in LANGUAGES else None, dict(query))


def control_value(p: Param, written: str) -> Any:
    """A parameter control's value from its text in a link; the default when the text is not of its kind (the
    link was edited by hand)."""
    if p.kind == "bool":
        return written.strip().lower() in ("true", "1", "yes")
    if p.kind in ("tensor", "float_or_tensor", "choice"):
        if p.kind == "choice" and written not in p.choices:
            return p.default
        return written
    try:
        number = float(written)
    except ValueError:
        return p.default
    if not math.isfinite(number):
        return p.default
    return int(number) if p.kind == "int" and number == int(number) else number


def count_value(written: str | None) -> int | float | None:
    if written is None or not written.strip():
        return None
    try:
        number = float(written)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number == int(number) else number


# -- the share bar -------------------------------------------------------------------------------------------


# The query string the page was opened with, read once (before the first link is written into the address bar):
# a link opened while the person already computes reproduces the link's state, not theirs.
OPENED_QUERY_JS = "(window.__laOpenedQuery ??= location.search)"

# The link of a query string: the page's own address, or inside a Hugging Face Space's iframe the Space page
# (whose query string Spaces hands to the app on load); written into the address bar and handed to the Space page.
WRITE_URL_JS = """(query) => {
  if (query === null || query === undefined) return [];
  %(opened)s;
  const params = new URLSearchParams(query);
  for (const [key, value] of new URLSearchParams(location.search)) {
    if (key.startsWith('__')) params.set(key, value);  // Gradio's own (__theme=dark) stay
  }
  const search = params.toString() ? '?' + params.toString() : '';
  try { history.replaceState(history.state, '', location.pathname + search + location.hash); } catch (e) {}
  const framed = window.parent !== window;
  if (framed) {
    try { window.parent.postMessage({queryString: search, hash: ''}, 'https://huggingface.co'); } catch (e) {}
  }
  const space = %(space)s;
  const base = framed && space ? 'https://huggingface.co/spaces/' + space : location.origin + location.pathname;
  return base + search;
}"""

COPY_JS = f"async (link) => {{ if (link) await ({WRITE_CLIPBOARD_JS})(link); return link; }}"


def write_url_js() -> str:
    """WRITE_URL_JS with the Space this app runs in (SPACE_ID, set by Hugging Face Spaces), or none."""
    return WRITE_URL_JS % {"space": json.dumps(os.environ.get("SPACE_ID") or ""), "opened": OPENED_QUERY_JS}


def opened_link_js() -> str:
    """The link of the page just opened when it is a shared one (its query names a tab), else none."""
    return (f"() => new URLSearchParams({OPENED_QUERY_JS}).has('tab') ? "
            f"({write_url_js()})({OPENED_QUERY_JS}.slice(1)) : ''")


@dataclass
class ShareBar:
    link: Any  # the link of the last computation (read-only, with a copy icon)
    copy: Any  # the "Copy link" button
    query: Any  # the query string just written (hidden): WRITE_URL_JS turns it into the link
    runs: dict[str, Any]  # tab -> a hidden box whose change runs that tab's computation (a link was opened)


def build(tr_ui: Translations) -> ShareBar:
    """The share bar: the link and its "Copy link" button, and the hidden boxes its events use."""
    lang = "en"
    with gr.Row(equal_height=True, elem_id="la-share"):
        link = gr.Textbox(value="", label=text("link", lang), placeholder=text("link_placeholder", lang),
                          interactive=False, lines=1, max_lines=1, buttons=["copy"], elem_id="la-share-link",
                          scale=4, min_width=160)
        copy = gr.Button(text("copy", lang), size="sm", elem_id="la-share-copy", scale=1, min_width=90)
    tr_ui.add(link, lambda lg: gr.update(label=text("link", lg), placeholder=text("link_placeholder", lg)))
    tr_ui.add(copy, lambda lg: gr.update(value=text("copy", lg)))
    query = gr.Textbox(value=None, visible="hidden", elem_id="la-share-query")
    runs = {tab: gr.Textbox(value="", visible="hidden", elem_id=f"la-share-run-{tab}") for tab in TABS}
    return ShareBar(link, copy, query, runs)


def _controls_of(controls: list[calculator.Control], loss: str, data: Mapping[Any, Any]) -> dict[str, Any]:
    """The values in `data` of the parameter controls of `loss` (none where `loss` names no loss)."""
    try:
        spec = lookup(loss)
    except InputError:
        return {}
    return {c.param.name: data[c.component] for c in controls if c.spec == spec.name}


def _loss_tab_updates(shared: Shared | None, tab: str, controls: list[calculator.Control], lang: str,
                      with_files: bool) -> list[Any]:
    """Updates for [family, loss, pred, target, reduction, device, dtype, claimed, (pred_file, target_file,
    random_state,) *controls, run] of a loss tab from a link (no change when the link is for another tab)."""
    size = 8 + (3 if with_files else 0) + len(controls) + 1
    if shared is None or shared.tab != tab:
        return [gr.update() for _ in range(size)]
    fields = shared.fields
    try:
        spec = lookup(fields.get("loss", ""))
    except InputError:
        return [gr.update() for _ in range(size)]
    reduction = fields.get("reduction")
    device, dtype = fields.get("device"), fields.get("dtype")
    params = shared.params()
    updates = [gr.update(value=spec.family),
               gr.update(choices=calculator.loss_choices(spec.family, lang), value=spec.name),
               fields.get("pred", ""), fields.get("target", ""),
               gr.update(choices=list(spec.reductions),
                         value=reduction if reduction in spec.reductions else spec.default_reduction),
               gr.update(value=device) if device in service.devices() else gr.update(),
               gr.update(value=dtype) if dtype in service.dtypes() else gr.update(),
               fields.get("claimed", "")]
    if with_files:
        updates += [None, None, None]  # no file and no random input: the link's text is the input
    for c in controls:
        if c.spec != spec.name:
            updates.append(gr.update())
        elif c.param.name in params:
            updates.append(control_value(c.param, params[c.param.name]))
        else:
            updates.append(calculator.control_value(c.param, c.param.default))
    updates.append(secrets.token_hex(8) if shared.computes else gr.update())
    return updates


def _confusion_updates(shared: Shared | None) -> list[Any]:
    """Updates for [tp, fp, fn, tn, metric, claimed, run] from a link."""
    if shared is None or shared.tab != "confusion":
        return [gr.update() for _ in range(7)]
    fields = shared.fields
    metric = fields.get("metric")
    return [*(count_value(fields.get(name)) for name in COUNTS),
            gr.update(value=metric) if metric in METRICS else gr.update(), fields.get("claimed", ""),
            secrets.token_hex(8) if shared.computes else gr.update()]


def wire(bar: ShareBar, calc: Any, chk: Any, conf: Any, tabs: Any, lang_radio: Any, after_load: Any) -> None:
    """Write the link on every Compute / Check; fill in and run the state of a link when a page opens (after the
    page's own load, `after_load`, so the link's result is the last one written); copy the link."""
    private = {"api_visibility": "private", "show_progress": "hidden"}
    write = {"js": write_url_js(), **private}

    # -- writing the link
    calc_inputs = {lang_radio, calc.loss, calc.pred, calc.target, calc.pred_file, calc.target_file, calc.reduction,
                   calc.device, calc.dtype, calc.claimed, *calc.control_components}

    def calc_link(data: dict[Any, Any]) -> list[Any]:
        lang, loss = data[lang_radio], data[calc.loss] or ""
        controls = _controls_of(calc.controls, loss, data)
        query, complete = loss_query("calculator", lang, loss, data[calc.pred], data[calc.target],
                                     data[calc.reduction], data[calc.device], data[calc.dtype], data[calc.claimed],
                                     controls, from_file=bool(data[calc.pred_file] or data[calc.target_file]))
        return [query, gr.update(info=None if complete else text("incomplete", lang, limit=MAX_QUERY_CHARS))]

    calc.compute.click(calc_link, calc_inputs, [bar.query, bar.link], queue=False, **private) \
        .then(None, [bar.query], [bar.link], **write)

    check_inputs = {lang_radio, chk.loss, chk.pred, chk.target, chk.reduction, chk.device, chk.dtype, chk.claimed,
                    *chk.control_components}

    def check_link(data: dict[Any, Any]) -> list[Any]:
        lang, loss = data[lang_radio], data[chk.loss] or ""
        controls = _controls_of(chk.controls, loss, data)
        query, complete = loss_query("check", lang, loss, data[chk.pred], data[chk.target], data[chk.reduction],
                                     data[chk.device], data[chk.dtype], data[chk.claimed], controls)
        return [query, gr.update(info=None if complete else text("incomplete", lang, limit=MAX_QUERY_CHARS))]

    for trigger in (chk.check.click, chk.claimed.submit):
        trigger(check_link, check_inputs, [bar.query, bar.link], queue=False, **private) \
            .then(None, [bar.query], [bar.link], **write)

    def confusion_link(lang: str, tp: Any, fp: Any, fn: Any, tn: Any, metric: Any, claimed: Any) -> list[Any]:
        return [confusion_query(lang, tp, fp, fn, tn, metric, claimed), gr.update(info=None)]

    conf.compute.click(confusion_link, [lang_radio, conf.tp, conf.fp, conf.fn, conf.tn, conf.metric, conf.claimed],
                       [bar.query, bar.link], queue=False, **private) \
        .then(None, [bar.query], [bar.link], **write)

    bar.copy.click(None, [bar.link], [bar.link], js=COPY_JS, **private)

    # -- opening a link
    calc_outputs = [calc.family, calc.loss, calc.pred, calc.target, calc.reduction, calc.device, calc.dtype,
                    calc.claimed, calc.pred_file, calc.target_file, calc.random_state, *calc.control_components,
                    bar.runs["calculator"]]
    check_outputs = [chk.family, chk.loss, chk.pred, chk.target, chk.reduction, chk.device, chk.dtype, chk.claimed,
                     *chk.control_components, bar.runs["check"]]
    conf_outputs = [conf.tp, conf.fp, conf.fn, conf.tn, conf.metric, conf.claimed, bar.runs["confusion"]]

    def open_link(page_lang: str, opened_query: str | None) -> list[Any]:
        shared = read_query(dict(parse_qsl(opened_query or "")))
        lang = (shared.lang if shared else None) or page_lang
        return [gr.update(value=lang) if shared and shared.lang else gr.update(),
                gr.Tabs(selected=shared.tab) if shared else gr.update(),
                *_loss_tab_updates(shared, "calculator", calc.controls, lang, True),
                *_loss_tab_updates(shared, "check", chk.controls, lang, False),
                *_confusion_updates(shared)]

    after_load(open_link, [lang_radio, bar.query], [lang_radio, tabs, *calc_outputs, *check_outputs, *conf_outputs],
               js=f"(lang) => [lang, {OPENED_QUERY_JS}.slice(1)]", **private) \
        .then(None, None, [bar.link], js=opened_link_js(), **private)

    calculator.compute_chain(bar.runs["calculator"].change, calc, lang_radio)
    bar.runs["check"].change(chk.extra["on_check"], check_inputs, [chk.state, *chk.outputs], api_visibility="private",
                             **compute_events())
    confusion_tab.compute_chain(bar.runs["confusion"].change, conf)

