"""The answer checker: is a claimed answer exact, another library's convention, a known mistake, right up
to the rounding of the inputs, or incorrect?

    v = lossapp.check("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", claimed="0.9264")
    v.verdict        # 'rounding': 0.926341 rounds to 0.9263, but the inputs were rounded too
    v.interval       # [0.92621.., 0.92647..]: the loss over every input that rounds to the written ones
    lossapp.check("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", claimed="0.4023").mistakes  # [log10]

Verdicts (DESIGN.md section 6), in order of precedence:

- exact: the true value rounded to the claim's decimals equals the claim ("0.92640" has 5 decimals; a
  float claim uses its shortest repr). PyTorch's own value in the chosen dtype counts too.
- convention: the problem under another library's convention (`lossapp.conventions`) reproduces it.
- mistake: a known wrong computation (`lossapp.mistakes`) reproduces it; every one that does is listed.
- rounding: the values that round to the claim overlap the sound enclosure of the loss over the inputs'
  rounding box (`lossapp.interval`); never given when no enclosure is established.
- incorrect: none of these; the explanation says how far off the claim is (absolute, relative, in units
  of its last decimal) and, where a single change to one step reproduces it, which step.

Evidence (DESIGN.md section 6). A variant reproduces a claim when its value rounds to it, or else when its own
enclosure over the inputs' rounding box (`Variant.interval`) holds values that round to it: "-0.9264" for article 002
is `missing_minus` although −0.926341 rounds to −0.9263. A variant reached only over the box comes after `rounding` of
the correct value (the rounded inputs then explain the claim without any mistake). A claim of fewer than
MIN_SIGNIFICANT significant digits ("0.5") never earns `convention` or `mistake`: the verdict is decided without the
variants, and those that match are listed as `possible` explanations.

Claims are read as people write them (`parse_claim`: "≈0.9264", "0,9264", "92.6%", "0.93 (2 d.p.)", "-0.9264",
full-width digits), at their written precision. A claimed tensor ("[0.7985, 1.2040]", with reduction "none") gets a
verdict per element and an overall one (`Checker.per_element`).

One parse and one reference call (inside `compute`) per check: the enclosure, the mistakes and the
conventions all work from the computed Result on the CPU in float64, vectorised over every element (no Python
loop over elements); a `Checker` shares what does not depend on the claim between several claims on one Result.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import numpy as np
import torch

from lossapp.conventions import evaluate_conventions
from lossapp.i18n import Message, msg
from lossapp.inputs import InputError, TensorInput, limits, quote
from lossapp.interval import Box, Enclosure, EnclosureUnavailable, target_is_exact
from lossapp.mistakes import evaluate_mistakes
from lossapp.registry import NUMBER, shown
from lossapp.result import Result, json_safe
from lossapp.trace import shared_extremes
from lossapp.variants import Case, VariantValue, interval_of

VERDICTS = ("exact", "convention", "mistake", "rounding", "incorrect")
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
            "+infinity": math.inf, "-infinity": -math.inf}
EVAL_SLACK = 1e-12  # slack, relative to the true value, for its float64 evaluation at an exact .5 tie
SPECIFIC = 5e-3  # the single-step search needs a claim written to about 3 significant digits or more
MAX_ELEMENTS_SEARCHED = 2000  # the single-step search of `incorrect` looks at this many terms at most
MIN_SIGNIFICANT = 2  # a claim with fewer significant digits is matched by too many variants by chance (DESIGN §6)
MAX_SIGNIFICANT = 10**6  # the significant digits of nan and ±inf: not a rounded number
MAX_CLAIMED_ELEMENTS = 64  # a claim per element (reduction "none") names at most this many numbers


@dataclass(frozen=True)
class Claim:
    """A claimed answer: its value, its text, the decimals it was written with and its significant digits (the
    digits from the first non-zero one to the last written decimal: "0.5" has 1, "0.50" 2, "92.6%" 3; 0 for zero)."""

    text: str
    value: float
    decimals: int
    significant: int = MAX_SIGNIFICANT

    @property
    def half_unit(self) -> float:
        return 0.5 * 10.0 ** (-self.decimals)

    @property
    def specific(self) -> bool:
        """Written to enough significant digits (MIN_SIGNIFICANT) that a variant matching it is evidence."""
        return self.significant >= MIN_SIGNIFICANT


@dataclass(frozen=True)
class ClaimedTensor:
    """A claim per element of a loss with reduction "none" ("[0.7985, 1.2040]"), in row-major order."""

    text: str
    items: tuple[Claim, ...]


# How people write a number they computed, besides plain decimals: full-width digits and signs (normalised by
# NFKC), a leading "≈", a decimal comma, a percentage, and the decimals they rounded to.
_APPROXIMATELY = ("≈", "~", "≃", "≒", "约", "約")
_STATED_DECIMALS = re.compile(r"(?P<number>.+?)\s*\(\s*(?P<d>\d{1,3})\s*(?:d\.\s*p\.?|dp|decimals?|decimal places?"
                              r"|位小数)\s*\)", re.IGNORECASE)


def parse_claim(claimed: Any) -> Claim:
    """One claimed number -> Claim. Never evaluated.

    Text is read as people write it: "0.92640" (5 decimals), "9.264e-1" (4), "-0.9264", "≈0.9264", "0,9264" (a
    decimal comma), "92.6%" (0.926 to 3 decimals), "0.93 (2 d.p.)" (the decimals stated), full-width digits
    ("０．９２６４"); a number from Python uses its shortest repr. A claim is at most limits.MAX_CLAIM_CHARS
    characters and limits.MAX_CLAIM_DIGITS significant digits, and lies within float64's range written to at
    most limits.MAX_CLAIM_DECIMALS decimals (0, or from 1e-300 to 1.8e308 in size), so that its value, half a unit
    of its last decimal and the value rounded to its decimals are all float64 numbers; nan and ±inf are claims
    too. Anything else is an InputError that shows the accepted forms."""
    if isinstance(claimed, bool) or claimed is None:
        raise InputError("check.claim_not_a_number", got=repr(claimed))
    if isinstance(claimed, np.integer):
        claimed = int(claimed)
    if isinstance(claimed, int):
        if claimed.bit_length() > 4 * limits.MAX_CLAIM_CHARS:  # more digits than a claim may have: not written out
            raise InputError("check.claim_too_long", limit=limits.MAX_CLAIM_CHARS, got=shown(claimed))
        return _written(str(claimed))
    if isinstance(claimed, float | np.floating):
        return _written(repr(float(claimed)))
    if isinstance(claimed, str):
        if len(claimed) > 4 * limits.MAX_CLAIM_CHARS:  # before normalising: bounded work on any text
            raise InputError("check.claim_too_long", limit=limits.MAX_CLAIM_CHARS, got=quote(claimed, 20))
        return _written(claimed.strip())
    raise InputError("check.claim_not_a_number", got=type(claimed).__name__)


def _normalised(text: str) -> str:
    """Full-width and other compatibility forms as ASCII (NFKC), the minus sign U+2212 as '-'."""
    return unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()


def _written(original: str) -> Claim:
    text = _normalised(original)
    low = text.lower()
    if low in _SPECIAL:
        return Claim(original, _SPECIAL[low], 0)
    if len(text) > limits.MAX_CLAIM_CHARS:
        raise InputError("check.claim_too_long", limit=limits.MAX_CLAIM_CHARS, got=quote(text, 20))
    number = text
    for sign in _APPROXIMATELY:
        if number.startswith(sign):
            number = number[len(sign):].strip()
            break
    stated = None
    found = _STATED_DECIMALS.fullmatch(number)
    if found:
        number, stated = found["number"].strip(), int(found["d"])
    percent = number.endswith("%")
    if percent:
        number = number[:-1].strip()
    if "," in number and "." not in number and number.count(",") == 1:
        number = number.replace(",", ".")  # a decimal comma
    if not NUMBER.fullmatch(number):
        raise InputError("check.claim_not_a_number", got=quote(original))
    try:
        exact = Decimal(number)
        if percent:
            exact = exact.scaleb(-2)
    except InvalidOperation:  # an exponent of 10^18 or more
        exact = None
    value = float(exact) if exact is not None else float(number)
    decimals = max(-exact.as_tuple().exponent, 0) if exact is not None else 0
    if exact is None or math.isinf(value) or decimals > limits.MAX_CLAIM_DECIMALS:
        raise InputError("check.claim_out_of_range", decimals=limits.MAX_CLAIM_DECIMALS, got=quote(original))
    digits = len(exact.as_tuple().digits)
    if digits > limits.MAX_CLAIM_DIGITS:
        raise InputError("check.claim_too_many_digits", limit=limits.MAX_CLAIM_DIGITS, digits=digits,
                         got=quote(original))
    significant = 0 if exact == 0 else digits
    if stated is not None:
        if decimals > stated or stated > limits.MAX_CLAIM_DECIMALS:
            raise InputError("check.claim_decimals_stated", stated=stated, decimals=decimals, got=quote(original))
        significant += stated - decimals if exact != 0 else 0
        decimals = stated
    return Claim(original, value, decimals, significant)


def parse_claims(claimed: Any) -> Claim | ClaimedTensor:
    """A claim (parse_claim), or a claim per element: text in brackets ("[0.7985, 1.2040]", rows nested, the numbers
    separated by commas, or by semicolons when they use decimal commas), or a list, tuple, array or tensor of
    numbers. At most MAX_CLAIMED_ELEMENTS numbers."""
    if isinstance(claimed, str):
        text = _normalised(claimed) if len(claimed) <= 4 * limits.MAX_CLAIM_CHARS * MAX_CLAIMED_ELEMENTS else ""
        if not text.startswith("["):
            return parse_claim(claimed)
        inner = text.replace("[", " ").replace("]", " ")
        parts = [part.strip() for part in inner.split(";" if ";" in inner else ",")]
        if parts == [""]:
            raise InputError("check.claim_not_a_number", got=quote(claimed))
        return _claimed_tensor(claimed.strip(), parts)
    if isinstance(claimed, torch.Tensor | np.ndarray) and claimed.ndim > 0:
        count = claimed.numel() if isinstance(claimed, torch.Tensor) else claimed.size
        if count > MAX_CLAIMED_ELEMENTS:  # before converting: bounded work on any tensor
            raise InputError("check.claim_too_many_elements", limit=MAX_CLAIMED_ELEMENTS, count=count)
        return _claimed_tensor(repr(claimed.tolist()), [float(v) for v in claimed.reshape(-1).tolist()])
    if isinstance(claimed, list | tuple):
        if len(claimed) > MAX_CLAIMED_ELEMENTS:
            raise InputError("check.claim_too_many_elements", limit=MAX_CLAIMED_ELEMENTS, count=len(claimed))
        values = np.asarray(claimed, dtype=object).reshape(-1).tolist() if claimed else []
        return _claimed_tensor(repr(list(claimed)), values)
    return parse_claim(claimed)


def _claimed_tensor(text: str, parts: list[Any]) -> ClaimedTensor:
    if not parts:
        raise InputError("check.claim_not_a_number", got=quote(text))
    if len(parts) > MAX_CLAIMED_ELEMENTS:
        raise InputError("check.claim_too_many_elements", limit=MAX_CLAIMED_ELEMENTS, count=len(parts))
    return ClaimedTensor(text, tuple(parse_claim(part) for part in parts))


def rounds_to(value: float, claim: Claim) -> bool:
    """Whether `value` rounded to the claim's decimals is the claim (either neighbour at an exact tie)."""
    if math.isnan(claim.value) or math.isnan(value):
        return math.isnan(claim.value) and math.isnan(value)
    if math.isinf(claim.value) or math.isinf(value):
        return claim.value == value
    return abs(value - claim.value) <= claim.half_unit + EVAL_SLACK * abs(value)


