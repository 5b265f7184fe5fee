import html
import json
import math
import os
import pickle
import re
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from pseudo_locale import write_pseudo_locale

import lossapp
import lossapp.ui  # noqa: F401  (the app's strings)
from lossapp import i18n
from lossapp.inputs import (
    InputError,
    load_file,
    param_name,
    random_inputs,
    read_tensor,
    require_finite,
    require_probabilities,
)
from lossapp.reduction import reduce
from lossapp.registry import lookup
from lossapp.spreadsheet import writable_path
from lossapp.trace import Trace
from lossapp.ui.common import user_error


def test_tr_renders_messages_and_falls_back_to_english() -> None:
    assert i18n.tr(i18n.msg("reduction.mean_title"), "zh") == "均值归约"
    assert i18n.tr(i18n.msg("reduction.mean_title"), "en") == "Mean reduction"
    assert i18n.tr("no such sentence", "zh") == "no such sentence"
    assert i18n.tr(i18n.msg("reduction.count_note", count=3), "zh") == "n = 3 个元素"


def test_a_file_in_the_name_is_translated_with_the_rest() -> None:
    """'NAME (from FILE): REST' (a message about a file's content) -> 'NAME（来自 FILE）：' and REST's Chinese,
    with 'parameter X' as '参数 X', whatever the file's name holds: the name and the file are fields."""
    def about(file: str, name: object = "pred") -> i18n.Message:
        return i18n.msg("inputs.from_file", name=name, file=file)

    cases = {
        i18n.msg("inputs.too_many_elements", name=about("'a.csv'"), limit=5, count=6):
            ("pred (from 'a.csv'): expected at most 5 elements, got 6", "pred（来自 'a.csv'）：最多允许 5 个元素，实际为 6 个"),
        i18n.msg("inputs.too_many_dims", name=about("'w.npy'", param_name("weight")), limit=2, count=3):
            ("parameter weight (from 'w.npy'): expected at most 2 dimensions, got 3",
             "参数 weight（来自 'w.npy'）：最多允许 2 维，实际为 3 维"),
        i18n.msg("inputs.not_a_number_at", name=about("'a:b.csv'", "target"), word="'x'",
                 where=i18n.msg("inputs.at_character", char=1)):
            ("target (from 'a:b.csv'): expected a number, got 'x' at character 1",
             "target（来自 'a:b.csv'）：期望一个数，但第 1 个字符处是 'x'"),
        i18n.msg("inputs.too_many_elements", name=about("'a): b.csv'"), limit=5, count=6):
            ("pred (from 'a): b.csv'): expected at most 5 elements, got 6", "pred（来自 'a): b.csv'）：最多允许 5 个元素，实际为 6 个"),
        i18n.msg("inputs.ragged_lines", name=about(i18n.msg("inputs.symlink", link="'l.csv'", target="'/d/r (from x): y.csv'")),
                 count0=2, line0=1, count=1, line=2):
            ("pred (from 'l.csv' -> '/d/r (from x): y.csv'): expected 2 values on every line (like line 1), got 1 on line 2",
             "pred（来自 'l.csv' -> '/d/r (from x): y.csv'）：期望每一行都有 2 个值（与第 1 行相同），但第 2 行有 1 个"),
    }
    for message, (english, chinese) in cases.items():
        assert message == english and message.render("zh") == chinese
    # not about a file: ' (from ' in quoted text is only text
    quoted = i18n.msg("inputs.not_a_number_at", name="pred", word="'x (from y): z'", where=i18n.msg("inputs.at_character", char=1))
    assert quoted.render("zh") == "pred：期望一个数，但第 1 个字符处是 'x (from y): z'"


def test_names_may_hold_colons() -> None:
    """A name is a field: whatever it holds, the message around it is the catalog's."""
    assert i18n.msg("inputs.too_many_elements", name="a: b", limit=5, count=6).render("zh") == "a: b：最多允许 5 个元素，实际为 6 个"
    assert i18n.msg("inputs.tensor_nothing", name="pred").render("zh") == "pred：期望一个张量，但没有给出"


