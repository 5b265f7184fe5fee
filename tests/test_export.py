"""lossapp.export.to_latex: the worked solution as a LaTeX document, in the reader's language. It is compiled
when a TeX engine (xelatex / lualatex) is installed; otherwise its structure is checked."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import lossapp
from lossapp import render
from lossapp.export import escape, to_latex
from lossapp.i18n import msg, tr
from lossapp.registry import LOSSES

BCE = ("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
CASES = [
    (BCE, {}),
    (("cross_entropy", "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]", "[0, 2]"), {"weight": "[1, 2, 3]", "label_smoothing": 0.1}),
    (("focal", "[0.45, 0.7]", "[1, 0]"), {"input": "probabilities"}),
    (("mse", "[" + ", ".join(str(i / 100) for i in range(200)) + "]", "[" + ", ".join(["0"] * 200) + "]"), {}),
]


def _outside_math_and_escapes(tex: str) -> str:
    body = re.sub(r"\\\[.*?\\\]", "", tex, flags=re.S)
    body = re.sub(r"\$[^$]*\$", "", body)
    return re.sub(r"\\[{}$&#%_]|\\\^\{\}|\\textbackslash\{\}|\\textasciitilde\{\}", "", body)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_escape_keeps_math_and_escapes_the_rest() -> None:
    assert escape("50% of a_b & {c} #1 ~ ^") == r"50\% of a\_b \& \{c\} \#1 \textasciitilde{} \^{}"
    assert escape(r"the max shift $e^{x-m}$ and $$\sum_n l_n$$") == r"the max shift $e^{x-m}$ and $$\sum_n l_n$$"
    assert escape("back\\slash") == r"back\textbackslash{}slash"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("args", "params"), CASES)
def test_the_document_holds_every_step_in_the_language(args, params, lang) -> None:
    result = lossapp.compute(*args, **params)
    tex = to_latex(result, lang)
    assert tex.startswith("% !TEX program = xelatex\n")
    assert ("\\documentclass[11pt,UTF8]{ctexart}" in tex) == (lang == "zh")
    assert tex.count("\\begin{document}") == 1 and tex.rstrip().endswith("\\end{document}")
    assert tex.count("\\paragraph{") == len(result.steps)
    for k, step in enumerate(result.steps, start=1):
        assert f"\\paragraph{{{k}. {escape(tr(step.title, lang))}}}" in tex
        assert f"\\[ {step.formula} \\]" in tex
    assert tex.count("\\begin{itemize}") == tex.count("\\end{itemize}")
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 1
    assert _balanced(tex) and "$" not in _outside_math_and_escapes(tex)
    assert result.reference.name.replace("_", r"\_") in tex


def test_the_verdict_and_its_explanation() -> None:
    verdict = lossapp.check(*BCE, claimed="0.9264")
    tex = to_latex(lossapp.compute(*BCE), "zh", verdict=verdict)
    assert "\\texttt{rounding}" in tex and "0.9264" in tex
    assert f"\\subsection*{{{escape(msg('render.claimed_answer').render('zh'))}}}" in tex
    assert escape(render.verdict_explanation(verdict, "zh")) in tex


ENGINE = shutil.which("xelatex") or shutil.which("lualatex")


@pytest.mark.skipif(ENGINE is None, reason="no TeX engine (xelatex / lualatex) installed: the structure is tested")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_document_compiles(tmp_path, lang) -> None:
    verdict = lossapp.check(*BCE, claimed="0.4023")
    (tmp_path / "solution.tex").write_text(to_latex(lossapp.compute(*BCE), lang, verdict=verdict), encoding="utf-8")
    done = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "solution.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "solution.pdf").stat().st_size > 1000


@pytest.mark.skipif(ENGINE is None, reason="no TeX engine (xelatex / lualatex) installed: the structure is tested")
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_example_compiles(tmp_path, name, lang) -> None:
    example = LOSSES[name].example or {}
    result = lossapp.compute(name, example.get("pred"), example.get("target"), **(example.get("params") or {}))
    (tmp_path / "solution.tex").write_text(to_latex(result, lang), encoding="utf-8")
    done = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "solution.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "solution.pdf").stat().st_size > 1000
