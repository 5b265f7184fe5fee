"""The one error type for user mistakes, and the helpers that write its messages."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

from lossapp.i18n import Message, is_message_id, msg, tr
from lossapp.inputs import limits


class InputError(ValueError):
    """A user mistake: the message says what was expected and what was found.

    `InputError("inputs.too_many_elements", limit=..., got=...)` carries the catalog id and its fields
    (`.message`, a `lossapp.i18n.Message`; `.render(lang)` for any language); `str()` is the English.
    A ready Message may be passed as the one argument."""

    def __init__(self, message: str, /, **fields: object) -> None:
        if fields or (not isinstance(message, Message) and is_message_id(message)):
            message = msg(message, **fields)
        super().__init__(message)

    @property
    def message(self) -> str:
        return self.args[0]

    @property
    def id(self) -> str | None:
        return self.message.id if isinstance(self.message, Message) else None

    def render(self, lang: str = "en") -> str:
        return tr(self.message, lang)


def index_text(flat_index: int, shape: Sequence[int]) -> str:
    """'3' for a vector, '(0, 1)' for a matrix position, '' for a scalar."""
    if not shape:
        return ""
    idx = tuple(int(i) for i in np.unravel_index(int(flat_index), tuple(shape)))
    return str(idx[0]) if len(idx) == 1 else "(" + ", ".join(map(str, idx)) + ")"


def at_index(flat_index: int, shape: Sequence[int]) -> str:
    """' at index 3' (a Message), or '' for a scalar."""
    where = index_text(flat_index, shape)
    return msg("inputs.at_index", index=where) if where else ""


def param_name(name: str) -> Message:
    """How a message names a loss parameter: 'parameter weight'."""
    return msg("inputs.parameter", name=name)


def shape_text(shape: tuple[int, ...] | torch.Size) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def bytes_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            if unit == "bytes":
                return msg("inputs.bytes", count=f"{n:.0f}")
            return f"{n:.0f} {unit}" if n == int(n) else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def quote(text: object, limit: int | None = None) -> str:
    """The user's text as a bounded excerpt for a message: repr() of at most about `limit` characters (an
    escape such as '\\x00' counts its own length), with an ellipsis and the total length when longer
    ('abc…' (1,048,576 characters))."""
    text = text if isinstance(text, str) else str(text)
    return quote_span(text, 0, len(text), limit)


def quote_span(text: str, start: int, end: int, limit: int | None = None) -> str:
    """quote(text[start:end]), copying no more of the text than the excerpt."""
    limit = limits.MAX_QUOTED_CHARS if limit is None else limit
    head = text[start:min(end, start + limit)]
    shown = repr(head)
    if end - start <= limit and len(shown) <= limit + 2:
        return shown
    widths = itertools.accumulate(len(repr(c)) - 2 for c in head)
    keep = sum(1 for width in widths if width <= limit)
    return msg("inputs.quoted_excerpt", excerpt=repr(head[:keep]), count=end - start)


def type_name(value: object) -> str:
    """A value's type for a message ('dict', 'None'); a class name that is not a short identifier (one made
    with type() can be anything) is 'object'."""
    if value is None:
        return "None"
    name = type(value).__name__
    return name if name.isidentifier() and len(name) <= limits.MAX_QUOTED_CHARS else "object"


FIELD_NAMES = ("pred", "target", "tp", "fp", "fn", "tn")  # inputs a message's `name`, `a` or `b` field may name
# messages about an input that none of their fields names: the confusion matrix's metric (and the TN it needs)
FIELDS_OF_MESSAGE = {"confusion.needs_tn": ("tn", "metric"), "confusion.unknown_metric": ("metric",)}


def fields_at_fault(error: InputError) -> tuple[str, ...]:
    """The inputs an error is about, read from its message's id and fields (never its text), for showing the
    message next to them: "pred", "target", a confusion count ("tp", ...), "param:<name>" for a loss
    parameter, "claimed" for a claimed answer; () when it names none.

    Some ids name their inputs in FIELDS_OF_MESSAGE (the confusion matrix's "metric"). A field `name`, `a` or `b`
    names an input (`inputs.parameter` for a parameter); an id of the `check.claim_*`
    family is about the claim; a loss module's `<module>.error.pred_*` / `target_*` id about pred / target.

        >>> fields_at_fault(InputError("inputs.same_shape", a="pred", b="target", shape_a="(2,)", shape_b="(3,)",
        ...                            hint=""))
        ('pred', 'target')
    """
    message = error.message
    if not isinstance(message, Message):
        return ()
    found: list[str] = list(FIELDS_OF_MESSAGE.get(message.id or "", ()))
    for key in ("name", "a", "b"):
        value = message.fields.get(key)
        if isinstance(value, Message) and value.id == "inputs.parameter":
            found.append(f"param:{value.fields.get('name')}")
        elif isinstance(value, str) and value in FIELD_NAMES:
            found.append(str(value))
    table, _, name = message.id.partition(".")
    if table == "check" and name.startswith("claim_"):
        found.append("claimed")
    module_part = message.id.split(".error.", 1)
    if len(module_part) == 2:
        found += [name for name in ("pred", "target") if module_part[1].startswith(f"{name}_")]
    return tuple(dict.fromkeys(found))
