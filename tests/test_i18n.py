import json
import pickle
import string

import pytest
from pseudo_locale import write_pseudo_locale

import lossapp
import lossapp.ui  # noqa: F401  (the app's strings)
from lossapp import i18n


def test_no_english_string_has_two_different_translations() -> None:
    assert not i18n.CONFLICTS, i18n.CONFLICTS


def test_tr_falls_back_to_english_and_uses_patterns() -> None:
    assert i18n.tr("Mean reduction", "zh") == "均值归约"
    assert i18n.tr("Mean reduction", "en") == "Mean reduction"
    assert i18n.tr("no such sentence", "zh") == "no such sentence"
    assert i18n.tr("n = 3 elements", "zh") == "n = 3 个元素"


def test_a_file_in_the_name_is_translated_with_the_rest() -> None:
    """'NAME (from FILE): REST' (a message about a file's content) -> 'NAME（来自 FILE）：' and REST's Chinese,
    with 'parameter X' as '参数 X', whatever the file's name holds."""
    cases = {
        "pred (from 'a.csv'): expected at most 5 elements, got 6": "pred（来自 'a.csv'）：最多允许 5 个元素，实际为 6 个",
        "parameter weight (from 'w.npy'): expected at most 2 dimensions, got 3":
            "参数 weight（来自 'w.npy'）：最多允许 2 维，实际为 3 维",
        "target (from 'a:b.csv'): expected a number, got 'x' at character 1": "target（来自 'a:b.csv'）：期望一个数，但第 1 个字符处是 'x'",
        "pred (from 'a): b.csv'): expected at most 5 elements, got 6": "pred（来自 'a): b.csv'）：最多允许 5 个元素，实际为 6 个",
        "pred (from 'l.csv' -> '/d/r (from x): y.csv'): expected 2 values on every line (like line 1), got 1 on line 2":
            "pred（来自 'l.csv' -> '/d/r (from x): y.csv'）：期望每一行都有 2 个值（与第 1 行相同），但第 2 行有 1 个",
    }
    for english, chinese in cases.items():
        assert i18n.tr(english, "zh") == chinese
    # not about a file: ' (from ' in quoted text changes nothing
    assert i18n.tr("pred: expected a number, got 'x (from y): z' at character 1", "zh") == (
        "pred：期望一个数，但第 1 个字符处是 'x (from y): z'")
    assert i18n.tr("pred (from 'a.csv'): no such sentence", "zh") == "pred (from 'a.csv'): no such sentence"


def test_names_may_hold_colons() -> None:
    """lossapp.inputs.zh's patterns take the shortest name followed by ': ' and a message they know."""
    assert i18n._translate_by_pattern("pred (from 'a:b.csv'): expected at most 5 elements, got 6") == (
        "pred (from 'a:b.csv')：最多允许 5 个元素，实际为 6 个")
    assert i18n._translate_by_pattern("a: b: expected at most 5 elements, got 6") == "a: b：最多允许 5 个元素，实际为 6 个"
    assert i18n._translate_by_pattern("pred: expected a tensor, got nothing") == "pred：期望一个张量，但没有给出"


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
    from lossapp.inputs import InputError

    error = InputError("common.expected_got", expected="a number", got="'x'")
    assert str(error) == "expected a number, got 'x'" and error.id == "common.expected_got"
    assert error.render("zh") == i18n.render(error, "zh") == "期望 a number，实际为 'x'" and i18n.has_zh(error)


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
