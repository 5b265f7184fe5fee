"""The HTTP API (DESIGN.md section 7): /compute, /check and /confusion,
returning the JSON of section 4. Bad input of any kind (wrong JSON types included) comes back as a Gradio
error (title "Error") with the InputError's message; any other exception is a bug: logged on the server with
its traceback, answered with a fixed message and a reference (title "Internal error"), never its internals.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    client.predict("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32",
                   api_name="/compute")["value"]        # 0.926341...

The JSON is bounded (under 1 MB for any input): each step carries its shown elements with its full shape and
the count shown; the reduction and the comparisons always cover every element. /compute_full and /check_full
take the same arguments and answer every element instead, as large as the input makes it. They are endpoints
of their own, not a trailing `full` argument of /compute and /check: Gradio's `/gradio_api/call/<name>` refuses
a call with fewer values than the endpoint has inputs (defaults are filled only by gradio_client), so an extra
argument would break the documented 7-value (/check: 8-value) call.
"""

# No `from __future__ import annotations` here: Gradio reads each endpoint's type hints on every call
# (typing.get_type_hints), and string annotations would be compiled and evaluated again each time.
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lossapp import service
from lossapp.inputs import InputError
from lossapp.ui.common import bounded, gr, internal_error
from lossapp.ui.concurrency import compute_events


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


def _answer(endpoint: str, inputs: tuple[Any, ...], *, full: bool, checking: bool = False,
            claimed: Any = None) -> dict[str, Any]:
    """The JSON of one /compute or /check call; `inputs`: loss, pred, target, params, reduction, device, dtype
    as received. `checking`: a claim is required (an empty one is the checker's own InputError)."""
    loss, pred, target, params, reduction, device, dtype = inputs
    with _answering(endpoint):
        result = service.compute(loss, pred, target, service.parse_params_text(params), reduction, device, dtype)
        verdict = service.check(result, claimed, required=True) if checking else None
        return service.result_json(result, verdict, full=full)


def compute(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
            device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """Compute a loss step by step and compare it with PyTorch's built-in.

    loss: a name or alias (bce, cross_entropy, nn.SmoothL1Loss, ...). pred / target: tensors as text
    ("[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"); target empty for penalties. params: a JSON object with the
    loss's parameters ({"beta": 0.5}, {"weight": [1, 2, 3]}). reduction: none / mean / sum / batchmean
    (empty: the loss's default). device: cpu (cuda / mps where present). dtype: float16 / bfloat16 /
    float32 / float64. Returns {"loss", "params", "reduction", "value", "steps", "reference", "gradient",
    "warnings", ...}, bounded (under 1 MB: each step's first elements with its shape and the count shown; the
    value, the reduction and the comparisons over every element); /compute_full gives every element.
    """
    return _answer("/compute", (loss, pred, target, params, reduction, device, dtype), full=False)


def compute_full(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
                 device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """As /compute (the same arguments), with every element of every step and of the gradients in the JSON,
    as large as the input makes it."""
    return _answer("/compute_full", (loss, pred, target, params, reduction, device, dtype), full=True)


def check(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
          device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """Compute a loss (as /compute) and judge a claimed answer: the result JSON plus "check" with the
    verdict (exact / convention / mistake / rounding / incorrect), the claim's decimals, the attainable
    interval, an explanation and the known mistakes that reproduce the claim. Bounded as /compute;
    /check_full gives every element."""
    return _answer("/check", (loss, pred, target, params, reduction, device, dtype), full=False, checking=True,
                   claimed=claimed)


def check_full(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
               device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """As /check (the same arguments), with every element of every step and of the gradients in the JSON."""
    return _answer("/check_full", (loss, pred, target, params, reduction, device, dtype), full=True, checking=True,
                   claimed=claimed)


def confusion(tp: int, fp: int, fn: int, tn: int | None = None, claimed: str | float | None = None,
              metric: str = "dice") -> dict[str, Any]:
    """Metrics from confusion counts (article 003: 20, 5, 10, 65): precision, recall, F1 = Dice, Dice
    loss, IoU, accuracy, specificity, MCC; "value" is the chosen metric (default dice). With a claimed
    answer the JSON gains "check"."""
    with _answering("/confusion"):
        result = service.confusion(tp, fp, fn, tn, metric)
        return service.result_json(result, service.check(result, claimed))


def register() -> list[str]:
    """Add the endpoints to the Blocks being built; their names. The computing ones share the computations'
    workers (lossapp.ui.concurrency); /confusion is arithmetic on four counts."""
    computing = {"compute": compute, "compute_full": compute_full, "check": check, "check_full": check_full}
    for name, fn in computing.items():
        gr.api(fn, api_name=name, **compute_events())
    gr.api(confusion, api_name="confusion")
    return [*computing, "confusion"]
