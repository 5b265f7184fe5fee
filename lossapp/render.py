"""The worked solution as Markdown + LaTeX, the "Reproduce in PyTorch" snippet, JSON and CSV.

    md = to_markdown(result, lang="zh")     # steps: title, formula, numbers put in, value; reference; warnings
    code = torch_snippet(result)            # import torch ... print(F.binary_cross_entropy(...))
    to_json(result), to_csv(result)         # downloads

LaTeX is written between `$...$` (inline) and `$$...$$` (display), the delimiters Gradio's Markdown
hands to KaTeX. Show few: a large step is written as its shape and first elements (the ones the step
keeps), a large value as its shape, min, max and mean; the formulas with the numbers put in are written
only for small inputs (`Step.substituted()`). No gradio here.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import torch

from lossapp.i18n import Message, msg, tr
from lossapp.inputs import shape_text
from lossapp.result import Result, json_safe
from lossapp.spreadsheet import csv_text
from lossapp.trace import SUBSTITUTE_MAX, Step, fmt

SHOW_MAX = 24            # arrays up to this many elements are printed in full in the worked solution
MATRIX_MAX = 8           # ... as a LaTeX matrix when 2-D and at most this many rows and columns
SNIPPET_MAX = 2_000      # inputs up to this many elements are written into the PyTorch snippet
VALUE_DIGITS = 6         # significant digits of step values

# -- small helpers ---------------------------------------------------------------------------------


def _say(key: str, lang: str, **fields: Any) -> str:
    """The message `render.<key>` in `lang`."""
    return msg(f"render.{key}", **fields).render(lang)


def _escape_text(text: str) -> str:
    """Markdown-escape plain text, leaving $...$ math segments as they are."""
    parts = re.split(r"(\$\$.+?\$\$|\$[^$]+\$)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            out.append(re.sub(r"([*<>|`\[\]#])", r"\\\1", part))
    return "".join(out)


def _flat_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().double().reshape(-1).cpu()
    if value is None:
        return torch.zeros(0, dtype=torch.float64)
    try:
        return torch.tensor(value, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):  # ragged or None inside: one by one
        out: list[float] = []
        for v in value if isinstance(value, list | tuple) else [value]:
            out.extend(_flat_tensor(v).tolist() if isinstance(v, list | tuple) else
                       [math.nan if v is None else float(v)])
        return torch.tensor(out, dtype=torch.float64)


def flat_values(value: Any) -> list[float]:
    """A value (tensor, number, nested or ragged list, None inside as nan) as a flat list of floats, row-major."""
    return _flat_tensor(value).tolist()


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, list | tuple):
        return (len(value), *(_shape(value[0]) if value else ()))
    return ()


def number(x: float, digits: int = VALUE_DIGITS) -> str:
    """A value as LaTeX with `digits` significant digits."""
    return fmt(x, digits)


def plain_number(x: float, digits: int = VALUE_DIGITS) -> str:
    """A value as plain text (no LaTeX): 0.926341, 2.4e-08, nan, inf; a whole number as one while it has at most
    `digits` digits (12, 999999), beyond as every other number of its size (1e+06, not 1000000 next to 1e+06)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 10 ** digits:
        return str(int(x))
    return f"{x:.{digits}g}"


def summary_text(value: Any, lang: str = "en") -> str:
    """shape, min, max, mean of a large array (plain text)."""
    flat = _flat_tensor(value)
    finite = flat[torch.isfinite(flat)]
    low, high, mean = ((plain_number(finite.min()), plain_number(finite.max()), plain_number(finite.mean()))
                       if finite.numel() else ("nan", "nan", "nan"))
    return _say("summary", lang, shape=shape_text(_shape(value)), min=low, max=high, mean=mean)


def _nested_latex(flat: list[float], shape: tuple[int, ...]) -> str:
    """A row vector, a matrix, or (3-D and up) a bracketed list of the slices along the first axis."""
    if len(shape) == 1:
        return r"\left[" + ",\\ ".join(number(v) for v in flat) + r"\right]"
    if len(shape) == 2:
        rows = [" & ".join(number(flat[r * shape[1] + c]) for c in range(shape[1])) for r in range(shape[0])]
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    size = math.prod(shape[1:])
    return r"\left[" + ",\\ ".join(_nested_latex(flat[i * size:(i + 1) * size], shape[1:])
                                    for i in range(shape[0])) + r"\right]"


