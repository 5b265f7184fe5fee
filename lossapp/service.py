"""What the UI and the HTTP API call: thin, gradio-free wrappers around the library.

Everything here raises `lossapp.InputError` for bad input; the gradio layer turns it into `gr.Error`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

import lossapp
from lossapp import inputs
from lossapp.confusion_metrics import confusion_from_masks
from lossapp.examples import load_examples, run_example
from lossapp.i18n import msg
from lossapp.inputs import InputError, TensorInput, quote, read_params, read_tensor, shape_text
from lossapp.inputs.random_specs import generator_spec, spec_torch_code
from lossapp.reference import DTYPES, available_devices
from lossapp.registry import FAMILIES, LOSSES, LossSpec, check_param_names, lookup
from lossapp.result import Result, json_safe
from lossapp.verdicts import check_result

if TYPE_CHECKING:
    import numpy as np

TABLE_ROWS = 500          # rows of the per-element table sent to the browser (the downloads have them all)
CSV_ROWS = 1_000_000      # rows of the table's CSV download (the .npz download has every element)
FILE_TYPES = inputs.FILE_TYPES  # .csv .tsv .txt .json .npy .npz .pt .pth


# -- the registry, for the pickers -------------------------------------------------------------------


def calculator_specs() -> list[LossSpec]:
    """Losses the calculator offers: every registered spec except the count-based metrics."""
    return [s for s in LOSSES.values() if s.kind == "loss"]


def families() -> list[str]:
    present = {s.family for s in calculator_specs()}
    return [f for f in FAMILIES if f in present]


def specs_in(family: str) -> list[LossSpec]:
    return [s for s in calculator_specs() if s.family == family]


def devices() -> list[str]:
    return available_devices()


def dtypes() -> list[str]:
    return list(DTYPES)


# -- parameters --------------------------------------------------------------------------------------


def parse_params_text(text: str | dict | None) -> dict[str, Any]:
    """The HTTP API's params: a JSON object as text (never evaluated), or already a dict; lists become text
    for the tensor parameters' controls."""
    return {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in read_params(text).items()}


def control_values(spec: LossSpec, values: dict[str, Any]) -> dict[str, Any]:
    """UI control values of one spec's parameters -> keyword arguments for compute (text trimmed)."""
    out: dict[str, Any] = {}
    for p in spec.params:
        if p.name not in values:
            continue
        v = values[p.name]
        if isinstance(v, str):
            v = v.strip()
        if isinstance(v, float) and p.kind == "int" and v == int(v):
            v = int(v)
        out[p.name] = v
    return out


# -- compute / check / confusion (Python objects) ----------------------------------------------------


def _empty(value: Any) -> bool:
    """None or blank text: a field left empty (0, [] and {} are values, checked by the library)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _or_default(value: Any, default: str) -> Any:
    return default if _empty(value) else value


def compute(loss: str, pred: Any, target: Any, params: dict[str, Any], reduction: str | None, device: str | None,
            dtype: str | None) -> Result:
    spec = lookup(loss)
    check_param_names(spec, params)
    if spec.kind == "metric":  # from counts: no reduction, device or dtype
        return lossapp.compute(spec.name, pred, target, **params)
    return lossapp.compute(spec.name, pred, None if _empty(target) else target,
                           reduction=_or_default(reduction, spec.default_reduction),
                           device=_or_default(device, "cpu"), dtype=_or_default(dtype, "float32"), **params)


def check(result: Result, claimed: Any, *, required: bool = False) -> Any:
    """The verdict on a claimed answer about a computed result; None when no claim is given, unless one is
    `required` (the /check endpoint): then an empty claim is the checker's own InputError."""
    if _empty(claimed) and not required:
        return None
    return check_result(result, claimed)


def result_json(result: Result, verdict: Any = None, full: bool = False) -> dict[str, Any]:
    """The JSON of DESIGN.md section 4 (plus "check" with a verdict): bounded, or every element with full=True."""
    data = result.to_dict(full=bool(full))
    if verdict is not None:
        data["check"] = json_safe(verdict.to_dict() if hasattr(verdict, "to_dict") else verdict)
    return data


