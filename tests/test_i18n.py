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
