"""LaTeX formulas as plain Unicode text, for the terminal (the app renders the LaTeX itself)."""

from __future__ import annotations

import re
import unicodedata

_SYMBOLS = {
    r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\epsilon": "ε", r"\varepsilon": "ε",
    r"\lambda": "λ", r"\theta": "θ", r"\sigma": "σ", r"\mu": "μ", r"\pi": "π", r"\tau": "τ", r"\cdot": "·",
    r"\times": "×", r"\sum": "Σ", r"\prod": "Π", r"\le": "≤", r"\leq": "≤", r"\ge": "≥", r"\geq": "≥",
    r"\ne": "≠", r"\neq": "≠", r"\infty": "∞", r"\approx": "≈", r"\in": "∈", r"\cap": "∩", r"\cup": "∪",
    r"\mid": "|", r"\lvert": "|", r"\rvert": "|", r"\|": "‖", r"\to": "→", r"\rightarrow": "→", r"\partial": "∂",
    r"\log": "log", r"\ln": "ln", r"\exp": "exp", r"\max": "max", r"\min": "min", r"\quad": "  ", r"\qquad": "    ",
    r"\,": " ", r"\;": " ", r"\!": "", r"\left": "", r"\right": "", r"\displaystyle": "", r"\operatorname": "",
    r"\Theta": "Θ", r"\Delta": "Δ", r"\nabla": "∇", r"\neg": "¬", r"\land": "∧", r"\lor": "∨", r"\lfloor": "⌊",
    r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉", r"\langle": "⟨", r"\rangle": "⟩", r"\ell": "ℓ", r"\eta": "η", r"\rho": "ρ", r"\phi": "φ", r"\omega": "ω", r"\kappa": "κ",
    r"\ ": " ", r"\{": "{", r"\}": "}", r"\%": "%", r"\_": "_",
}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}


def _group(text: str, start: int) -> tuple[str, int]:
    """The {...} group starting at text[start] (or a single character) and the index after it."""
    if start >= len(text):
        return "", start
    if text[start] != "{":
        return text[start], start + 1
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
    return text[start + 1:], len(text)


def _simple(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.·|ŷ\u0302\u0303\u0304]+", text))


def latex_to_text(latex: str) -> str:
    """A readable approximation of a LaTeX formula: \\frac{a}{b} -> a/b, \\hat{y} -> ŷ, \\sum -> Σ."""
    out: list[str] = []
    i = 0
    text = latex
    while i < len(text):
        if text.startswith(r"\frac", i) or text.startswith(r"\tfrac", i) or text.startswith(r"\dfrac", i):
            i = text.index("frac", i) + 4
            num, i = _group(text, i)
            den, i = _group(text, i)
            num, den = latex_to_text(num), latex_to_text(den)
            out.append(f"{num if _simple(num) else '(' + num + ')'}/{den if _simple(den) else '(' + den + ')'}")
            continue
        if text.startswith(r"\sqrt", i):
            arg, i = _group(text, i + 5)
            out.append(f"√({latex_to_text(arg)})")
            continue
        m = re.match(r"\\(text|mathrm|mathbf|mathit|operatorname|textrm|boldsymbol|mathcal|mathbb)\b", text[i:])
        if m:
            arg, i = _group(text, i + m.end())
            out.append(latex_to_text(arg))
            continue
        m = re.match(r"\\(hat|tilde|bar)\b", text[i:])
        if m:
            arg, i = _group(text, i + m.end())
            arg = latex_to_text(arg)
            out.append(arg + _ACCENTS[m.group(1)] if len(arg) == 1 else f"{m.group(1)}({arg})")
            continue
        m = re.match(r"\\begin\{(cases|array|matrix|pmatrix|aligned)\}(\{[^}]*\})?", text[i:])
        if m:
            end = text.find(r"\end{" + m.group(1) + "}", i)
            body = text[i + m.end(): end if end >= 0 else len(text)]
            rows = [latex_to_text(r).replace("&", " ").strip() for r in body.split(r"\\")]
            out.append("{ " + "; ".join(r for r in rows if r) + " }")
            i = (end + len(r"\end{" + m.group(1) + "}")) if end >= 0 else len(text)
            continue
        m = re.match(r"\\[A-Za-z]+|\\[,;!| {}%_]", text[i:])
        if m:
            out.append(_SYMBOLS.get(m.group(0), m.group(0)[1:]))
            i += m.end()
            continue
        if text[i] in "^_":
            command = re.match(r"\\[A-Za-z]+", text[i + 1:])
            arg, j = (command.group(0), i + 1 + command.end()) if command else _group(text, i + 1)
            arg = latex_to_text(arg)
            out.append(text[i] + (arg if len(arg) == 1 else "{" + arg + "}") if text[i] == "^" else "_" + (
                arg if len(arg) == 1 else "{" + arg + "}"))
            i = j
            continue
        if text[i] in "{}":
            i += 1
            continue
        out.append(text[i])
        i += 1
    return unicodedata.normalize("NFC", re.sub(r"[ ]{2,}", " ", "".join(out)).strip())
