"""Build the Gradio Blocks app and launch it offline.

    from lossapp.ui import build_app, launch
    demo = build_app()
    launch(demo)                 # 127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT / PORT override

Building computes nothing: the article examples and the Check tab's preset case are computed once per
process, by a warm-up thread as soon as the server answers (`warm_up`), or by the first page load before
that (`on_load`). The queue settings are lossapp.ui.concurrency's.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from lossapp.inputs import limits
from lossapp.ui import (
    api,
    calculator,
    check_tab,
    concurrency,
    confusion_tab,
    curves_tab,
    examples_tab,
    sessions,
    started,
)
from lossapp.ui import share as share_links
from lossapp.ui.common import CSS, Translations, gr, page_js, theme, toast_js
from lossapp.ui.copy_export import COPY_CSS, copy_js
from lossapp.ui.copy_export import wire as wire_copy_buttons
from lossapp.ui.downloads import DOWNLOADS
from lossapp.ui.field_errors import FIELD_ERROR_CSS, FIELD_ERRORS_JS, mark_errors
from lossapp.ui.keyboard import KEYBOARD_JS
from lossapp.ui.lab_tab import add_lab_tab
from lossapp.ui.mcp_server import launch_option, requested
from lossapp.ui.strings import language_choices, t

DELETE_CACHE = (600, 3600)  # Gradio's own files (uploads, served copies): every 10 min, those over an hour old
WARM_UP_DELAY = 1.0  # seconds after the server answers: the page a waking Space was woken for is served first

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def _header(lang: str) -> str:
    return f"# {t('title', lang)}\n{t('subtitle', lang)}"


def build_app() -> gr.Blocks:
    """The whole app: language switch, four tabs, the public HTTP API."""
    tr_ui = Translations()
    with sessions.Blocks(title="lossapp", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        with gr.Row(equal_height=True):
            with gr.Column(scale=5):
                header = gr.Markdown(_header("en"), elem_classes=["la-header"])
            with gr.Column(scale=1, min_width=230):
                lang = gr.Radio(language_choices(), value="en", label=t("language", "en"), elem_id="la-lang",
                                elem_classes=["la-lang"])
            with gr.Column(scale=2, min_width=260):
                share_bar = share_links.build(tr_ui)
        tr_ui.add(header, lambda lg: gr.update(value=_header(lg)))
        tr_ui.keys(lang, label="language")
        with gr.Tabs(selected="calculator", elem_id="la-tabs", overflow_behavior="wrap") as tabs:
            with gr.Tab(t("tab_calculator", "en"), id="calculator", elem_id="la-tab-calculator") as tab_calc:
                calc = calculator.build(tr_ui)
            with gr.Tab(t("tab_confusion", "en"), id="confusion", elem_id="la-tab-confusion") as tab_conf:
                conf = confusion_tab.build(tr_ui)
            with gr.Tab(t("tab_check", "en"), id="check", elem_id="la-tab-check") as tab_check:
                chk = check_tab.build(tr_ui)
            tr_ui.add(tab_check, _tab_label("tab_check"))
            with gr.Tab(t("tab_curves", "en"), id="curves", elem_id="la-tab-curves") as tab_curves:
                curves = curves_tab.build(tr_ui)
            with gr.Tab(t("tab_examples", "en"), id="examples", elem_id="la-tab-examples") as tab_examples:
                examples = examples_tab.build(tr_ui)
            add_lab_tab(tr_ui, lang)
        for tab, key in ((tab_calc, "tab_calculator"), (tab_conf, "tab_confusion"), (tab_curves, "tab_curves"),
                         (tab_examples, "tab_examples")):
            tr_ui.add(tab, _tab_label(key))

        calculator.wire(calc, lang)
        confusion_tab.wire(conf, lang)
        check_tab.wire(chk, lang)  # its language re-rendering included
        curves_tab.wire(curves, lang)
        examples_tab.wire(examples, calc, conf, tabs, lang)
        _wire_language(lang, tr_ui, calc, conf, curves)

        def on_load(lg: str) -> list[Any]:
            return [*examples_tab.on_load(examples, lg), *check_tab.on_load(lg)]

        def in_chosen_language(lg: str) -> list[Any]:
            """The load's texts again when the language was switched while the page loaded (the load wrote
            them in the language it started with, after the switch had re-rendered them)."""
            return on_load(lg) if lg != "en" else [gr.update() for _ in load_outputs]

        load_outputs = [*examples.load_outputs, *chk.outputs]
        loaded = demo.load(on_load, [lang], load_outputs, api_visibility="private", show_progress="hidden") \
            .then(in_chosen_language, [lang], load_outputs, api_visibility="private", show_progress="hidden")
        wire_copy_buttons(calc.solution, chk.solution)
        share_links.wire(share_bar, calc, chk, conf, tabs, lang, loaded.then)  # a shared link's state, after the load
        api.register()
    mark_errors(demo, [calc.extra["on_compute"], chk.extra["on_check"], conf.extra["on_counts"], conf.extra["on_masks"]])
    demo.queue(**concurrency.queue_kwargs())
    demo.lossapp_translations = tr_ui  # for tests: every language-dependent component
    return demo


def warm_up() -> None:
    """What the first visitor would otherwise wait for: the article examples, the Check tab's preset case and
    torch's first autograd call (which imports its symbolic-shapes machinery)."""
    check_tab.article_state()
    examples_tab.warm_up()