def answer_json(inputs: tuple[Any, ...], *, full: bool = False, checking: bool = False,
                claimed: Any = None) -> dict[str, Any]:
    """The JSON of one HTTP /compute or /check call (lossapp.ui.api; lossapp.workers' children answer with it);
    `inputs`: loss, pred, target, params (JSON text or a dict), reduction, device, dtype as received.
    `checking`: a claim is required (an empty one is the checker's own InputError).

        answer_json(("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32"))["value"]
        # 0.926341...
    """
    loss, pred, target, params, reduction, device, dtype = inputs
    result = compute(loss, pred, target, parse_params_text(params), reduction, device, dtype)
    verdict = check(result, claimed, required=True) if checking else None
    return result_json(result, verdict, full=full)


def confusion(tp: Any, fp: Any, fn: Any, tn: Any = None, metric: str = "dice") -> Result:
    return lossapp.confusion(tp, fp, fn, None if _empty(tn) else tn, metric=_or_default(metric, "dice"))


def confusion_masks(pred: Any, target: Any, threshold: float, metric: str = "dice") -> Result:
    return confusion_from_masks(pred, target, threshold=threshold, metric=_or_default(metric, "dice"))


# -- inputs: files and seeded random tensors ---------------------------------------------------------


def load_file(path: str | Path, name: str) -> TensorInput:
    """A tensor from an uploaded file through the library's safe loaders (no pickle)."""
    return inputs.load_file(str(path), name)


@dataclass(frozen=True)
class RandomKind:
    key: str     # an input kind of lossapp.inputs.random_specs.KIND_GENERATORS
    label: str


RANDOM_KINDS = (
    RandomKind("logits", msg("service.kind_logits")),
    RandomKind("probabilities", msg("service.kind_probabilities")),
    RandomKind("distribution", msg("service.kind_distribution")),
    RandomKind("log_probabilities", msg("service.kind_log_probabilities")),
    RandomKind("classes", msg("service.kind_classes")),
    RandomKind("mask", msg("service.kind_mask")),
)
_KIND = {k.key: k for k in RANDOM_KINDS}


def _random_kind(kind: str | None, class_dim: bool) -> str:
    """The generator kind (RANDOM_KINDS) of a valid input of a loss's input kind (LossSpec.pred_kind /
    target_kind, or what its `input` parameter says): probabilities over a class dimension are distributions
    (softmax rows), log-probabilities their logs; class-index targets are classes, 0/1 or ±1 labels and counts a
    mask, the rest (values, logits, scores, weights) standard normal."""
    if kind in ("classes", "classes_or_probabilities"):
        return "classes"
    if kind in ("binary", "signs", "counts"):
        return "mask"
    if kind == "probabilities":
        return "distribution" if class_dim else "probabilities"
    if kind == "log_probabilities":
        return "log_probabilities"
    return "logits"


def default_random_kinds(spec: LossSpec, params: dict[str, Any] | None = None) -> tuple[str, str | None]:
    """The random kinds that make a valid pred and target for `spec` under `params` (its `input` parameter says
    what pred holds): read from the spec's kinds and flags. A target of probabilities is a distribution along the
    same dimension as pred's (KL divergence's log q against p), and so is pred then."""
    # probabilities compared with a target distribution (KL divergence, entropy) are one too
    pred = _random_kind(spec.input_kind(params), spec.class_dim or spec.target_kind == "probabilities")
    if spec.target_kind is None:
        return pred, None
    return pred, _random_kind(spec.target_kind, class_dim=True)


def parse_shape(text: Any, name: str = "shape") -> tuple[int, ...]:
    """'2, 3' or '(2, 3)' or '[2, 3]' -> (2, 3): positive integers only."""
    body = str(text if text is not None else "").strip().strip("()[]").strip()
    if not body:
        raise InputError("service.shape_empty", name=name)
    parts = [p for p in re.split(r"[,\s×x]+", body) if p]
    if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise InputError("service.shape_not_integers", name=name, got=quote(str(text)))
    shape = tuple(int(p) for p in parts)
    if any(s < 1 for s in shape) or len(shape) > 6:
        raise InputError("service.shape_sizes", name=name, got=quote(str(text)))
    count = math.prod(shape)
    if count > inputs.limits.MAX_RANDOM_ELEMENTS:
        raise InputError("service.too_many_random", name=name, limit=inputs.limits.MAX_RANDOM_ELEMENTS, count=count)
    return shape