# -- messages by id ------------------------------------------------------------------------------------

def _fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_catalog_has_every_english_id_with_the_same_fields() -> None:
    english = i18n.catalog("en")
    for lang in i18n.LANGUAGES[1:]:
        other = i18n.catalog(lang)
        assert sorted(set(english) ^ set(other)) == [], lang
        wrong = {k: (english[k], other[k]) for k in english if _fields(english[k]) != _fields(other[k])}
        assert wrong == {}, lang


def test_a_message_is_its_english_and_renders_in_any_language() -> None:
    inner = i18n.msg("common.expected_got", expected="a number", got="'x'")
    message = i18n.msg("common.named", name="pred", message=inner)
    assert message == "pred: expected a number, got 'x'" and json.dumps(message) == json.dumps(str(message))
    assert i18n.tr(message, "zh") == "pred：期望 a number，实际为 'x'" == message.render("zh")
    assert pickle.loads(pickle.dumps(message)).render("zh") == message.render("zh")
    assert i18n.has_zh(message) and i18n.message_ids(message) == {"common.named", "common.expected_got"}
    with pytest.raises(KeyError):
        i18n.msg("common.no_such_id")


def test_input_error_carries_its_id_and_fields() -> None:
    error = InputError("common.expected_got", expected="a number", got="'x'")
    assert str(error) == "expected a number, got 'x'" and error.id == "common.expected_got"
    assert error.render("zh") == i18n.localize(error, "zh") == "期望 a number，实际为 'x'" and i18n.has_zh(error)


def test_a_language_is_one_catalog_file(tmp_path, monkeypatch) -> None:
    """A pseudo-locale made from the English catalog, in a folder named by LOSSAPP_LOCALE_DIRS, is found and
    renders every message wrapped."""
    pseudo = write_pseudo_locale(tmp_path)
    monkeypatch.setenv(i18n.LOCALE_DIRS_ENV, str(tmp_path))
    i18n.catalog.cache_clear()
    try:
        assert pseudo in i18n._languages()
        message = i18n.msg("common.named", name="pred", message=i18n.msg("common.expected_got", expected="a", got="b"))
        assert message.render(pseudo) == "⟦pred: ⟦expected a, got b⟧⟧"
    finally:
        monkeypatch.delenv(i18n.LOCALE_DIRS_ENV)
        i18n.catalog.cache_clear()


# -- every id exists; a pseudo-locale leaves no English ------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
_ID_LITERAL = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")
_FILE_EXTENSIONS = {"py", "toml", "json", "csv", "txt", "md", "html", "css", "js", "npy", "npz", "pt"}


def test_every_message_id_in_the_source_is_in_the_english_catalog() -> None:
    """Every literal that names a message (msg("inputs.x"), InputError("registry.y"), an id in a table of
    ids) is an id of en.toml: a string whose first part is one of the catalog's tables."""
    english = i18n.catalog("en")
    tables = {key.split(".")[0] for key in english}
    used, missing = set(), []
    for path in sorted([*(ROOT / "lossapp").rglob("*.py"), ROOT / "app.py"]):
        for match in _ID_LITERAL.finditer(path.read_text(encoding="utf-8")):
            key = match.group(1)
            if key.split(".")[0] in tables and key.rsplit(".", 1)[1] not in _FILE_EXTENSIONS:
                used.add(key)
                if key not in english:
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing
    assert {"inputs.tensor_nothing", "registry.unknown_loss", "reduction.mean_title", "spreadsheet.path"} <= used


def _outside_brackets(text: str) -> str:
    """The characters of `text` outside every ⟦ ⟧."""
    depth, kept = 0, []
    for char in text:
        depth += (char == "⟦") - (char == "⟧")
        if depth == 0 and char not in "⟦⟧":
            kept.append(char)
    return "".join(kept)


def _leaves(message: object) -> list[str]:
    """The plain (not Message) field values a message is rendered with: numbers, names, the user's text."""
    if not isinstance(message, i18n.Message):
        return [str(message)]
    return [leaf for value in message.fields.values() for leaf in _leaves(value)]


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_ENGLISH = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")  # two words in a row: a phrase, not a name


