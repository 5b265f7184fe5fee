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
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread

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


INLINE_CHARS = 4_096  # a CPU call whose text arguments are this short at most runs on the server's event loop


def _runs_inline(device: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call is small enough to run on the event loop: on the CPU, every argument text (or absent, or a
    number), INLINE_CHARS characters in all. The inputs are written out element by element (a random spec is
    refused, and pred, target and a tensor parameter must agree in shape), so such a call has at most ~2,000 elements
    and computes in 1-3 ms (/check in 3-7 ms): about what Gradio's own handling of one request costs the event loop."""
    if not isinstance(device, str | None) or (device or "cpu").strip().lower() != "cpu":
        return False  # an accelerator's first call initializes it (seconds), and each call waits for it
    size = 0
    for value in (*args, *kwargs.values()):
        if isinstance(value, str):
            size += len(value)
        elif value is not None and not isinstance(value, int | float):
            return False  # a JSON list or object sent instead of text: its size is not read here
    return size <= INLINE_CHARS


def _endpoint(fn: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """`fn` as the coroutine Gradio calls: a small call (_runs_inline) runs at once on the event loop, any other in a
    worker thread, as Gradio runs a plain function. Same name, signature, type hints and docstring (the API page and
    the MCP tools read them) and the same answer.

    Why: a plain function is handed to a worker thread, and under load a 100-element /compute then cost the server
    ~1 ms of CPU more than its 0.8 ms: the hand-over itself, and every torch call in it (~300) releases the GIL, which
    the event loop, busy with other requests, takes, so the call resumes on cold caches again and again (bench_http.py
    at 8 clients: 5.4-6.1 ms of CPU per request in a worker, 4.3-5.2 ms inline; the echo app's 4.7-5.8)."""
    position = list(inspect.signature(fn).parameters).index("device")

    @functools.wraps(fn)
    async def endpoint(*args: Any, **kwargs: Any) -> dict[str, Any]:
        device = args[position] if len(args) > position else kwargs.get("device", "cpu")
        if _runs_inline(device, args, kwargs):
            return fn(*args, **kwargs)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    return endpoint


def register() -> list[str]:
    """Add the endpoints to the Blocks being built; their names. The computing ones share the computations'
    workers (lossapp.ui.concurrency), small ones on the event loop (_endpoint); /confusion is arithmetic on four
    counts."""
    computing = {"compute": compute, "compute_full": compute_full, "check": check, "check_full": check_full}
    for name, fn in computing.items():
        gr.api(_endpoint(fn), api_name=name, **compute_events())
    gr.api(confusion, api_name="confusion")
    return [*computing, "confusion"]