def random_specs(pred_shape: tuple[int, ...], pred_kind: str, target_kind: str | None, classes: int | None,
                 class_target: bool) -> tuple[str, str | None]:
    """The article-style generator specs for pred and target (pred first, then target, one seed)."""
    for kind in (pred_kind, target_kind):
        if kind is not None and kind not in _KIND:
            raise InputError("service.random_kind", kinds=", ".join(_KIND), got=quote(str(kind)))
    c = int(classes) if classes is not None else (pred_shape[1] if len(pred_shape) > 1 else pred_shape[0])
    if not 1 <= c <= inputs.limits.MAX_RANDOM_ELEMENTS:
        raise InputError("service.classes", limit=inputs.limits.MAX_RANDOM_ELEMENTS,
                         got=quote(classes) if isinstance(classes, str) else repr(classes))
    target_shape = pred_shape
    if class_target and target_kind == "classes":
        target_shape = (pred_shape[0], *pred_shape[2:]) if len(pred_shape) > 1 else ()
    pred = generator_spec(pred_kind, pred_shape, c)
    target = None if target_kind is None else generator_spec(target_kind, target_shape, c)
    return pred, target


def random_tensors(seed: int, specs: list[str]) -> list[torch.Tensor]:
    """torch.manual_seed(seed), then each spec in order: exactly the articles' tensors
    (lossapp.inputs.random_inputs: parsed, never evaluated)."""
    return [torch.as_tensor(t) for t in inputs.random_inputs(int(seed), list(specs))]


def spec_code(name: str, spec: str) -> str:
    """`randn(2, 3)` -> `pred = torch.randn(2, 3)`; `log_softmax(2, 3)` -> `pred = torch.randn(2, 3).log_softmax(dim=1)`."""
    return f"{name} = {spec_torch_code(spec)}"


def tensor_text(t: torch.Tensor) -> str:
    """A tensor as exact text: every float written with the digits that give back the same value."""
    data = t.detach().cpu()
    if data.is_floating_point():
        array = data.double().numpy()
        return json.dumps(array.tolist()) if array.ndim else repr(float(array))
    return json.dumps(data.tolist())


def _whole_number(value: Any, name: str, expected: str) -> int:
    """A number box's value as an int (2.0 -> 2); an InputError for text, inf, nan or a fraction."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
        if number != int(number):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise InputError("service.whole_number", name=name, expected=expected, got=quote(str(value))) from None
    return int(number)


def generated_text(t: torch.Tensor) -> str:
    """A generated tensor as text a person reads: a float32 one (torch.randn, torch.rand) with the shortest decimals
    that give back the same float32 (1.540996, not its float64 expansion 1.5409960746765137), so the boxes show
    7-digit numbers and the float32 tensors built from them are exactly the generator's; others as tensor_text."""
    data = t.detach().cpu()
    if data.dtype != torch.float32:
        return tensor_text(data)
    shortest = [float(str(v)) for v in data.numpy().reshape(-1)]  # numpy's str: the shortest float32 repr
    if data.dim() == 0:
        return repr(shortest[0])
    return json.dumps(torch.tensor(shortest, dtype=torch.float64).reshape(data.shape).tolist())


@dataclass(frozen=True)
class RandomInput:
    pred_text: str
    target_text: str | None
    code: str               # torch.manual_seed(s); pred = torch.randn(...); target = ...
    sources: dict[str, str]  # for render.torch_snippet


