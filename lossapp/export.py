"""The worked solution as a LaTeX document (.tex) that compiles on its own, in the reader's language.

    tex = to_latex(result, lang="zh", verdict=verdict)   # -> "% !TEX program = xelatex\\n\\documentclass..."

The same content as `lossapp.render.to_markdown` (the Markdown export): the loss and its formula, the
parameters, every step with its formula, the numbers put in (small inputs) and its value, the result, the
comparison with PyTorch's built-in, the warnings and the verdict on a claim. Compile with XeLaTeX (or
LuaLaTeX): the text is Unicode (中文 through ctex, which TeX Live ships with its fonts). Text is escaped for
LaTeX; the `$...$` math in titles and notes and the formulas themselves are LaTeX already (amsmath).
"""

from __future__ import annotations

import re
from typing import Any

from lossapp.i18n import msg, tr
from lossapp.render import (
    comparison_header,
    comparison_rows,
    each_value_on_its_line,
    input_shapes,
    param_text,
    shown_text,
    substitution_items,
    summary_text,
    value_latex,
    verdict_explanation,
    worked_equation,
)
from lossapp.result import Result
from lossapp.trace import SUBSTITUTE_MAX, Step

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
            "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}"}
_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$]+\$)")


def _say(key: str, lang: str, **fields: Any) -> str:
    """The message `render.<key>` (the worked solution's own words) in `lang`."""
    return msg(f"render.{key}", **fields).render(lang)


def _word(key: str, lang: str, **fields: Any) -> str:
    """The message `export.<key>` in `lang`."""
    return msg(f"export.{key}", **fields).render(lang)


def escape(text: str) -> str:
    """Plain text for LaTeX: its special characters escaped, its `$...$` / `$$...$$` math kept as written."""
    parts = _MATH.split(text)
    return "".join(part if i % 2 else "".join(_SPECIAL.get(ch, ch) for ch in part) for i, part in enumerate(parts))


def _display(latex: str) -> str:
    return f"\\[ {latex} \\]"


def _step_latex(k: int, step: Step, lang: str, substitute_limit: int) -> list[str]:
    lines = [f"\\paragraph{{{k}. {escape(tr(step.title, lang))}}}", _display(step.formula)]
    if step.note:
        lines.append(f"\\emph{{{escape(tr(step.note, lang))}}}")
    label = escape(_say("value", lang))
    if not step.complete:
        lines.append(f"{label}: {escape(shown_text(step.shape, step.shown_values(), lang))}")
        return [*lines, ""]
    subs = step.substituted(substitute_limit)
    if subs and len(subs) == 1:
        lines.append(_display(" = ".join(worked_equation(step, subs[0]))))
        return [*lines, ""]
    if subs:
        lines.append("\\begin{itemize}")
        lines += [f"  \\item ${index}$: ${text}$" for index, text in substitution_items(step, subs)]
        lines.append("\\end{itemize}")
    value = value_latex(step.value)
    if value is not None and not each_value_on_its_line(step, subs):
        lines.append(f"{label}: ${value}$")
    elif value is None:
        lines.append(f"{label}: {escape(summary_text(step.value, lang))}")
    return [*lines, ""]


def _comparison_latex(result: Result, lang: str) -> list[str]:
    ref = result.reference
    if ref is None:
        return []
    header = comparison_header(result, lang)
    lines = [f"\\subsection*{{{escape(_say('comparison', lang))}}}", "\\begin{tabular}{lllll}", "\\toprule",
             " & ".join(escape(h) for h in header) + r" \\", "\\midrule"]
    for row in comparison_rows(result, lang):
        cells = [escape(str(c)).replace("✓", r"$\checkmark$").replace("✗", r"$\times$") for c in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}", "", f"\\texttt{{{escape(ref.name)}}}", ""]
    return lines


def _verdict_latex(verdict: Any, lang: str) -> list[str]:
    data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    claimed = data.get("claimed_text") or data.get("claimed")
    lines = [f"\\subsection*{{{escape(_say('claimed_answer', lang))}}}",
             f"\\textbf{{{escape(_say('claimed', lang))}:}} {escape(str(claimed))} --- "
             f"\\textbf{{{escape(_say('verdict', lang))}:}} \\texttt{{{escape(str(data.get('verdict')))}}}", ""]
    explanation = verdict_explanation(verdict, lang)
    if explanation:
        lines += [escape(explanation), ""]
    return lines


def _preamble(lang: str) -> list[str]:
    document = "\\documentclass[11pt,UTF8]{ctexart}" if lang == "zh" else "\\documentclass[11pt]{article}"
    return ["% !TEX program = xelatex", f"% {_word('generated', lang)}", document,
            "\\usepackage{amsmath,amssymb,booktabs}", "\\usepackage[margin=2cm]{geometry}",
            "\\setlength{\\parindent}{0pt}", "\\begin{document}", ""]


def to_latex(result: Result, lang: str = "en", *, verdict: Any = None,
             substitute_limit: int = SUBSTITUTE_MAX) -> str:
    """The worked solution of `result` as a complete LaTeX document in `lang` (compile with XeLaTeX)."""
    spec = result.spec
    lines = _preamble(lang)
    heading = tr(spec.title, lang) if spec is not None else result.loss
    lines += [f"\\section*{{{escape(heading)}}}", ""]
    if spec is not None:
        if spec.summary:
            lines += [escape(tr(spec.summary, lang)), ""]
        lines += [_display(spec.formula), ""]
    meta = [f"{escape(_say('reduction', lang))} = \\texttt{{{escape(result.reduction)}}}"]
    meta += [f"{escape(name)} = \\texttt{{{escape(param_text(value, lang))}}}" for name, value in result.params.items()]
    meta += [escape(shapes) for shapes in input_shapes(result)]
    lines += [" $\\cdot$ ".join(meta), "", f"\\subsection*{{{escape(_say('steps', lang))}}}", ""]
    for k, step in enumerate(result.steps, start=1):
        lines += _step_latex(k, step, lang, substitute_limit)
    value = value_latex(result.value)
    lines += [f"\\subsection*{{{escape(_say('result', lang))}}}",
              _display(f"L = {value}") if value is not None else f"L: {escape(summary_text(result.value, lang))}", ""]
    lines += _comparison_latex(result, lang)
    if result.warnings:
        lines += [f"\\subsection*{{{escape(_say('warnings', lang))}}}", "\\begin{itemize}"]
        lines += [f"  \\item {escape(tr(w, lang))}" for w in result.warnings]
        lines += ["\\end{itemize}", ""]
    if verdict is not None:
        lines += _verdict_latex(verdict, lang)
    lines.append("\\end{document}")
    return "\n".join(lines) + "\n"
