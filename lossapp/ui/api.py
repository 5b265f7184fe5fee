"""The HTTP API (DESIGN.md section 7): /compute, /check and /confusion,
returning the JSON of section 4. Bad input comes back as a Gradio error with the InputError message.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    client.predict("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32",
                   api_name="/compute")["value"]        # 0.926341...

The JSON is bounded (under 1 MB for any input): each step carries its shown elements with its full shape and
the count shown; the reduction and the comparisons always cover every element. The optional last argument
`full` (true) asks for every element instead, as large as the input makes it.
"""

# No `from __future__ import annotations` here: Gradio reads each endpoint's type hints on every call
# (typing.get_type_hints), and string annotations would be compiled and evaluated again each time.
from typing import Any

from lossapp.inputs import InputError
from lossapp.ui import service
from lossapp.ui.common import gr
from lossapp.ui.concurrency import compute_events


def _error(exc: InputError) -> gr.Error:
    return gr.Error(str(exc), print_exception=False)


def compute(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
            device: str = "cpu", dtype: str = "float32", full: bool = False) -> dict[str, Any]:
    """Compute a loss step by step and compare it with PyTorch's built-in.

    loss: a name or alias (bce, cross_entropy, nn.SmoothL1Loss, ...). pred / target: tensors as text
    ("[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"); target empty for penalties. params: a JSON object with the
    loss's parameters ({"beta": 0.5}, {"weight": [1, 2, 3]}). reduction: none / mean / sum / batchmean
    (empty: the loss's default). device: cpu (cuda / mps where present). dtype: float16 / bfloat16 /
    float32 / float64. full: false (default) for the bounded JSON (under 1 MB: each step's first elements with
    its shape and the count shown; the value, the reduction and the comparisons over every element), true for
    every element of every step and of the gradients. Returns {"loss", "params", "reduction", "value", "steps",
    "reference", "gradient", "warnings", ...}.
    """
    try:
        result = service.compute(loss, pred, target, service.parse_params_text(params), reduction, device, dtype)
    except InputError as exc:
        raise _error(exc) from None
    return service.result_json(result, full=full)


def check(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
          device: str = "cpu", dtype: str = "float32", claimed: str = "", full: bool = False) -> dict[str, Any]:
    """Compute a loss (as /compute) and judge a claimed answer: the result JSON plus "check" with the
    verdict (exact / convention / mistake / rounding / incorrect), the claim's decimals, the attainable
    interval, an explanation and the known mistakes that reproduce the claim. full: as for /compute (false:
    the bounded JSON; true: every element)."""
    try:
        if not str(claimed).strip():
            raise InputError("claimed: expected a number such as 0.9264, got nothing")
        parsed = service.parse_params_text(params)
        result = service.compute(loss, pred, target, parsed, reduction, device, dtype)
        verdict = service.check(result, claimed)
    except InputError as exc:
        raise _error(exc) from None
    return service.result_json(result, verdict, full=full)


def confusion(tp: int, fp: int, fn: int, tn: int | None = None, claimed: str | float | None = None,
              metric: str = "dice") -> dict[str, Any]:
    """Metrics from confusion counts (article 003: 20, 5, 10, 65): precision, recall, F1 = Dice, Dice
    loss, IoU, accuracy, specificity, MCC; "value" is the chosen metric (default dice). With a claimed
    answer the JSON gains "check"."""
    try:
        result = service.confusion(tp, fp, fn, tn, metric)
        verdict = None
        if claimed is not None and str(claimed).strip():
            verdict = service.check(result, claimed)
    except InputError as exc:
        raise _error(exc) from None
    return service.result_json(result, verdict)


def register() -> list[str]:
    """Add the endpoints to the Blocks being built; their names. /compute and /check share the computations'
    workers (lossapp.ui.concurrency); /confusion is arithmetic on four counts."""
    names = ["compute", "check", "confusion"]
    gr.api(compute, api_name="compute", **compute_events())
    gr.api(check, api_name="check", **compute_events())
    gr.api(confusion, api_name="confusion")
    return names