def could_round_to(lo: float, hi: float, claim: Claim) -> bool:
    """Whether some value in [lo, hi] might round to the claim (never False when one does: rounds_to(v) needs
    |v − claim| ≤ half unit + slack·|v|, and |v| ≤ max(|lo|, |hi|))."""
    reach = claim.half_unit + EVAL_SLACK * max(abs(lo), abs(hi))
    return lo - reach <= claim.value <= hi + reach


def rounds_to_each(values: torch.Tensor, claim: Claim) -> torch.Tensor:
    """`rounds_to` for every element of `values` at once (a bool tensor), with the same float64 arithmetic."""
    v = values.double()
    if math.isnan(claim.value):
        return torch.isnan(v)
    if math.isinf(claim.value):
        return v == claim.value
    return torch.isfinite(v) & ((v - claim.value).abs() <= claim.half_unit + EVAL_SLACK * v.abs())


def format_rounded(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{decimals}f}"


@dataclass
class Verdict:
    """The verdict on one claimed answer (see the module docstring)."""

    verdict: str
    claimed: float
    claimed_text: str
    value: float
    decimals: int
    interval: list[float] | None
    explanation: Message
    mistakes: list[VariantValue] = field(default_factory=list)
    conventions: list[VariantValue] = field(default_factory=list)
    result: Result | None = None
    rounded: str = ""
    off: dict[str, float] | None = None
    step: dict[str, str] | None = None
    enclosure: Enclosure | None = None
    possible: list[VariantValue] = field(default_factory=list)  # variants matching a claim of too few digits
    elements: list[Verdict] = field(default_factory=list)  # a claim per element: each element's verdict
    shape: tuple[int, ...] | None = None  # a claim per element: the loss's shape

    @property
    def explanation_zh(self) -> str:
        return self.explanation.render("zh")

    def to_dict(self) -> dict[str, Any]:
        """The "check" object of DESIGN.md section 4 (plus a few more keys). A claim per element gives the overall
        verdict with "claimed" and "value" as lists, "shape", and "elements": each element's own check object."""
        enc = self.enclosure
        out = {
            "claimed": self.claimed, "value": self.value, "verdict": self.verdict, "decimals": self.decimals,
            "interval": self.interval, "explanation": self.explanation,
            "mistakes": [m.to_dict() for m in self.mistakes],
            "conventions": [c.to_dict() for c in self.conventions],
            "possible": [p.to_dict() for p in self.possible],
            "explanation_zh": self.explanation_zh, "claimed_text": self.claimed_text, "rounded": self.rounded,
            "off": self.off, "step": self.step,
            "interval_method": enc.method if enc is not None and enc.sound else None,
            "interval_note": enc.note if enc is not None else "",
        }
        if self.elements:
            out.update(claimed=[e.claimed for e in self.elements], value=[e.value for e in self.elements],
                       shape=list(self.shape or ()), elements=[e.to_dict() for e in self.elements])
        return json_safe(out)


