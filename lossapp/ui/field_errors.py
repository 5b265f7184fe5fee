"""Errors at their field: a bad input's message also appears next to the input that caused it.

The error modal of a tab's computation (its handler wrapped by `mark_errors`) carries, after the message, an
empty hidden marker naming the inputs at fault
(`lossapp.inputs.errors.fields_at_fault`: from the InputError's id and fields, never its text) in its classes
(`la-at-pred`, `la-at-param-beta`: the modal's sanitizer keeps classes, not data attributes); FIELD_ERRORS_JS,
run when the page loads, sees the toast arrive and writes its message under those inputs of the tab in view
(pred, target, a parameter's control, opening the parameters when they are folded away, the claimed answer, a
confusion count or metric). The note goes when that input is edited or the tab computes again.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Iterable
from typing import Any

from lossapp.inputs import InputError
from lossapp.inputs.errors import fields_at_fault
from lossapp.ui.common import gr


def marker(error: InputError) -> str:
    """The hidden marker of the inputs `error` is about ('' when it names none)."""
    fields = fields_at_fault(error)
    if not fields:
        return ""
    classes = " ".join(f"la-at-{field.replace(':', '-')}" for field in fields)
    return f'<span hidden class="la-fields {html.escape(classes, quote=True)}"></span>'


def marking(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler` whose error modal for a bad input also carries the marker of the inputs at fault
    (lossapp.ui.common.as_gradio_errors raises the modal `from None`: the InputError is its __context__)."""
    @functools.wraps(handler)
    def marked(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except gr.Error as error:
            if isinstance(error.__context__, InputError):
                error.message += marker(error.__context__)
            raise

    marked.marks_fields = True  # type: ignore[attr-defined]
    return marked


def mark_errors(demo: gr.Blocks, handlers: Iterable[Callable[..., Any]]) -> int:
    """Every event of `demo` that runs one of `handlers` (the tabs' Compute / Check) runs it through marking();
    how many events. Done once the tabs have registered their events: their handlers stay as they are when
    called directly."""
    wanted = {id(handler) for handler in handlers}
    events = [block_fn for block_fn in demo.fns.values() if id(block_fn.fn) in wanted]
    for block_fn in events:
        block_fn.fn = marking(block_fn.fn)
    return len(events)


# Each tab panel's inputs by field name (a parameter is found by its control's label in the panel's parameters),
# and the button that computes the tab: pressing it clears the tab's notes.
FIELD_ERRORS_JS = """() => {
  const tabs = {
    'la-tab-calculator': {button: '#la-compute', pred: '#la-pred', target: '#la-target', claimed: '#la-claimed'},
    'la-tab-check': {button: '#la-check-button', pred: '#la-check-pred', target: '#la-check-target',
                     claimed: '#la-check-claimed'},
    'la-tab-confusion': {button: '#la-conf-compute, #la-conf-from-masks', tp: '#la-tp', fp: '#la-fp', fn: '#la-fn',
                         tn: '#la-tn', metric: '#la-conf-metric', claimed: '#la-conf-claimed', pred: '#la-conf-pred',
                         target: '#la-conf-target'},
  };
  const shown = (el) => el && el.offsetParent !== null;
  const panelInView = () => Object.keys(tabs).map((id) => document.getElementById(id)).find(shown);
  const clear = (root) => root.querySelectorAll('.la-field-error').forEach((note) => note.remove());
  const paramBlock = (panel, name) => {
    const labels = panel.querySelectorAll('.la-params [data-testid="block-info"], .la-params label span');
    const label = [...labels].find((span) => span.textContent.trim() === name && shown(span));
    return label ? label.closest('.block') : null;
  };
  const openParameters = (panel) => {  // true once the parameters' accordion is open
    const toggle = panel.querySelector('.la-params button.label-wrap');
    if (!shown(toggle)) return false;
    if (!toggle.classList.contains('open')) toggle.click();
    return true;
  };
  // The notes shown per tab panel, {panel id: {field: text}}: a note whose block is re-drawn (its loss's
  // parameters shown after the result arrived, on a busy machine) is written again until its input is edited or
  // the tab computes again.
  const notes = {};
  const attach = (panel, field, text) => {
    const where = tabs[panel.id];
    const block = field.startsWith('param:') ? paramBlock(panel, field.slice(6))
      : (where[field] ? panel.querySelector(where[field]) : null);
    if (!shown(block)) return false;
    if (block.querySelector(`.la-field-error[data-field="${field}"]`)) return true;
    const note = document.createElement('div');
    note.className = 'la-field-error';
    note.setAttribute('role', 'alert');
    note.dataset.field = field;
    note.textContent = text;
    block.appendChild(note);
    return true;
  };
  const attachAll = () => {
    for (const [id, placed] of Object.entries(notes)) {
      const panel = document.getElementById(id);
      if (!panel) continue;
      for (const [field, text] of Object.entries(placed.fields)) {
        // a parameter at fault comes into view even when its accordion was closed (opened once per error)
        if (!attach(panel, field, text) && field.startsWith('param:') && !placed.opened) {
          placed.opened = openParameters(panel);
        }
      }
    }
  };
  const place = (fields, text) => {
    const panel = panelInView();
    if (!panel) return;
    clear(panel);
    notes[panel.id] = {fields: Object.fromEntries(fields.map((field) => [field, text])), opened: false};
    attachAll();
  };
  const seen = new WeakSet();
  new MutationObserver(() => {
    for (const mark of document.querySelectorAll('span.la-fields')) {
      if (seen.has(mark)) continue;
      seen.add(mark);
      const body = mark.closest('[data-testid="toast-text"]') || mark.parentElement;
      const fields = [...mark.classList].filter((c) => c.startsWith('la-at-'))
        .map((c) => c.slice(6).replace(/^param-/, 'param:'));
      place(fields, (body ? body.textContent : '').trim());
    }
    attachAll();
  }).observe(document.body, {childList: true, subtree: true});
  // a control shown by a class or style change (its loss's parameters coming into view) is not a childList change
  setInterval(attachAll, 250);
  document.addEventListener('input', (event) => {
    const block = event.target instanceof Element ? event.target.closest('.block') : null;
    if (!block) return;
    const panel = block.closest('[id^="la-tab-"]');
    block.querySelectorAll('.la-field-error').forEach((note) => {
      if (panel && notes[panel.id]) delete notes[panel.id].fields[note.dataset.field];
    });
    clear(block);
  }, true);
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    for (const [id, where] of Object.entries(tabs)) {
      const panel = document.getElementById(id);
      if (panel && target && target.closest(where.button)) {
        delete notes[id];
        clear(panel);
      }
    }
  }, true);
}"""

FIELD_ERROR_CSS = """
.la-field-error { margin-top: 6px; padding: 4px 8px; border-radius: 6px; font-size: 0.9em;
                  color: #991b1b; background: #fee2e2; border: 1px solid #fca5a5; }
.dark .la-field-error { color: #fecaca; background: #450a0a; border-color: #7f1d1d; }
.la-result-error { margin: 8px 0; padding: 6px 10px; border-radius: 6px; color: #991b1b; background: #fee2e2;
                   border: 1px solid #fca5a5; }
.dark .la-result-error { color: #fecaca; background: #450a0a; border-color: #7f1d1d; }
"""
