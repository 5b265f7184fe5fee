"""lossapp.ui.field_errors: the error modal of a tab's computation marks the inputs at fault, for the page's
script to show the message next to them (browser-tested in tests/test_browser_share.py)."""

from __future__ import annotations

import pytest

import lossapp
from lossapp.inputs import InputError
from lossapp.ui import build_app
from lossapp.ui.common import as_gradio_errors, gr, user_error
from lossapp.ui.field_errors import FIELD_ERRORS_JS, marker, marking


def test_the_marker_names_the_inputs_in_its_classes() -> None:
    with pytest.raises(InputError) as info:
        lossapp.compute("bce", "[0.2, 0.3]", "[1, 0, 0]")
    assert marker(info.value) == '<span hidden class="la-fields la-at-pred la-at-target"></span>'
    with pytest.raises(InputError) as info:
        lossapp.compute("smooth_l1", "[0.1]", "[1]", beta=-1)
    assert marker(info.value) == '<span hidden class="la-fields la-at-param-beta"></span>'
    assert marker(InputError("a message about nothing in particular")) == ""
    assert "span.la-fields" in FIELD_ERRORS_JS and "la-at-" in FIELD_ERRORS_JS


def _handler(lang: str, pred: str) -> float:
    with as_gradio_errors(lang, "a test"):
        return lossapp.compute("bce", pred, "[1, 0]").scalar


def test_a_marked_handler_adds_the_marker_after_the_message() -> None:
    with pytest.raises(InputError) as bad:
        lossapp.compute("bce", "[0.2, x]", "[1, 0]")
    plain = user_error(bad.value, "zh").message
    with pytest.raises(gr.Error) as unmarked:
        _handler("zh", "[0.2, x]")
    assert unmarked.value.message == plain  # the handler itself is unchanged
    with pytest.raises(gr.Error) as marked:
        marking(_handler)("zh", "[0.2, x]")
    assert "期望" in plain and marked.value.message == plain + '<span hidden class="la-fields la-at-pred"></span>'
    assert marking(_handler)("en", "[0.2, 0.3]") == pytest.approx(_handler("en", "[0.2, 0.3]"))
    with pytest.raises(gr.Error) as other:  # a gr.Error that is not about an input passes as it is
        marking(lambda: (_ for _ in ()).throw(gr.Error("plain")))()
    assert other.value.message == "plain"


def test_the_app_marks_its_computations() -> None:
    demo = build_app()
    marked = [fn.fn for fn in demo.fns.values() if getattr(fn.fn, "marks_fields", False)]
    assert {fn.__wrapped__.__name__ for fn in marked} == {"on_compute", "on_check", "on_counts", "on_masks"}
    assert len(marked) >= 7  # Compute, Check (button and Enter), the confusion counts and masks, each run from a link
