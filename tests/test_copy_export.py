"""lossapp.ui.copy_export and the LaTeX download: the copy buttons' script in every language, the worked
solution's own copy button, the .tex written in the reader's language (browser-tested in
tests/test_browser_share.py)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

import lossapp
from lossapp.ui import calculator
from lossapp.ui.common import gr
from lossapp.ui.copy_export import copy_js, wire
from lossapp.ui.downloads import DOWNLOADS


def test_the_script_carries_every_languages_words() -> None:
    script = copy_js()
    assert "复制此公式的 LaTeX" in script and "Copy this formula's LaTeX" in script
    assert "#la-solution" in script and "#la-value" in script and 'annotation[encoding="application/x-tex"]' in script


def test_the_worked_solution_gets_its_copy_button() -> None:
    with gr.Blocks():
        solution = gr.Markdown("$$L = 1$$")
    wire(solution)
    assert solution.get_config()["buttons"] == ["copy"]


def test_the_latex_download_is_in_the_readers_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DOWNLOADS, "_root", tmp_path)
    monkeypatch.setattr(DOWNLOADS, "_keys", set())
    result = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    state = {"result": result, "verdict": None, "sources": {}, "stamp": 1, "key": secrets.token_hex(8)}
    path = Path(calculator.write_download("tex", state, "zh"))
    assert path.name == "bce_solution_zh.tex"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("% !TEX program = xelatex") and "{ctexart}" in text and "二元交叉熵" in text