# -- the checker -------------------------------------------------------------------------------------------

def check(loss: str, pred: Any = None, target: Any = None, *, claimed: Any, reduction: str | None = None,
          device: str = "cpu", dtype: str = "float32", **params: Any) -> Verdict:
    """Compute `loss` (as lossapp.compute; reduction None is the loss's own default) and give the verdict on
    `claimed`. loss="confusion" takes the counts tp, fp, fn, tn and metric as params (pred=None)."""
    from lossapp.engine import compute
    claim = parse_claims(claimed)  # a bad claim is reported before any work
    with shared_extremes():  # (the inputs' ranges found once: by the prepare's checks, read by the checker)
        result = compute(loss, pred, target, reduction=reduction, device=device, dtype=dtype, **params)
        return check_result(result, claim)


def check_result(result: Result, claimed: Any) -> Verdict:
    """The verdict on `claimed` for an already computed Result (what the CLI, the examples and the UI use). Every range
    of a tensor is found once in it (lossapp.trace.shared_extremes)."""
    with shared_extremes():
        return Checker(result).verdict(claimed)


class Checker:
    """Verdicts on claims about one computed Result. What does not depend on the claim (the enclosure, the
    variants' values) is computed once, on first need, and shared by every claim: a class's answers to one
    problem cost one computation."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.case = Case(result)

    @property
    def enclosure(self) -> Enclosure:
        return self.case.enclosure

    def verdict(self, claimed: Any) -> Verdict:
        """The verdict on `claimed`: one number, or one per element of a loss with several values (a verdict per
        element and an overall one; see `per_element`)."""
        claim = claimed if isinstance(claimed, Claim | ClaimedTensor) else parse_claims(claimed)
        if isinstance(claim, ClaimedTensor):
            if self.result.reduction != "none" or self.result.value.dim() == 0:  # one number: one claim
                raise InputError("check.claim_one_value", reduction=repr(self.result.reduction), count=len(claim.items))
            return self.per_element(claim)
        value = _scalar_value(self.result)  # a result of several values is refused before any work
        return _verdict(self.result, self.case, self.enclosure, claim, value)

    @cached_property
    def _element_checkers(self) -> list[Checker] | None:
        """A Checker per element, each on the element as a problem of its own (see _element_problems)."""
        problems = _element_problems(self.result)
        return None if problems is None else [Checker(problem) for problem in problems]

    def per_element(self, claimed: ClaimedTensor) -> Verdict:
        """A verdict per element of the loss (reduction "none"), and an overall one: incorrect if any element is,
        else mistake, convention, rounding, exact, the first any element has; the overall mistakes and conventions
        are every element's, once. Each element is checked as a problem of its own (its inputs, with their
        decimals, and the loss summed over that one element) where the loss's elements are separate problems
        (elementwise losses, or one term per sample); otherwise an element is exact or not (rounding, mistakes and
        conventions are then not assessed, and its explanation says so)."""
        values = self.result.value.detach().double().reshape(-1)
        if len(claimed.items) != values.numel():
            raise InputError("check.claim_count", expected=values.numel(), count=len(claimed.items),
                             reduction=repr(self.result.reduction))
        if values.numel() == 1:
            elements = [_verdict(self.result, self.case, self.enclosure, claimed.items[0], float(values[0]))]
        else:
            checkers = self._element_checkers
            bounds = _element_intervals(self.result) if checkers is None else None
            elements = [checkers[i].verdict(claim) if checkers is not None else
                        _element_unchecked(float(v), claim, None if bounds is None else bounds[i])
                        for i, (v, claim) in enumerate(zip(values.tolist(), claimed.items, strict=True))]
        overall = next(v for v in ("incorrect", "mistake", "convention", "rounding", "exact")
                       if any(e.verdict == v for e in elements))
        counts = [msg("check.element_count", count=sum(e.verdict == v for e in elements), verdict=verdict_word(v))
                  for v in VERDICTS if any(e.verdict == v for e in elements)]
        explanation = msg("check.elements", claim=claimed.text, count=len(elements),
                          summary=_joined(counts, "check.comma_list"))
        return Verdict(overall, claimed=math.nan, claimed_text=claimed.text, value=math.nan,
                       decimals=max(e.decimals for e in elements), interval=None, explanation=explanation,
                       mistakes=_distinct(e.mistakes for e in elements),
                       conventions=_distinct(e.conventions for e in elements), result=self.result,
                       elements=elements, shape=tuple(self.result.value.shape))


def _distinct(groups: Any) -> list[VariantValue]:
    """The variants of several verdicts, each id once (the first)."""
    seen: dict[str, VariantValue] = {}
    for group in groups:
        for found in group:
            seen.setdefault(found.id, found)
    return list(seen.values())


def _element_unchecked(value: float, claim: Claim, interval: tuple[float, float] | None) -> Verdict:
    """An element of a loss whose elements are not separate problems: exact, rounding (from the element's own
    enclosure, where the loss's formula gives one per element) or incorrect; mistakes and conventions not assessed."""
    rounded = format_rounded(value, claim.decimals)
    common = {"claimed": claim.value, "claimed_text": claim.text, "value": value, "decimals": claim.decimals,
              "interval": None if interval is None else list(interval), "rounded": rounded}
    if rounds_to(value, claim):
        return Verdict("exact", explanation=msg("check.exact", claim=claim.text, value=_num(value),
                                                decimals=_dec(claim.decimals)), **common)
    if interval is not None and math.isfinite(claim.value) and _overlaps(interval, claim):
        return Verdict("rounding", explanation=msg("check.element_rounding", claim=claim.text, value=_num(value),
                                                   decimals=_dec(claim.decimals), rounded=rounded, lo=_num(interval[0]),
                                                   hi=_num(interval[1])), **common)
    return Verdict("incorrect", explanation=msg("check.element_unchecked", claim=claim.text, value=_num(value),
                                                 decimals=_dec(claim.decimals), rounded=rounded), **common)


def _element_intervals(result: Result) -> list[tuple[float, float]] | None:
    """Each element's enclosure over the inputs' rounding box: the loss's interval formula (lossapp.interval) with
    reduction "none", guarded as lossapp.interval.enclose guards the reduced value (every element's value inside);
    None where the loss has no formula or the formula does not cover these inputs."""
    spec = result.spec
    formula = spec.enclosure if spec is not None else None
    if formula is None or formula.evaluate is None or result.pred is None:
        return None

    def decimals(ti: TensorInput | None) -> np.ndarray | None:
        d = None if ti is None or ti.decimals is None else np.asarray(ti.decimals)
        return d if d is not None and d.shape == tuple(ti.values.shape) else None

    values = result.value.detach().double().reshape(-1)
    box = Box(result.pred.values.double(), None if result.target is None else result.target.values,
              decimals(result.pred), decimals(result.target), dict(result.params), "none", spec.target_kind)
    try:
        with torch.no_grad():
            iv = formula.evaluate(box)
    except (EnclosureUnavailable, RuntimeError, IndexError, ValueError, TypeError, KeyError):
        return None
    lo, hi = iv.lo.reshape(-1), iv.hi.reshape(-1)
    if lo.numel() != values.numel():
        return None
    slack = 1e-9 * values.abs().clamp_min(1.0)
    if not bool(((lo - slack <= values) & (values <= hi + slack)).all()):
        return None
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


def _element_problems(result: Result) -> list[Result] | None:
    """Each element of a loss with reduction "none" as a problem of its own: the loss of that element's inputs
    (with their written decimals, so that its rounding is assessed) summed over its one element. An element is
    pred's element for an elementwise loss (the loss has pred's shape; a tensor parameter broadcast to it is
    sliced with it), or pred's row for one term per sample ((N,) from an (N, C) pred; per-class parameters kept).
    None where neither holds, where the loss has no "sum", or where an element's problem does not give that
    element's value (the loss's elements are then not separate problems)."""
    from lossapp.engine import compute

    spec, pred, target = result.spec, result.pred, result.target
    values = result.value.detach().double()
    if spec is None or pred is None or "sum" not in spec.reductions or values.numel() > MAX_CLAIMED_ELEMENTS:
        return None
    shape = tuple(pred.values.shape)
    if tuple(values.shape) == shape:
        def part(t: torch.Tensor, i: int) -> torch.Tensor:
            return t.expand(shape).reshape(-1)[i:i + 1]
        per_element = True
    elif values.dim() == 1 and len(shape) == 2 and values.shape[0] == shape[0]:
        def part(t: torch.Tensor, i: int) -> torch.Tensor:
            return t[i:i + 1]
        per_element = False
    else:
        return None

    def sliced(ti: TensorInput | None, i: int) -> TensorInput | None:
        if ti is None:
            return None
        if tuple(ti.values.shape) != shape and per_element:
            return None
        decimals = None if ti.decimals is None else torch.from_numpy(np.asarray(ti.decimals))
        return TensorInput(part(ti.values, i), None if decimals is None else part(decimals, i).numpy())

    problems = []
    for i, expected in enumerate(values.reshape(-1).tolist()):
        params = {}
        for name, value in result.params.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and per_element:
                try:
                    value = part(value, i)
                except RuntimeError:  # not broadcastable to pred: not an elementwise parameter
                    return None
            params[name] = value
        x, t = sliced(pred, i), sliced(target, i)
        if x is None or (target is not None and t is None):
            return None
        try:
            problem = compute(result.loss, x, t, reduction="sum", dtype=_dtype(result), **params)
        except (InputError, RuntimeError, ValueError, TypeError, KeyError, IndexError):
            return None
        if problem.value.numel() != 1 or not math.isclose(problem.scalar, expected, rel_tol=1e-9, abs_tol=1e-12):
            return None
        problems.append(problem)
    return problems


def _dtype(result: Result) -> str:
    return result.reference.dtype if result.reference is not None else "float64"


def _verdict(result: Result, case: Case, enclosure: Enclosure, claim: Claim, value: float) -> Verdict:
    interval = enclosure.interval
    rounded = format_rounded(value, claim.decimals)
    common = {"claimed": claim.value, "claimed_text": claim.text, "value": value, "decimals": claim.decimals,
              "interval": interval, "result": result, "rounded": rounded, "enclosure": enclosure}

    if rounds_to(value, claim):
        explanation = msg("check.exact", claim=claim.text, value=_num(value), decimals=_dec(claim.decimals))
        if math.isnan(value):
            explanation = msg("check.exact_nan")
        return Verdict("exact", explanation=explanation, **common)
    ref = _reference_value(result)
    if ref is not None and rounds_to(ref, claim):
        dt = result.reference.dtype if result.reference is not None else ""
        explanation = msg("check.exact_reference", claim=claim.text, dtype=dt, reference=_num(ref),
                          decimals=_dec(claim.decimals), value=_num(value), rounded=rounded)
        return Verdict("exact", explanation=explanation, **common)

    def reachable(lo: float, hi: float) -> bool:
        return could_round_to(lo, hi, claim)
    found = {"convention": evaluate_conventions(case, reachable=reachable),
             "mistake": evaluate_mistakes(case, reachable=reachable)}
    case.release_reruns()  # (the terms the variants' reruns shared: the enclosures below do not need them)
    by_value = {kind: [v for v in values if rounds_to(v.value, claim)] for kind, values in found.items()}
    correct = msg("check.correct", value=_num(value), rounded=rounded, decimals=_dec(claim.decimals))
    rounding = interval is not None and math.isfinite(claim.value) and _overlaps(interval, claim)

    if not claim.specific:  # too few digits: decided without the variants, which are listed as possible
        possible = by_value["convention"] + by_value["mistake"] + \
            [v for kind in found for v in _by_interval(case, found[kind], by_value[kind], claim)]
        verdict = _rounding(result, claim, value, common) if rounding else \
            _incorrect(case, claim, value, common, unnamed=bool(possible))
        if possible:
            names = _joined([_name(v) for v in possible], "check.semicolon_list")
            verdict.explanation = msg("check.with_possible", explanation=verdict.explanation,
                                      possible=msg("check.possible", digits=claim.significant, names=names))
            verdict.possible = possible
        return verdict

    if by_value["convention"] or by_value["mistake"]:
        return _variant_verdict(claim, by_value["convention"], by_value["mistake"], correct, common)
    if rounding:
        return _rounding(result, claim, value, common)
    # a variant whose value over the inputs' rounding box reaches the claim (the correct value's does not)
    by_interval = {kind: _by_interval(case, found[kind], [], claim) for kind in found}
    if by_interval["convention"] or by_interval["mistake"]:
        return _variant_verdict(claim, by_interval["convention"], by_interval["mistake"], correct, common)
    return _incorrect(case, claim, value, common)


def _overlaps(interval: list[float] | tuple[float, float], claim: Claim) -> bool:
    """Whether the values that round to the claim overlap [lo, hi]."""
    return claim.value - claim.half_unit <= interval[1] and claim.value + claim.half_unit >= interval[0]


def _by_interval(case: Case, values: list[VariantValue], already: list[VariantValue], claim: Claim) -> list[VariantValue]:
    """The variants (other than `already`) whose enclosure over the inputs' rounding box holds values that round to
    the claim, each with that enclosure."""
    out = []
    taken = {v.id for v in already}
    for found in values:
        if found.id in taken or found.variant.interval is None or not math.isfinite(claim.value):
            continue
        iv = interval_of(case, found)
        if iv is not None and _overlaps(iv, claim):
            out.append(VariantValue(found.variant, found.value, iv))
    return out


def _name(found: VariantValue) -> Any:
    return found.variant.named or found.variant.title


def _variant_verdict(claim: Claim, conventions: list[VariantValue], mistakes: list[VariantValue], correct: Message,
                     common: dict[str, Any]) -> Verdict:
    """convention (the first convention named), else mistake (the first mistake), every other one listed."""
    common = {**common, "mistakes": mistakes, "conventions": conventions}
    first = (conventions or mistakes)[0]
    kind = "convention" if conventions else "mistake"
    others = _also(conventions[1:], mistakes) if conventions else _also([], mistakes[1:])
    fields: dict[str, Any] = {"claim": claim.text, "value": _num(first.value), "explanation": first.variant.explanation,
                              "correct": correct, "also": others}
    if kind == "convention":
        fields["named"] = _name(first)
    else:
        fields.update(title=first.variant.title, step=first.variant.step)
    if first.interval is not None:
        fields.update(lo=_num(first.interval[0]), hi=_num(first.interval[1]))
        return Verdict(kind, explanation=msg(f"check.{kind}_rounded", **fields), **common)
    return Verdict(kind, explanation=msg(f"check.{kind}", **fields), **common)


def _rounding(result: Result, claim: Claim, value: float, common: dict[str, Any]) -> Verdict:
    lo, hi = common["interval"]
    explanation = msg("check.rounding", claim=claim.text, value=_num(value), decimals=_dec(claim.decimals),
                      rounded=common["rounded"], written=_inputs_written(result), lo=_num(lo), hi=_num(hi))
    return Verdict("rounding", explanation=explanation, **common)


# -- incorrect: how far off, and which single step would explain it ------------------------------------------------

def _incorrect(case: Case, claim: Claim, value: float, common: dict[str, Any], *, unnamed: bool = False) -> Verdict:
    """`unnamed`: variants match the claim but its digits are too few to name one (the explanation lists them)."""
    enclosure: Enclosure = common["enclosure"]
    rounded = common["rounded"]
    if not math.isfinite(value) or not math.isfinite(claim.value):
        explanation = msg("check.incorrect_not_finite", claim=claim.text, value=_num(value))
        return Verdict("incorrect", explanation=explanation, **common)
    diff = claim.value - value
    rel = diff / abs(value) if value != 0 else math.inf
    units = diff / (2 * claim.half_unit)  # inf when it is beyond float64 (a claim 1e300 off at 300 decimals)
    off = {"abs": diff, "rel": rel, "units": units}
    rel_text = (f"{rel:+.3%}" if abs(rel) < 1e4 else f"{rel * 100:+.3g}%") if math.isfinite(rel * 100) else "—"
    # in size (diff gives the sign)
    units_text = f"{units:+.4g}" if math.isfinite(units) else msg("check.units_beyond_float64")
    if enclosure.sound and enclosure.lo is not None:
        inputs = msg("check.rounding_ruled_out", lo=_num(enclosure.lo), hi=_num(enclosure.hi))
    else:
        inputs = msg("check.rounding_not_assessed", note=enclosure.note)
    step = _single_step(case, claim)
    single = "" if step is None else msg("check.single_step", symbol=step["symbol"], change=step["explanation"])
    explanation = msg("check.incorrect_unnamed" if unnamed else "check.incorrect", claim=claim.text, diff=f"{diff:+.6g}", rel=rel_text, units=units_text,
                      value=_num(value), rounded=rounded, decimals=_dec(claim.decimals), inputs=inputs, step=single)
    common = {**common, "off": off, "step": step}
    return Verdict("incorrect", explanation=explanation, **common)


def _single_step(case: Case, claim: Claim) -> dict[str, str] | None:
    """A single change to one step that reproduces the claim: a term left out, counted twice or with its
    sign flipped; the sum divided by another count; every term rounded before the reduction. Vectorised:
    the candidates of all terms are tested at once, and the first in the order below is reported."""
    u, den = case.unreduced, case.denominator()
    value = case.value
    if u is None or den is None or den == 0 or u.numel() == 0 or not math.isfinite(value):
        return None
    if claim.half_unit > SPECIFIC * max(abs(claim.value), abs(value)):
        return None  # a claim with too few digits fits too many single changes to single one out
    terms = u.detach().double().reshape(-1)
    total = case.total
    if not math.isclose(total / den, value, rel_tol=1e-9, abs_tol=1e-12):
        return None  # the value is not Σ l / den (e.g. RMSE's root comes after)
    if case.reduction in ("mean", "batchmean"):
        k = _first_divisor(total, claim, den, max(10, 2 * terms.numel()))
        if k is not None:
            return _step_change("den", "check.divided_by_other", total=_num(total), k=k, den=f"{den:g}")
    step = _single_term(terms, tuple(u.shape), total, den, claim,
                        counted=case.reduction in ("mean", "batchmean") and den == terms.numel())
    if step is not None:
        return step
    return _rounded_terms(terms, total, den, claim, value)


def _first_divisor(total: float, claim: Claim, den: float, limit: int) -> int | None:
    """The smallest k in 1..limit other than den with total / k rounding to the claim. total / k moves toward 0
    as k grows, so the k that round to the claim are consecutive: bisection finds the first k at or below the
    claim's far edge, and rounds_to confirms it (or the next one, when the first is den itself)."""
    # rounds_to(−v, −c) is rounds_to(v, c) and fl(−t / k) = −fl(t / k): work with t = |total| ≥ 0
    t = abs(total)
    mirrored = claim if total >= 0 else Claim(claim.text, -claim.value, claim.decimals)

    def above(k: int) -> bool:  # t / k still above the values that round to the claim
        v = t / k
        return v - mirrored.value > mirrored.half_unit + EVAL_SLACK * v

    if above(limit):
        return None
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi) // 2
        if above(mid):
            lo = mid + 1
        else:
            hi = mid
    return next((k for k in range(lo, min(lo + 2, limit) + 1) if k != den and rounds_to(t / k, mirrored)), None)