def value_latex(value: Any) -> str | None:
    """A small value as LaTeX (number, row vector, matrix, or a list of matrices for a tiny 3-D or 4-D value);
    None when it is too large to print."""
    shape = _shape(value)
    if math.prod(shape) > SHOW_MAX or (any(size > MATRIX_MAX for size in shape[-2:]) and len(shape) >= 2):
        return None
    flat = flat_values(value)
    if not shape:
        return number(flat[0]) if flat else r"\varnothing"
    if not flat and len(shape) > 1:
        return None
    return _nested_latex(flat, shape)


def shown_text(shape: tuple[int, ...], shown: torch.Tensor, lang: str = "en") -> str:
    """A large tensor of which only the first elements are held: its shape, how many there are, the first ones."""
    count = math.prod(shape)
    numbers = ", ".join(plain_number(v) for v in shown.tolist())
    return _say("first_of", lang, shape=shape_text(shape), shown=shown.numel(), count=f"{count:,}", numbers=numbers)


def tensor_text(t: torch.Tensor, lang: str = "en") -> str:
    """A tensor as plain text, like value_text, without turning a large one into Python numbers."""
    if t.numel() <= 8:
        return value_text(t.tolist() if t.dim() else t.item(), lang)
    return summary_text(t, lang)


def _nested_text(flat: list[float], shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "[" + ", ".join(plain_number(v) for v in flat) + "]"
    size = math.prod(shape[1:])
    return "[" + ", ".join(_nested_text(flat[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])) + "]"


def value_text(value: Any, lang: str = "en") -> str:
    """The loss value as plain text: 0.926341, a short list (nested as the value is: a (2, 3) value is
    [[a, b, c], [d, e, f]]), or a summary of a large tensor."""
    shape = _shape(value)
    if math.prod(shape) > 8:
        return summary_text(value, lang)
    flat = flat_values(value)
    if not shape:
        return plain_number(flat[0]) if flat else "–"
    if len(flat) != math.prod(shape):  # ragged: flat
        return "[" + ", ".join(plain_number(v) for v in flat) + "]"
    return _nested_text(flat, shape)


def index_label(i: int, shape: tuple[int, ...]) -> str:
    """The index of the `i`-th element (row-major) of a tensor of `shape`: "4" for a vector, "(1,0,2)" beyond."""
    if len(shape) <= 1:
        return str(i)
    idx = []
    for size in reversed(shape):
        idx.append(i % size)
        i //= size
    return "(" + ",".join(str(k) for k in reversed(idx)) + ")"


def formula_lhs(formula: str) -> str | None:
    """The left-hand side of `lhs = rhs` at brace depth 0 (None when the formula has no '='): "L" for "L = x^2"."""
    depth = 0
    for i, ch in enumerate(formula):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "=" and depth == 0 and formula[i - 1:i] not in ("<", ">", "!", "\\"):
            lhs = formula[:i].strip()
            return lhs or None
    return None


# -- pseudo-LaTeX in plain text: notes, titles and column names ----------------------------------------

GREEK_NAMES = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "lambda": "λ",
               "sigma": "σ", "theta": "θ", "mu": "μ"}
_GREEK_NAME = re.compile(r"(?<![A-Za-z])(" + "|".join(GREEK_NAMES) + r")(?![A-Za-z])")
# a script: ^ or _ followed by a {group}, a (group) or a run of letters and digits
_SCRIPT = r"[\^_](?:\{[^{}$]*\}|\([^()$]*\)|[A-Za-z0-9\u0370-\u03ff]+)"
# a base (one letter, not part of a word, or a closing bracket) with its scripts: "e^{x−m}", "p_t", ")^γ"
_SCRIPTED = re.compile(r"((?<![A-Za-z0-9_\\$])[A-Za-z\u0370-\u03ff]|[)\]|])((?:" + _SCRIPT + r")+)")
_CODE_OR_MATH = re.compile(r"(`[^`]*`|\$\$.+?\$\$|\$[^$]+\$)")


def _latex_script(script: str) -> str:
    """"^{x−m}" -> "^{x−m}", "_(y_n)" -> "_{y_n}", "^γ" -> "^{γ}"."""
    mark, body = script[0], script[1:]
    if body[:1] in "{(":
        body = body[1:-1]
    return mark + "{" + body + "}"