def random_input(seed: Any, shape: Any, pred_kind: str, target_kind: str | None, classes: Any,
                 spec: LossSpec) -> RandomInput:
    seed_value = _whole_number(seed, "seed", msg("service.an_integer"))
    pred_shape = parse_shape(shape)
    class_target = spec.target_kind in ("classes", "classes_or_probabilities")
    c = None if _empty(classes) else _whole_number(classes, "classes", msg("service.a_number_of_classes"))
    c = c or None  # 0 (an empty number box): pred's classes
    pred_spec, target_spec = random_specs(pred_shape, pred_kind, target_kind if spec.target_kind else None, c,
                                          class_target)
    specs = [pred_spec] + ([target_spec] if target_spec else [])
    tensors = random_tensors(seed_value, specs)
    lines = [f"torch.manual_seed({seed_value})", spec_code("pred", pred_spec)]
    sources = {"pred": "\n".join(lines)}
    if target_spec:
        lines.append(spec_code("target", target_spec))
        sources["target"] = spec_code("target", target_spec)
    return RandomInput(generated_text(tensors[0]), generated_text(tensors[1]) if target_spec else None,
                       "\n".join(lines), sources)


def snippet_sources(random: dict[str, Any] | None, pred_text: str, target_text: str) -> dict[str, str]:
    """The seeded generator code for the snippet, while the text boxes still hold what it generated (the snippet
    converts what it draws to the dtype and device the built-in ran on)."""
    if not random or random.get("pred_text") != pred_text:
        return {}
    if random.get("target_text") is not None and random.get("target_text") != target_text:
        return {}
    return dict(random.get("sources") or {})


# -- tables ------------------------------------------------------------------------------------------


def complete_gradients(result: Result) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(the trace's, the built-in's) gradient with respect to pred, every element (replayed when the Result keeps
    only the shown ones); None without a gradient."""
    grad = result.gradient
    if grad is None:
        return None
    if grad.complete:
        return grad.manual_shown.reshape(grad.shape), grad.reference_shown.reshape(grad.shape)
    return grad.replay.gradients() if grad.replay is not None else None


def element_arrays(result: Result) -> dict[str, np.ndarray]:
    """Every element's numbers for the .npz download: loss (the unreduced loss), gradient (the trace's
    ∂L/∂pred) and gradient_reference (the built-in's, in its dtype)."""
    arrays = {}
    if result.unreduced is not None:
        arrays["loss"] = result.unreduced.detach().cpu().numpy()
    gradients = complete_gradients(result)
    if gradients is not None:
        arrays["gradient"] = gradients[0].detach().cpu().double().numpy()
        reference = gradients[1].detach().cpu()
        arrays["gradient_reference"] = (reference if reference.dtype != torch.bfloat16 else reference.float()).numpy()
    return arrays


def file_summary(value: Any, name: str) -> str:
    t = read_tensor(value, name).values
    return msg("service.file_summary", name=name, shape=shape_text(tuple(t.shape)), count=t.numel())


def example_source() -> tuple[Callable[[], list[Any]], Callable[[Any], tuple[Any, Any]]]:
    """(load_examples, run_example) of lossapp.examples."""
    return load_examples, run_example


def example_inputs(example: Any) -> tuple[Any, Any]:
    """pred and target text of an example (seeded random ones generated and written exactly)."""
    if hasattr(example, "inputs"):
        pred, target = example.inputs()
    else:
        pred, target = example.get("pred"), example.get("target")
    return (pred if isinstance(pred, str) or pred is None else tensor_text(torch.as_tensor(pred)),
            target if isinstance(target, str) or target is None else tensor_text(torch.as_tensor(target)))


def example_field(example: Any, name: str, default: Any = None) -> Any:
    if isinstance(example, dict):
        return example.get(name, default)
    return getattr(example, name, default)


def example_sources(example: Any) -> dict[str, str]:
    random = example_field(example, "random")
    if not random:
        return {}
    lines = [f"torch.manual_seed({int(random.get('seed', 0))})"]
    sources: dict[str, str] = {}
    if "pred" in random:
        lines.append(spec_code("pred", str(random["pred"])))
        sources["pred"] = "\n".join(lines)
    if "target" in random:
        sources["target"] = spec_code("target", str(random["target"]))
    return sources
