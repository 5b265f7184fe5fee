"""Copy and export: copy buttons for the value, the LaTeX of every formula of the worked solution (each step's
formula and the numbers put in) and the whole worked solution (Markdown with its LaTeX); the exports are the
calculator's downloads, among them the worked solution as Markdown and as a LaTeX document
(lossapp.export.to_latex), both in the page's language.

The per-formula and value buttons are added by COPY_JS when the page has rendered them (KaTeX keeps each
formula's LaTeX source in its MathML annotation); the whole solution's is the Markdown component's own copy
button.
"""

from __future__ import annotations

import json
from typing import Any

from lossapp.i18n import LANGUAGES, msg

SOLUTIONS = ("#la-solution", "#la-check-solution", "#la-conf-steps", "#la-conf-identity")
VALUES = ("#la-value",)
WORDS = ("copy_latex", "copy_value", "copied")

# text -> the clipboard; where the Clipboard API is refused (a page served over plain http to another machine),
# through a selected textarea
WRITE_CLIPBOARD_JS = """async (text) => {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (ignored) {}
    area.remove();
  }
}"""

COPY_JS = """() => {
  const words = %s;
  const solutions = %s;
  const values = %s;
  const say = (key) => {
    const lang = document.querySelector('#la-lang input[aria-checked="true"]')?.value;
    return (words[lang] || words.en)[key];
  };
  const write = %s;
  // a copy icon drawn, not a glyph: fonts without one would show a box
  const icon = '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true" fill="none" stroke="currentColor"'
    + ' stroke-width="1.5"><rect x="5" y="5" width="9" height="9" rx="1.5"/><path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6'
    + 'A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5"/></svg>';
  const button = (key, text) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'la-copy';
    b.dataset.key = key;
    b.innerHTML = icon;
    b.title = say(key);
    b.setAttribute('aria-label', say(key));
    b.addEventListener('click', async (event) => {
      event.preventDefault();
      event.stopPropagation();
      await write(text());
      b.textContent = '✓';
      b.title = say('copied');
      setTimeout(() => { b.innerHTML = icon; b.title = say(key); }, 1500);
    });
    return b;
  };
  const decorate = () => {
    for (const display of document.querySelectorAll(solutions.map((s) => s + ' .katex-display').join(', '))) {
      if (display.querySelector(':scope > .la-copy')) continue;
      const source = display.querySelector('annotation[encoding="application/x-tex"]');
      if (!source) continue;
      display.classList.add('la-copyable');
      display.appendChild(button('copy_latex', () => source.textContent.trim()));
    }
    for (const value of document.querySelectorAll(values.join(', '))) {
      if (value.parentElement.querySelector(':scope > .la-copy')) continue;
      value.insertAdjacentElement('afterend', button('copy_value', () => value.textContent.trim()));
    }
    for (const b of document.querySelectorAll('.la-copy')) {
      const label = say(b.dataset.key);
      if (b.querySelector('svg') && b.title !== label) { b.title = label; b.setAttribute('aria-label', label); }
    }
  };
  new MutationObserver(decorate).observe(document.body, {childList: true, subtree: true, attributes: true,
                                                          attributeFilter: ['aria-checked']});
  decorate();
}"""

COPY_CSS = """
.la-copyable { position: relative; }
.la-copy { font-size: 0.85em; line-height: 1; padding: 2px 6px; margin-left: 6px; border-radius: 6px; cursor: pointer;
           border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
           color: var(--body-text-color-subdued); vertical-align: middle; }
.la-copy:hover { color: var(--body-text-color); border-color: var(--color-accent); }
.la-copyable > .la-copy { position: absolute; top: 0; right: 0; margin: 0; opacity: 0.55; }
.la-copyable:hover > .la-copy, .la-copyable > .la-copy:focus { opacity: 1; }
"""


def copy_js() -> str:
    """COPY_JS with the buttons' words in every language (the [ui_copy] table)."""
    words = {lang: {key: msg(f"ui_copy.{key}").render(lang) for key in WORDS} for lang in LANGUAGES}
    return COPY_JS % (json.dumps(words, ensure_ascii=False), json.dumps(list(SOLUTIONS)), json.dumps(list(VALUES)),
                      WRITE_CLIPBOARD_JS)


def wire(*solutions: Any) -> None:
    """The whole worked solution's copy button: the Markdown components' own (their text, with its LaTeX)."""
    for markdown in solutions:
        markdown.buttons = ["copy"]