def math_in_text(text: str) -> str:
    """Plain text (a note, a title, a warning) with its pseudo-LaTeX made math for KaTeX: "e^{x−m}" becomes
    "$e^{x−m}$", "p_t" "$p_{t}$", "(1 − p_t)^γ" "(1 − $p_{t})^{γ}$"; code in backticks and existing $...$ math
    are left as they are.

    >>> math_in_text("so e^{x−m} cannot overflow, and α_t = 1 for `ignore_index`")
    'so $e^{x−m}$ cannot overflow, and $α_{t}$ = 1 for `ignore_index`'
    """
    parts = _CODE_OR_MATH.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _math_spans(parts[i])
    return "".join(parts)


def _math_spans(text: str) -> str:
    """Each scripted piece of `text` between $...$; pieces that touch ("p_t" and ")^γ" in "(1 − p_t)^γ") share one."""
    out: list[str] = []
    end = 0
    for m in _SCRIPTED.finditer(text):
        latex = m.group(1) + "".join(_latex_script(x) for x in re.findall(_SCRIPT, m.group(2)))
        if out and m.start() == end:
            out[-1] = out[-1][:-1] + latex + "$"
        else:
            out += [text[end:m.start()], "$" + latex + "$"]
        end = m.end()
    return "".join(out) + text[end:]


def symbol_parts(symbol: str) -> list[tuple[str, str]]:
    """A step symbol as it is written in a column name ("e^{x−m}", "(1-p_t)^gamma", "alpha_t", "log p_y") as
    pieces (text, kind) for a table head: kind "" on the line, "sup" a superscript, "sub" a subscript; Greek
    names become letters and "-" the minus sign. A "_" inside a word ("focal_weight") stays a "_".

    >>> symbol_parts("e^{x−m}")
    [('e', ''), ('x−m', 'sup')]
    >>> symbol_parts("(1-p_t)^gamma")
    [('(1−p', ''), ('t', 'sub'), (')', ''), ('γ', 'sup')]
    """
    text = _GREEK_NAME.sub(lambda m: GREEK_NAMES[m.group(1)], symbol).replace("-", "−")
    parts: list[tuple[str, str]] = []
    plain = ""
    i = 0
    while i < len(text):
        mark = text[i]
        base_ok = bool(plain) and (plain[-1] in ")]|" or (plain[-1].isalpha() and not plain[-2:-1].isalpha()))
        script = re.match(_SCRIPT, text[i:]) if mark in "^_" and (base_ok or mark == "^") else None
        if script is None:
            plain += mark
            i += 1
            continue
        body = script.group(0)[1:]
        body = body[1:-1] if body[:1] == "{" else body
        if plain:
            parts.append((plain, ""))
            plain = ""
        parts.append((body, "sup" if mark == "^" else "sub"))
        i += script.end()
    if plain:
        parts.append((plain, ""))
    return parts


# -- tables for reading: cells as lines of text ----------------------------------------------------------

STACK_MAX = 8  # a list cell with up to this many numbers is written one number per line


def cell_lines(value: Any) -> list[str]:
    """A table cell as lines of text: a number with VALUE_DIGITS significant digits, a short list one element
    per line (a matrix one row per line), a longer list as one line of numbers, text as it is."""
    if value is None:
        return [""]
    if isinstance(value, str):
        return _split_rows(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, list | tuple) for v in value):
            return [value_text(list(v)) for v in value]
        if len(value) <= STACK_MAX:
            return [plain_number(v) if isinstance(v, int | float) else str(v) for v in value]
        return ["[" + ", ".join(plain_number(v) if isinstance(v, int | float) else str(v) for v in value) + "]"]
    if isinstance(value, bool):
        return [str(value)]
    if isinstance(value, int | float) or hasattr(value, "item"):
        try:
            return [plain_number(float(value))]
        except (TypeError, ValueError):
            return [str(value)]
    return [str(value)]