def _single_term(terms: torch.Tensor, shape: tuple[int, ...], total: float, den: float, claim: Claim, *,
                 counted: bool) -> dict[str, str] | None:
    """The first of the first MAX_ELEMENTS_SEARCHED terms that, left out, counted twice, with its sign flipped or
    (for a mean over every element) dropped from sum and count, reproduces the claim."""
    head = terms[:MAX_ELEMENTS_SEARCHED]
    candidates = [(total - head) / den, (total + head) / den, (total - 2 * head) / den]
    if counted and den > 1:
        candidates.append((total - head) / (den - 1))
    hits = torch.stack([rounds_to_each(c, claim) for c in candidates]) & (head != 0)
    found = hits.any(0).nonzero()
    if found.numel() == 0:
        return None
    i = int(found[0, 0])
    kind = int(hits[:, i].nonzero()[0, 0])
    li, where = float(head[i]), _index_text(i, shape)
    ids = ("check.term_left_out", "check.term_counted_twice", "check.term_sign_flipped", "check.element_left_out")
    return _step_change("l", ids[kind], where=where, element=where.strip("_"), term=_num(li))


def _rounded_terms(terms: torch.Tensor, total: float, den: float, claim: Claim, value: float) -> dict[str, str] | None:
    """Every term rounded to k = 1..6 decimals before the reduction. Rounding moves Σ l by at most n·½·10^−k
    (plus float rounding), so a k whose sums cannot reach the claim is skipped without a pass over the terms."""
    if rounds_to(value, claim):
        return None
    n = terms.numel()
    magnitude = float(terms.abs().sum())
    centre = total / den
    for k in range(1, 7):
        moved = 0.5 * n * 10.0 ** -k
        spread = (moved + 4 * (n + 2) * 2.0 ** -53 * (magnitude + moved)) / abs(den) + 2.0 ** -50 * abs(centre)
        if abs(centre - claim.value) > claim.half_unit + spread + EVAL_SLACK * (abs(centre) + spread):
            continue  # no rounding to k decimals reaches the claim
        candidate = float(torch.round(terms, decimals=k).sum()) / den
        if rounds_to(candidate, claim):
            return _step_change("l", "check.terms_rounded", k=k)
    return None


