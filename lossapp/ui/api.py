"""The HTTP API (DESIGN.md section 7): /compute, /check and /confusion,
returning the JSON of section 4. Bad input comes back as a Gradio error with the InputError message.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    client.predict("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32",
                   api_name="/compute")["value"]        # 0.926341...
"""

from __future__ import annotations

from typing import Any

from lossapp.inputs import InputError
from lossapp.ui import service
from lossapp.ui.common import gr


def _error(exc: InputError) -> gr.Error:
    return gr.Error(str(exc), print_exception=False)


def compute(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
            device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """Compute a loss step by step and compare it with PyTorch's built-in.

    loss: a name or alias (bce, cross_entropy, nn.SmoothL1Loss, ...). pred / target: tensors as text
    ("[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"); target empty for penalties. params: a JSON object with the
    loss's parameters ({"beta": 0.5}, {"weight": [1, 2, 3]}). reduction: none / mean / sum / batchmean
    (empty: the loss's default). device: cpu (cuda / mps where present). dtype: float16 / bfloat16 /
    float32 / float64. Returns {"loss", "params", "reduction", "value", "steps", "reference", "gradient",
    "warnings", ...}.
    """
    try:
        result = service.compute(loss, pred, target, service.parse_params_text(params), reduction, device, dtype)
    except InputError as exc:
        raise _error(exc) from None
    return service.result_json(result)


def check(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
          device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """Compute a loss (as /compute) and judge a claimed answer: the result JSON plus "check" with the
    verdict (exact / convention / mistake / rounding / incorrect), the claim's decimals, the attainable
    interval, an explanation and the known mistakes that reproduce the claim."""
    try:
        if not str(claimed).strip():
            raise InputError("claimed: expected a number such as 0.9264, got nothing")
        parsed = service.parse_params_text(params)
        result = service.compute(loss, pred, target, parsed, reduction, device, dtype)
        verdict = service.check(result, claimed)
    except InputError as exc:
        raise _error(exc) from None
    return service.result_json(result, verdict)


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
    """Add the endpoints to the Blocks being built; returns their names."""
    names = ["compute", "check", "confusion"]
    gr.api(compute, api_name="compute", concurrency_limit=4)
    gr.api(check, api_name="check", concurrency_limit=4)
    gr.api(confusion, api_name="confusion", concurrency_limit=4)
    return names
