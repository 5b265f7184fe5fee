"""The HTTP API (DESIGN.md section 7): /compute, /check and /confusion,
returning the JSON of section 4. Bad input of any kind (wrong JSON types included) comes back as a Gradio
error (title "Error") with the InputError's message; any other exception is a bug: logged on the server with
its traceback, answered with a fixed message and a reference (title "Internal error"), never its internals.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    client.predict("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32",
                   api_name="/compute")["value"]        # 0.926341...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lossapp.inputs import InputError
from lossapp.ui import service
from lossapp.ui.common import bounded, gr, internal_error


@contextmanager
def _answering(endpoint: str) -> Iterator[None]:
    """What an endpoint raises: a gr.Error with the InputError's message (plain text: API clients read it as
    it is), or internal_error for anything else."""
    try:
        yield
    except InputError as exc:
        raise gr.Error(bounded(str(exc)), print_exception=False) from None
    except Exception as exc:
        raise internal_error(exc, endpoint) from None


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
    with _answering("/compute"):
        result = service.compute(loss, pred, target, service.parse_params_text(params), reduction, device, dtype)
        return service.result_json(result)


def check(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
          device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """Compute a loss (as /compute) and judge a claimed answer: the result JSON plus "check" with the
    verdict (exact / convention / mistake / rounding / incorrect), the claim's decimals, the attainable
    interval, an explanation and the known mistakes that reproduce the claim."""
    with _answering("/check"):
        result = service.compute(loss, pred, target, service.parse_params_text(params), reduction, device, dtype)
        return service.result_json(result, service.check(result, claimed, required=True))


def confusion(tp: int, fp: int, fn: int, tn: int | None = None, claimed: str | float | None = None,
              metric: str = "dice") -> dict[str, Any]:
    """Metrics from confusion counts (article 003: 20, 5, 10, 65): precision, recall, F1 = Dice, Dice
    loss, IoU, accuracy, specificity, MCC; "value" is the chosen metric (default dice). With a claimed
    answer the JSON gains "check"."""
    with _answering("/confusion"):
        result = service.confusion(tp, fp, fn, tn, metric)
        return service.result_json(result, service.check(result, claimed))


def register() -> list[str]:
    """Add the endpoints to the Blocks being built; returns their names."""
    names = ["compute", "check", "confusion"]
    gr.api(compute, api_name="compute", concurrency_limit=4)
    gr.api(check, api_name="check", concurrency_limit=4)
    gr.api(confusion, api_name="confusion", concurrency_limit=4)
    return names
