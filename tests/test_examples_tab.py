"""The article-examples tab (lossapp/ui/examples_tab.py): each card names its article by title (never the seed
file's hash name), shows the article's own number only where it prints one, and the verdict with what it detected."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import pytest

from lossapp.ui import examples_tab

CARDS = {card.example.name: card for card in examples_tab.load_cards()}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cards_name_the_articles_by_title(lang: str) -> None:
    for name, card in CARDS.items():
        text = examples_tab.card_markdown(card, lang)
        assert card.example.source not in text and ".txt" not in text, name
    zh = examples_tab.card_markdown(CARDS["003_focal_pixels"], "zh")
    assert "【深度学习】损失函数记录" in zh
    en = examples_tab.card_markdown(CARDS["002_bce_three_pixels"], "en")
    assert "Understanding and summarising common loss functions" in en


def test_unprinted_numbers_are_lossapps_not_the_articles() -> None:
    md = examples_tab.card_markdown(CARDS["000_ce_three_classes"], "en")
    assert "| — | **0.916291** | — |" in md and "lossapp's value, not the article's" in md
    md = examples_tab.card_markdown(CARDS["003_confusion_counts"], "en")
    assert "| — |" in md and "Dice = 40/55 = 0.7273 is lossapp's value, not the article's" in md
    assert "| 0.9264 | **0.926341** | `rounding` |" in examples_tab.card_markdown(CARDS["002_bce_three_pixels"], "en")


def test_the_alpha_on_both_classes_card_shows_the_detection() -> None:
    md = examples_tab.card_markdown(CARDS["003_focal_alpha_both"], "en")
    assert "| — | **0.251424** | `mistake` (`alpha_on_both_classes`) |" in md
    assert "checked claim: 0.1039 (not printed in the article: the value its formula gives)" in md
    zh = examples_tab.card_markdown(CARDS["003_focal_alpha_both"], "zh")
    assert "检查的答案：0.1039" in zh and "alpha_on_both_classes" in zh