def _step_change(symbol: str, message_id: str, **fields: Any) -> dict[str, Any]:
    """A single change to step `symbol`, explained (the Chinese too, for the JSON)."""
    explanation = msg(message_id, **fields)
    return {"symbol": symbol, "explanation": explanation, "explanation_zh": explanation.render("zh")}


def _index_text(i: int, shape: tuple[int, ...]) -> str:
    if len(shape) <= 1:
        return f"_{i}"
    idx = np.unravel_index(i, shape)
    return "_(" + ", ".join(str(int(j)) for j in idx) + ")"


# -- small helpers ----------------------------------------------------------------------------------------------------

def _scalar_value(result: Result) -> float:
    if result.value.numel() != 1:
        raise InputError("check.claim_needs_one_value", count=result.value.numel(), reduction=repr(result.reduction))
    return result.scalar


def _reference_value(result: Result) -> float | None:
    ref = result.reference
    if ref is None or ref.dtype == "float64":
        return None
    return ref.tensor.double().item() if ref.tensor.numel() == 1 else None


def _num(x: float) -> str:
    return f"{x:.10g}" if math.isfinite(x) else str(x)


def _dec(d: int) -> Message:
    """'4 decimals' (in Chinese '整数' for none)."""
    return msg("check.decimals_none") if d == 0 else msg("check.decimal_one") if d == 1 else msg("check.decimals", d=d)