def _split_rows(text: str) -> list[str]:
    """ "[[1, 2], [3, 4]]" -> ["[[1, 2],", "[3, 4]]"]: a nested list's rows on lines of their own."""
    pieces = re.split(r"(?<=\]),\s*(?=\[)", text)
    return [p + ("," if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


# -- the worked solution -----------------------------------------------------------------------------


def worked_equation(step: Step, substituted: str) -> list[str]:
    """The sides of a step's one-line worked equation, to join with " = ": its formula's left-hand side (if it has
    one), the formula with the numbers put in, and the value (a number, or a small value as LaTeX); the middle side
    is left out where it is the value already ("L = 0.5", not "L = 0.5 = 0.5")."""
    flat = flat_values(step.value)
    value = number(flat[0]) if len(flat) == 1 else value_latex(step.value)
    lhs = formula_lhs(step.formula)
    if value is not None and substituted.strip() == value:
        return [p for p in (lhs, value) if p]
    return [p for p in (lhs, substituted, value) if p]


def substitution_items(step: Step, substituted: list[str]) -> list[tuple[str, str]]:
    """(index, LaTeX) per element of a step written with its numbers put in, each "… = value" when there is one
    substitution per element: [("0", "-\\log(0.9) = 0.105361"), ...] (indices as `index_label`)."""
    flat = flat_values(step.value)
    same = len(substituted) == len(flat)
    return [(index_label(i, step.shape), f"{text} = {number(flat[i])}" if same else text)
            for i, text in enumerate(substituted)]


def each_value_on_its_line(step: Step, substituted: list[str] | None) -> bool:
    """Whether the items of `substitution_items` already show every value of a vector step (so its value line is
    left out)."""
    count = len(flat_values(step.value))
    return bool(substituted) and len(substituted) == count and count > 1 and len(step.shape) <= 1


def param_text(value: Any, lang: str = "en") -> str:
    """A loss parameter as plain text: None, a number (`plain_number`), a tensor (`value_text`) or as written."""
    if isinstance(value, torch.Tensor):
        return value_text(value, lang)
    return "None" if value is None else (plain_number(value) if isinstance(value, float) else str(value))


def input_shapes(result: Result) -> list[str]:
    """The inputs' shapes as plain text: ["pred (2, 3)", "target (2,)"] (an input not given is left out)."""
    return [f"{name} {shape_text(given.shape)}"
            for name, given in (("pred", result.pred), ("target", result.target)) if given is not None]


def _step_markdown(k: int, step: Step, lang: str, substitute_limit: int) -> list[str]:
    title = _escape_text(math_in_text(tr(step.title, lang)))
    lines = [f"**{k}. {title}**", "", f"$${step.formula}$$"]
    if step.note:
        lines += ["", f"*{_escape_text(math_in_text(tr(step.note, lang)))}*"]
    if not step.complete:  # a large step: its shape and first elements (show few)
        lines += ["", f"{_say('value', lang)}: {shown_text(step.shape, step.shown_values(), lang)}", ""]
        return lines
    subs = step.substituted(substitute_limit)
    if subs:
        if len(subs) == 1:
            lines += ["", "$$" + " = ".join(worked_equation(step, subs[0])) + "$$"]
        else:
            lines.append("")
            lines += [f"- ${index}$: ${text}$" for index, text in substitution_items(step, subs)]
    if not (subs and len(subs) == 1):
        shown = value_latex(step.value)
        label = _say("value", lang)
        if shown is not None and not each_value_on_its_line(step, subs):
            lines += ["", f"{label}: ${shown}$"]
        elif shown is None:
            lines += ["", f"{label}: {summary_text(step.value, lang)}"]
    lines.append("")
    return lines


def reference_markdown(result: Result, lang: str = "en") -> list[str]:
    """The comparison with the torch built-in (values and gradients) as a Markdown table."""
    ref = result.reference
    if ref is None:
        return []
    lines = [f"### {_say('comparison', lang)}", ""]
    frame = comparison_rows(result, lang)
    header = comparison_header(result, lang)
    lines.append("| " + " | ".join(_escape_text(h) for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in frame:
        lines.append("| " + " | ".join(_escape_text(str(c)) for c in row) + " |")
    lines += ["", f"`{ref.name}`", ""]
    return lines


def comparison_header(result: Result, lang: str = "en") -> list[str]:
    """The column names of `comparison_rows`: quantity, trace (float64), built-in on device/dtype, max |Δ|, agrees
    (empty without a built-in)."""
    ref = result.reference
    if ref is None:
        return []
    return [_say("quantity", lang), _say("trace_float64", lang),
            _say("built_in_on", lang, where=f"{ref.device}/{ref.dtype}"), _say("max_abs_diff", lang),
            _say("agrees", lang)]


def comparison_rows(result: Result, lang: str = "en") -> list[list[str]]:
    """[quantity, trace, built-in, max |Δ|, agrees] for the value and the gradient."""
    rows: list[list[str]] = []
    ref = result.reference
    if ref is None:
        return rows
    ok, bad = "✓", "✗"
    rows.append([_say("value", lang), value_text(result.value, lang), tensor_text(ref.tensor, lang), plain_number(ref.abs_diff, 3), ok if ref.agrees else bad])
    grad = result.gradient
    if grad is not None:
        if grad.complete:
            manual, reference = value_text(grad.manual, lang), value_text(grad.reference, lang)
        else:
            manual, reference = (shown_text(grad.shape, grad.manual_shown, lang),
                                 shown_text(grad.shape, grad.reference_shown, lang))
        rows.append([_say("gradient", lang), manual, reference,
                     plain_number(grad.max_abs_diff, 3), ok if grad.agrees else bad])
    return rows


def badge_text(result: Result, lang: str = "en") -> str:
    """'matches torch.nn.functional.X on cpu/float32 (|Δ| = 2.4e-08)' or why it does not."""
    ref = result.reference
    if ref is None:
        return _say("no_builtin", lang)
    fields = {"name": ref.name, "where": f"{ref.device}/{ref.dtype}", "diff": plain_number(ref.abs_diff, 2)}
    gradients_differ = result.gradient is not None and not result.gradient.agrees
    if ref.agrees and gradients_differ:  # never a badge that starts with "matches" while something differs
        return _say("gradients_differ_value_matches", lang, **fields)
    if ref.agrees:
        return _say("matches", lang, **fields)
    return _say("differs_gradients_too" if gradients_differ else "differs", lang, **fields)


def _localized(data: dict[str, Any], key: str, lang: str) -> str:
    """data[key] in `lang`: a message rendered; from JSON, data[key + "_zh"] in Chinese, else tr(data[key])."""
    if isinstance(data.get(key), Message):
        return data[key].render(lang)
    if lang == "zh" and data.get(f"{key}_zh"):
        return str(data[f"{key}_zh"])
    return tr(str(data.get(key) or ""), lang)


def verdict_explanation(verdict: Any, lang: str = "en") -> str:
    data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    return _localized(data, "explanation", lang)


def _verdict_markdown(verdict: Any, lang: str) -> list[str]:
    data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    claimed = data.get("claimed_text") or data.get("claimed")
    lines = [f"### {_say('claimed_answer', lang)}", ""]
    lines.append(f"**{_say('claimed', lang)}:** {claimed} — **{_say('verdict', lang)}:** `{data.get('verdict')}`")
    explanation = _localized(data, "explanation", lang)
    if explanation:
        lines += ["", _escape_text(explanation)]
    for m in [*(data.get("conventions") or []), *(data.get("mistakes") or [])]:
        value = m.get("value")
        shown = plain_number(value) if isinstance(value, int | float) else value
        lines.append(f"- `{m.get('id')}`: {_escape_text(_localized(m, 'title', lang))} → {shown}")
    lines.append("")
    return lines


def to_markdown(result: Result, lang: str = "en", *, verdict: Any = None,
                substitute_limit: int = SUBSTITUTE_MAX, title: bool = True) -> str:
    """The worked solution: per step its title, formula, the numbers put in (small inputs), its value;
    then the comparison with the built-in and the warnings (and the verdict on a claim, if given)."""
    spec = result.spec
    lines: list[str] = []
    if title:
        heading = tr(spec.title, lang) if spec is not None else result.loss
        lines += [f"## {_escape_text(heading)}", ""]
        if spec is not None:
            if spec.summary:
                lines += [_escape_text(tr(spec.summary, lang)), ""]
            lines += [f"$${spec.formula}$$", ""]
    meta = [f"{_say('reduction', lang)} = `{result.reduction}`"]
    meta += [f"{name} = `{param_text(value, lang)}`" for name, value in result.params.items()]
    meta += input_shapes(result)
    lines += [" · ".join(meta), ""]
    lines += [f"### {_say('steps', lang)}", ""]
    for k, step in enumerate(result.steps, start=1):
        lines += _step_markdown(k, step, lang, substitute_limit)
    value = value_latex(result.value)
    lines += [f"### {_say('result', lang)}", ""]
    lines += [f"$$L = {value}$$" if value is not None else f"L: {summary_text(result.value, lang)}", ""]
    lines += reference_markdown(result, lang)
    if result.warnings:
        lines += [f"### {_say('warnings', lang)}", ""]
        lines += [f"- ⚠ {_escape_text(tr(w, lang))}" for w in result.warnings]
        lines.append("")
    if verdict is not None:
        lines += _verdict_markdown(verdict, lang)
    return "\n".join(lines).rstrip() + "\n"


# -- the PyTorch snippet -----------------------------------------------------------------------------


def _py_number(x: float | int) -> str:
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "-float('inf')"
    return repr(float(x))


def _py_nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_py_nested(v) for v in value) + "]"
    return _py_number(value)


def _tensor_code(t: torch.Tensor, dtype: str, device: str, name: str) -> str:
    data = t.detach().cpu()
    args = []
    if data.is_floating_point():
        args.append(f"dtype=torch.{dtype}")
    if device != "cpu":
        args.append(f"device={device!r}")
    extra = (", " + ", ".join(args)) if args else ""
    if data.numel() > SNIPPET_MAX:
        conv = f".to({', '.join(args)})" if args else ""
        return (f"# {name}: {data.numel():,} values {shape_text(tuple(data.shape))}, too many to write here;\n"
                f"# save yours with torch.save(tensor, {name + '.pt'!r}) and load it:\n"
                f"{name} = torch.load({name + '.pt'!r}){conv}")
    body = _py_nested(data.tolist()) if data.dim() else _py_number(data.item())
    return f"{name} = torch.tensor({body}{extra})"


def _conversion_code(t: torch.Tensor, dtype: str, device: str, name: str) -> str:
    """`name = name.to(...)` (or nothing to do: ""): what a source (a seeded generator) drew, as the built-in received it: floating inputs
    (0/1 labels of a loss with float targets included) in the chosen dtype, on the chosen device."""
    args = [f"device={device!r}"] if device != "cpu" else []
    if t.is_floating_point():
        args.append(f"dtype=torch.{dtype}")
    return f"{name} = {name}.to({', '.join(args)})" if args else ""


def split_torch_code(code: str) -> tuple[str, str]:
    """(statements, final expression) of the spec's torch_code."""
    code = code.strip()
    try:
        ast.parse(code, mode="eval")
        return "", code
    except SyntaxError:
        pass
    tree = ast.parse(code, mode="exec")
    last = tree.body[-1]
    if not isinstance(last, ast.Expr):
        raise ValueError("torch_code must end with an expression")
    lines = code.splitlines()
    head = "\n".join(lines[:last.lineno - 1])
    tail = "\n".join(lines[last.lineno - 1:last.end_lineno])
    return head, tail


def torch_snippet(result: Result, *, sources: dict[str, str] | None = None) -> str:
    """A short runnable script computing the same value with torch built-ins (spec.torch_code).

    `sources` may give the code that produced pred / target (e.g. a seeded torch.randn) to write
    instead of the numbers; what it draws is then converted to the dtype the built-in received (a seeded
    torch.randint of 0/1 labels becomes float for a loss with float targets)."""
    spec = result.spec
    sources = sources or {}
    ref = result.reference
    dtype = ref.dtype if ref is not None else "float32"
    device = ref.device if ref is not None else "cpu"
    if spec is None or not spec.torch_code.strip():
        return f"# {result.loss}: {_say('no_builtin', 'en')}\n"
    lines = ["import torch", "import torch.nn.functional as F", ""]
    for name, tin in (("pred", result.pred), ("target", result.target)):
        if name in sources:
            lines.append(sources[name].rstrip())
            conversion = _conversion_code(tin.values, dtype, device, name) if tin is not None else ""
            if conversion:
                lines.append(conversion)
        elif tin is not None:
            lines.append(_tensor_code(tin.values, dtype, device, name))
    lines.append(f"reduction = {result.reduction!r}")
    for name, value in result.params.items():
        if isinstance(value, torch.Tensor):
            lines.append(_tensor_code(value, dtype, device, name))
        elif isinstance(value, float):
            lines.append(f"{name} = {_py_number(value)}")
        else:
            lines.append(f"{name} = {value!r}")
    head, expr = split_torch_code(spec.torch_code)
    lines.append("")
    if head:
        lines.append(head)
    if "\n" in expr:
        lines.append("loss = (\n" + "\n".join("    " + x for x in expr.splitlines()) + "\n)")
    else:
        lines.append(f"loss = {expr}")
    lines += ["torch.set_printoptions(precision=6)", f"print(loss)  # lossapp: {value_text(result.value)}"]
    return "\n".join(lines) + "\n"


# -- downloads ---------------------------------------------------------------------------------------


def to_json(result: Result, *, verdict: Any = None, indent: int | None = 2, full: bool = False) -> str:
    """The result as the JSON of DESIGN.md section 4 (with "check" when a verdict is given): bounded, or every
    element with full=True."""
    data = result.to_dict(full=full)
    if verdict is not None:
        data["check"] = json_safe(verdict.to_dict() if hasattr(verdict, "to_dict") else verdict)
    return json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)


def to_csv(result: Result, rows: int | None = None) -> str:
    """The per-element table as spreadsheet-safe CSV (list-valued cells written as JSON lists): every row, or
    the first `rows`."""
    return csv_text(result.table(rows))

