"""Every text a registered loss writes is a catalog message (lossapp.i18n.Message) with its Chinese: the spec's
title, summary and parameter descriptions, and the title and note of every step it writes (the reduction's
included) for its example input, under each of its reductions. A plain English string fails, even one an older
back-translation table would know."""

from __future__ import annotations

import pytest
from stray_english import stray_english

import lossapp
from lossapp.i18n import Message, has_zh
from lossapp.registry import LOSSES


def _untranslated(texts: list[str]) -> list[str]:
    """The texts that are not a Message, or whose Message has an id the Chinese catalog lacks."""
    return [t for t in texts if not isinstance(t, Message) or not has_zh(t)]


@pytest.mark.parametrize("name", list(LOSSES))
def test_spec_texts_are_messages_with_chinese(name: str) -> None:
    spec = LOSSES[name]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params)]
    assert _untranslated(texts) == []
    # the reference's name (the badge's "matches X"): code (a library function, a torch expression) or a Message
    reference = spec.reference_name
    assert stray_english(reference, {p.name for p in spec.params}) == [] or _untranslated([reference]) == [], reference


@pytest.mark.parametrize("name", list(LOSSES))
def test_step_titles_and_notes_are_messages_with_chinese(name: str) -> None:
    spec = LOSSES[name]
    example = spec.example
    for reduction in spec.reductions:
        result = lossapp.compute(name, example["pred"], example.get("target"), reduction=reduction, dtype="float64",
                                 **example.get("params", {}))
        texts = [text for step in result.steps for text in (step.title, step.note) if text]
        assert texts, reduction
        assert _untranslated(texts) == [], reduction
