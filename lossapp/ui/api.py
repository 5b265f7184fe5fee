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
from lossapp.ui.concurrency import compute_events, compute_processes
from lossapp.workers import ChildError, ComputeProcesses

SMALL_CHARS = 64 * 1024  # text of a call a compute process answers: up to some 10,000 elements, a few ms
PROCESSES = ComputeProcesses(compute_processes())  # started by lossapp.ui.app.launch once the server answers


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
    as received. `checking`: a claim is required (an empty one is the checker's own InputError). A small CPU call
    is answered by a compute process (lossapp.workers) when one is free, any other in this thread."""
    answered = None
    if _small_cpu_call(inputs):
        with _answering(endpoint):
            answered = PROCESSES.answer(inputs, full=full, checking=checking, claimed=claimed)
    if answered is None:
        with _answering(endpoint):
            return service.answer_json(inputs, full=full, checking=checking, claimed=claimed)
    kind, value = answered
    if kind == "ok":
        return value
    if kind == "input":
        raise gr.Error(bounded(value), print_exception=False)
    raise internal_error(ChildError(value), endpoint)


def _small_cpu_call(inputs: tuple[Any, ...]) -> bool:
    """Text only, at most SMALL_CHARS of it, on the CPU: the calls whose cost is Python's, not torch's kernels'
    (a large call spends its time in kernels that release the GIL, and would be copied through a pipe)."""
    if not all(isinstance(x, str) or x is None for x in inputs):
        return False
    device = (inputs[5] or "cpu").strip().lower()
    return device == "cpu" and sum(len(x) for x in inputs if x) <= SMALL_CHARS


def compute(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
            device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """Compute a loss step by step and compare it with PyTorch's built-in.

    The steps run in float64; the value and the gradient are compared with the built-in's on the chosen device
    and dtype. Example: loss "bce", pred "[0.2947, 0.5898, 0.4863]", target "[1, 0, 0]" gives value 0.926341 (article 002).

    Args:
        loss: the loss's name or an alias: bce, bce_with_logits, cross_entropy, nll, kl_div, focal, dice, iou, mse, l1, smooth_l1, huber, hinge, ... or a torch class name such as nn.SmoothL1Loss.
        pred: the prediction tensor as text, e.g. "[0.2947, 0.5898, 0.4863]" or "[[2.0, 0.5], [0.1, 3.0]]".
        target: the target tensor as text, e.g. "[1, 0, 0]" (class indices, 0/1 labels or values); empty for the penalties.
        params: the loss's parameters as a JSON object, e.g. {"beta": 0.5} or {"weight": [1, 2, 3]}; "{}" for the defaults.
        reduction: none, mean, sum or batchmean; empty for the loss's own default.
        device: cpu (cuda or mps where the server has one).
        dtype: the dtype of PyTorch's reference run: float16, bfloat16, float32 or float64.

    Returns:
        The result as JSON: loss, params, reduction, value, steps (symbol, title, formula in LaTeX, value), reference (torch's value and whether it agrees), gradient, warnings. Bounded (under 1 MB): each step keeps its first elements with its shape; /compute_full gives every element.
    """
    return _answer("/compute", (loss, pred, target, params, reduction, device, dtype), full=False)


def compute_full(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
                 device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """As /compute (the same arguments), with every element of every step and of the gradients in the JSON,
    as large as the input makes it."""
    return _answer("/compute_full", (loss, pred, target, params, reduction, device, dtype), full=True)


def check(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
          device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """Judge a claimed answer to a loss computation: exact, convention (another library's convention gives it), mistake (a known wrong computation gives it), rounding (inputs rounded as written could give it) or incorrect.

    Example: loss "bce", pred "[0.2947, 0.5898, 0.4863]", target "[1, 0, 0]", claimed "0.9264" gives verdict rounding (true value 0.926341).

    Args:
        loss: the loss's name or an alias (bce, cross_entropy, focal, dice, mse, ...), as for compute.
        pred: the prediction tensor as text, e.g. "[0.2947, 0.5898, 0.4863]".
        target: the target tensor as text, e.g. "[1, 0, 0]"; empty for the penalties.
        params: the loss's parameters as a JSON object, e.g. {"gamma": 2.0}; "{}" for the defaults.
        reduction: none, mean, sum or batchmean; empty for the loss's own default.
        device: cpu (cuda or mps where the server has one).
        dtype: the dtype of PyTorch's reference run: float16, bfloat16, float32 or float64.
        claimed: the answer to judge as written, e.g. "0.9264" (its decimals matter: 0.93 is judged to 2 decimals).

    Returns:
        The result JSON of compute plus "check": claimed, value, verdict (exact / convention / mistake / rounding / incorrect), decimals, interval (the values attainable with the inputs rounded as written), explanation and the mistakes that reproduce the claim. Bounded as compute; /check_full gives every element.
    """
    return _answer("/check", (loss, pred, target, params, reduction, device, dtype), full=False, checking=True,
                   claimed=claimed)


def check_full(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "",
               device: str = "cpu", dtype: str = "float32", claimed: str = "") -> dict[str, Any]:
    """As /check (the same arguments), with every element of every step and of the gradients in the JSON."""
    return _answer("/check_full", (loss, pred, target, params, reduction, device, dtype), full=True, checking=True,
                   claimed=claimed)


def confusion(tp: int, fp: int, fn: int, tn: int | None = None, claimed: str | float | None = None,
              metric: str = "dice") -> dict[str, Any]:
    """Metrics from the counts of a confusion matrix: precision, recall, F1 = Dice, Dice loss, IoU, accuracy, specificity and MCC, optionally judging a claimed value of the chosen metric.

    Example: tp 20, fp 5, fn 10, tn 65 (article 003) gives dice 0.727273.

    Args:
        tp: true positives (a count >= 0).
        fp: false positives.
        fn: false negatives.
        tn: true negatives; may be omitted for the metrics that do not use it (accuracy, specificity and MCC need it).
        claimed: a claimed value of the chosen metric to judge, e.g. "0.7273"; empty for none.
        metric: the metric the value is: dice (default), dice_loss, f1, precision, recall, iou, accuracy, specificity or mcc.

    Returns:
        JSON with value (the chosen metric), metrics (every metric), the worked steps and, with a claim, "check" with its verdict.
    """
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
