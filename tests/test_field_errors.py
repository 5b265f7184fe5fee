"""lossapp.ui.field_errors: the error modal marks the inputs at fault, for the page's script to show the message
next to them (browser-tested in tests/test_browser_share.py)."""

from __future__ import annotations

import pytest

import lossapp
from lossapp.inputs import InputError
from lossapp.ui.common import as_gradio_errors, gr, user_error
from lossapp.ui.field_errors import FIELD_ERRORS_JS, marker


def test_the_marker_names_the_inputs_in_its_classes() -> None:
    with pytest.raises(InputError) as info:
        lossapp.compute("bce", "[0.2, 0.3]", "[1, 0, 0]")
    assert marker(info.value) == '<span hidden class="la-fields la-at-pred la-at-target"></span>'
    with pytest.raises(InputError) as info:
        lossapp.compute("smooth_l1", "[0.1]", "[1]", beta=-1)
    assert marker(info.value) == '<span hidden class="la-fields la-at-param-beta"></span>'
    assert marker(InputError("a message about nothing in particular")) == ""
    assert "span.la-fields" in FIELD_ERRORS_JS and "la-at-" in FIELD_ERRORS_JS


def test_the_app_error_carries_the_marker_after_the_message() -> None:
    with pytest.raises(InputError) as bad:
        lossapp.compute("bce", "[0.2, x]", "[1, 0]")
    with pytest.raises(gr.Error) as info, as_gradio_errors("zh", "a test"):
        raise bad.value
    plain = user_error(bad.value, "zh").message
    assert "期望" in plain and info.value.message == plain + '<span hidden class="la-fields la-at-pred"></span>'