def _bad_inputs(folder: Path) -> list[Callable[[], object]]:
    (folder / "a.csv").write_text("1, 2\n3\n", encoding="utf-8")
    return [
        lambda: read_tensor("[[1, 2], [3]]", "pred"),
        lambda: read_tensor("[1, x]", "target"),
        lambda: read_tensor("[1, 2", "pred"),
        lambda: load_file(folder / "a.csv", param_name("weight")),
        lambda: load_file(folder / "missing.npy", "pred"),
        lambda: require_probabilities(torch.tensor([0.5, 2.0]), "pred"),
        lambda: lookup("huber").resolve_params({"delta": "abc"}),
        lambda: lookup("huber").resolve_params({"bogus": 1}),
        lambda: lookup("bcee"),
        lambda: random_inputs(0, ["randint(3, 2)"]),
        lambda: reduce(Trace(), torch.zeros(2), "bogus"),
        lambda: writable_path(""),
    ]


@pytest.fixture
def pseudo(tmp_path, monkeypatch):
    folder = tmp_path / "locales"
    folder.mkdir()
    lang = write_pseudo_locale(folder)
    monkeypatch.setenv(i18n.LOCALE_DIRS_ENV, str(folder))
    i18n.catalog.cache_clear()
    yield lang, folder
    monkeypatch.delenv(i18n.LOCALE_DIRS_ENV)
    i18n.catalog.cache_clear()


def test_the_pseudo_locale_leaves_no_english_in_input_errors(pseudo, tmp_path) -> None:
    """Real bad inputs through the input layer, the registry, the reduction and the CSV writer: rendered in
    the pseudo-locale, every word a user reads comes from the catalog (inside ⟦ ⟧); outside it only the
    fields' numbers, names and quoted user text."""
    lang, _ = pseudo
    for bad in _bad_inputs(tmp_path):
        with pytest.raises(InputError) as info:
            bad()
        rendered = i18n.localize(info.value, lang)
        assert rendered.startswith("⟦") and _outside_brackets(rendered) == "", rendered
        phrases = [leaf for leaf in _leaves(info.value.message) if _ENGLISH.search(_QUOTED.sub("", leaf))]
        assert not phrases, (str(info.value), phrases)
        toast = html.unescape(user_error(info.value, lang).message)  # the app's error modal says the same
        assert toast == rendered
    warning = i18n.tr(require_finite(torch.tensor([math.inf]), "pred", allow_inf=True)[0], lang)
    assert warning.startswith("⟦") and _outside_brackets(warning) == ""


def test_the_cli_error_line_in_the_pseudo_locale(pseudo, tmp_path) -> None:
    """`python -m lossapp <loss> ... --lang qps`: a language is one catalog file (LOSSAPP_LOCALE_DIRS), --lang
    takes it, and the error line is the catalog's, wrapped whole."""
    lang, folder = pseudo
    (tmp_path / "w.csv").write_text("1, 2\n3\n", encoding="utf-8")
    env = {**os.environ, i18n.LOCALE_DIRS_ENV: str(folder)}
    runs = [["mse", "--pred", "[1, x]", "--target", "[1, 2]"],
            ["mse", "--pred", f"@{tmp_path / 'w.csv'}", "--target", "[1, 2]"],
            ["bcee", "--pred", "[0.5]", "--target", "[1]"],
            ["huber", "--pred", "[1]", "--target", "[1]", "--param", "delta=abc", "--json"]]
    for args in runs:
        done = subprocess.run([sys.executable, "-m", "lossapp", *args, "--lang", lang], capture_output=True,
                              text=True, encoding="utf-8", env=env, cwd=ROOT, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        line = done.stderr.strip().removeprefix("error: ")
        assert "\n" not in line and line.startswith("⟦") and _outside_brackets(line) == "", line
        if "--json" in args:
            assert json.loads(done.stdout) == {"error": line}