def _joined(items: list[Any], message_id: str) -> Any:
    """Items as one message: `message_id` is a template joining a first item and the rest ('{first}; {rest}')."""
    if len(items) == 1:
        return items[0]
    return msg(message_id, first=items[0], rest=_joined(items[1:], message_id))


def _also(conventions: list[VariantValue], mistakes: list[VariantValue]) -> Message | str:
    names = [v.variant.named or v.variant.title for v in conventions] + [v.variant.title for v in mistakes]
    if not names:
        return ""
    return msg("check.also", names=_joined(names, "check.semicolon_list"))


def _inputs_written(result: Result) -> Message:
    """'pred written to 4 decimals' — how the inputs were written (for the rounding explanation)."""
    parts = []
    for name, ti in (("pred", result.pred), ("target", result.target)):
        if ti is None or ti.decimals is None or not ti.values.is_floating_point():
            continue
        d = np.asarray(ti.decimals)
        d = d[d >= 0]
        kind = result.spec.target_kind if result.spec is not None else None
        if d.size == 0 or (name == "target" and target_is_exact(kind, ti.values)):
            continue  # labels are exact
        lo, hi = int(d.min()), int(d.max())
        span = str(lo) if lo == hi else f"{lo}–{hi}"
        parts.append(msg("check.written_to", name=name, span=span))
    if not parts:
        return msg("check.inputs_as_written")
    return _joined(parts, "check.comma_list")



def verdict_word(verdict: str) -> Message:
    """A verdict ('exact', ...) as a word to show."""
    return msg(f"check.verdict_{verdict}")