def freeze_long_lived() -> None:
    """Take every object alive now out of the garbage collector's walks (one collection, then gc.freeze, as app.py
    does once the app is built). The warm-up imports torch's compiler machinery and sympy (torch's first autograd call
    and first optimizer do): about 120,000 objects that live as long as the process, which every full collection
    walked again, a pause for every request in flight (under bench_http.py's load: 5 full collections per 800
    requests, 0.27 s at the median, up to 1 s)."""
    gc.collect()
    gc.freeze()


def warm_up_when_serving(demo: gr.Blocks, timeout: float = 600.0,
                         then: Callable[[], None] | None = None) -> threading.Thread:
    """Run warm_up() in a daemon thread once `demo` answers requests (not while it starts: that is the startup
    time a Space's visitor waits for), then freeze_long_lived(), then `then()`."""
    def run() -> None:
        deadline = time.monotonic() + timeout
        while not demo.is_running and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(WARM_UP_DELAY)
        warm_up()
        freeze_long_lived()
        if then is not None:
            then()

    thread = threading.Thread(target=run, name="lossapp-warm-up", daemon=True)
    thread.start()
    return thread


def _tab_label(key: str) -> Any:
    return lambda lang: gr.Tab(label=t(key, lang))


def _wire_language(lang: Any, tr_ui: Translations, calc: calculator.Calculator, conf: confusion_tab.ConfusionTab,
                   curves: curves_tab.CurvesTab) -> None:
    """The language switch: every label, then the shown results re-rendered in that language."""
    private = {"api_visibility": "private", "show_progress": "hidden"}
    lang.change(tr_ui.updates, [lang], tr_ui.components, **private)

    def family_and_loss(lg: str, family: str, loss: str) -> Any:
        return gr.update(choices=calculator.loss_choices(family, lg), value=loss)

    lang.change(family_and_loss, [lang, calc.family, calc.loss], [calc.loss], **private)

    def calc_outputs(data: dict[Any, Any], request: gr.Request | None = None) -> list[Any]:
        from lossapp.registry import lookup
        lg, state, loss = data[lang], data[calc.state], data[calc.loss]
        shown = started.CALCULATOR.unless_stale(calculator.session_of(request),
                                                lambda: calculator.render_outputs(state, lg), lg)
        spec = lookup(loss) if loss else None
        params = calculator.control_params(calc, spec, data) if spec is not None else None
        return [*shown, *calculator.loss_labels(spec, lg, params)]

    lang.change(calc_outputs, {lang, calc.state, calc.loss, *calc.control_components},
                [*calc.outputs, calc.info, calc.pred, calc.target], **private)
    lang.change(lambda lg, state: confusion_tab.render_outputs(state, lg), [lang, conf.state], conf.outputs, **private)
    inputs, outputs, fn = curves_tab.relabel(curves, lang)
    lang.change(fn, inputs, outputs, **private)


def server_settings() -> tuple[str, int]:
    """(host, port): 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise; PORT
    (set by hosting platforms) wins over GRADIO_SERVER_PORT."""
    host = os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    raw = os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"error: expected an integer port in PORT / GRADIO_SERVER_PORT, got {raw!r}") from None
    return host, port


def launch_kwargs() -> dict[str, Any]:
    """Offline launch: no share link, no monitoring, no SSR (no node), system-font theme, our CSS, the error
    toasts' heading in the chosen language (toast_js), the keyboard (lossapp.ui.keyboard), the errors at their
    field (lossapp.ui.field_errors), the copy buttons (lossapp.ui.copy_export); at most concurrency.SESSIONS
    sessions kept; the MCP server when LOSSAPP_MCP=1 (lossapp.ui.mcp_server; `python app.py --mcp` passes mcp_server=True). show_error is
    off: a gr.Error (every InputError, and the internal-error message) still reaches the user, but an exception
    that escaped a handler shows as a generic error, not its text."""
    host, port = server_settings()
    return {"server_name": host, "server_port": port, "share": False, "enable_monitoring": False,
            "ssr_mode": False, "show_error": False, "theme": theme(), "css": CSS + FIELD_ERROR_CSS + COPY_CSS,
            "js": page_js(toast_js(), KEYBOARD_JS, FIELD_ERRORS_JS, copy_js()),
            "max_file_size": limits.MAX_FILE_BYTES, "footer_links": ["api", "settings"],
            "mcp_server": launch_option(requested()),
            "state_session_capacity": concurrency.SESSIONS}


def launch(demo: gr.Blocks | None = None, **overrides: Any) -> Any:
    """Serve `demo` (built here when not given): warm up once it answers and then start the compute processes
    (lossapp.ui.api.PROCESSES), sweep old downloads meanwhile, and on SIGTERM (how hosts stop a container) shut
    down as on Ctrl-C, so the temporary files are removed and the compute processes stopped."""
    demo = demo or build_app()
    warm_up_when_serving(demo, then=api.PROCESSES.start)  # the compute processes: after the warm-up (CPU)
    atexit.register(api.PROCESSES.close)
    DOWNLOADS.start_sweeping()
    _stop_on_sigterm()
    try:
        return demo.launch(**{**launch_kwargs(), **overrides})
    except KeyboardInterrupt:  # stopped while still starting (Gradio's own loop handles it once it serves)
        demo.close()
        return None


def _stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread: Gradio then closes the server (deleting its cached
    files, DELETE_CACHE) and the process exits normally (lossapp.ui.downloads removes its folders at exit)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum: int, frame: Any) -> None:
        # once: a second SIGTERM (a supervisor repeating itself) or Ctrl-C while the server closes is not an error
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


__all__ = ["build_app", "launch", "launch_kwargs", "server_settings"]
