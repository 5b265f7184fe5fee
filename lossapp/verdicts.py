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

One parse and one reference call (inside `compute`) per check: the enclosure, the mistakes and the
conventions all work from the computed Result on the CPU in float64, vectorised over every element (no Python
loop over elements); a `Checker` shares what does not depend on the claim between several claims on one Result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import numpy as np
import torch

from lossapp.conventions import evaluate_conventions
from lossapp.i18n import Message, msg
from lossapp.inputs import InputError, limits, quote
from lossapp.interval import Enclosure, enclose, target_is_exact
from lossapp.mistakes import evaluate_mistakes
from lossapp.registry import NUMBER, shown
from lossapp.result import Result, json_safe
from lossapp.variants import Case, VariantValue

VERDICTS = ("exact", "convention", "mistake", "rounding", "incorrect")
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
            "+infinity": math.inf, "-infinity": -math.inf}
EVAL_SLACK = 1e-12  # slack, relative to the true value, for its float64 evaluation at an exact .5 tie
SPECIFIC = 5e-3  # the single-step search needs a claim written to about 3 significant digits or more
MAX_ELEMENTS_SEARCHED = 2000  # the single-step search of `incorrect` looks at this many terms at most


@dataclass(frozen=True)
class Claim:
    """A claimed answer: its value, its text, and the decimals it was written with."""

    text: str
    value: float
    decimals: int

    @property
    def half_unit(self) -> float:
        return 0.5 * 10.0 ** (-self.decimals)


def parse_claim(claimed: Any) -> Claim:
    """Text ("0.92640": 5 decimals; "9.264e-1": 4) or a number (its shortest repr) -> Claim. Never evaluated.

    A claim is at most limits.MAX_CLAIM_CHARS characters and limits.MAX_CLAIM_DIGITS significant digits, and
    lies within float64's range written to at most limits.MAX_CLAIM_DECIMALS decimals (0, or from 1e-300 to
    1.8e308 in size), so that its value, half a unit of its last decimal and the value rounded to its decimals
    are all float64 numbers; nan and ±inf are claims too. Anything else is an InputError."""
    if isinstance(claimed, bool) or claimed is None:
        raise InputError("check.claim_not_a_number", got=repr(claimed))
    if isinstance(claimed, np.integer):
        claimed = int(claimed)
    if isinstance(claimed, int):
        if claimed.bit_length() > 4 * limits.MAX_CLAIM_CHARS:  # more digits than a claim may have: not written out
            raise InputError("check.claim_too_long", limit=limits.MAX_CLAIM_CHARS, got=shown(claimed))
        text = str(claimed)
    elif isinstance(claimed, float | np.floating):
        text = repr(float(claimed))
    elif isinstance(claimed, str):
        text = claimed.strip().replace("\u2212", "-")
    else:
        raise InputError("check.claim_not_a_number", got=type(claimed).__name__)
    low = text.lower()
    if low in _SPECIAL:
        return Claim(text, _SPECIAL[low], 0)
    if len(text) > limits.MAX_CLAIM_CHARS:
        raise InputError("check.claim_too_long", limit=limits.MAX_CLAIM_CHARS, got=quote(text, 20))
    if not NUMBER.fullmatch(text):
        raise InputError("check.claim_not_a_number", got=quote(claimed))
    try:
        exact = Decimal(text)
    except InvalidOperation:  # an exponent of 10^18 or more
        exact = None
    value = float(text)
    decimals = max(-exact.as_tuple().exponent, 0) if exact is not None else 0
    if exact is None or math.isinf(value) or decimals > limits.MAX_CLAIM_DECIMALS:
        raise InputError("check.claim_out_of_range", decimals=limits.MAX_CLAIM_DECIMALS, got=quote(text))
    digits = len(exact.as_tuple().digits)
    if digits > limits.MAX_CLAIM_DIGITS:
        raise InputError("check.claim_too_many_digits", limit=limits.MAX_CLAIM_DIGITS, digits=digits, got=quote(text))
    return Claim(text, value, decimals)


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

    @property
    def explanation_zh(self) -> str:
        return self.explanation.render("zh")

    def to_dict(self) -> dict[str, Any]:
        """The "check" object of DESIGN.md section 4 (plus a few more keys)."""
        enc = self.enclosure
        return json_safe({
            "claimed": self.claimed, "value": self.value, "verdict": self.verdict, "decimals": self.decimals,
            "interval": self.interval, "explanation": self.explanation,
            "mistakes": [m.to_dict() for m in self.mistakes],
            "conventions": [c.to_dict() for c in self.conventions],
            "explanation_zh": self.explanation_zh, "claimed_text": self.claimed_text, "rounded": self.rounded,
            "off": self.off, "step": self.step,
            "interval_method": enc.method if enc is not None and enc.sound else None,
            "interval_note": enc.note if enc is not None else "",
        })


# -- the checker -------------------------------------------------------------------------------------------

def check(loss: str, pred: Any = None, target: Any = None, *, claimed: Any, reduction: str | None = None,
          device: str = "cpu", dtype: str = "float32", **params: Any) -> Verdict:
    """Compute `loss` (as lossapp.compute; reduction None is the loss's own default) and give the verdict on
    `claimed`. loss="confusion" takes the counts tp, fp, fn, tn and metric as params (pred=None)."""
    from lossapp.engine import compute
    claim = parse_claim(claimed)  # a bad claim is reported before any work
    result = compute(loss, pred, target, reduction=reduction, device=device, dtype=dtype, **params)
    return check_result(result, claim)


def check_result(result: Result, claimed: Any) -> Verdict:
    """The verdict on `claimed` for an already computed Result (what the CLI, the examples and the UI use)."""
    return Checker(result).verdict(claimed)


class Checker:
    """Verdicts on claims about one computed Result. What does not depend on the claim (the enclosure, the
    variants' values) is computed once, on first need, and shared by every claim: a class's answers to one
    problem cost one computation."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.case = Case(result)

    @cached_property
    def enclosure(self) -> Enclosure:
        return enclose(self.result)

    def verdict(self, claimed: Any) -> Verdict:
        """The verdict on `claimed` (see the module docstring)."""
        claim = claimed if isinstance(claimed, Claim) else parse_claim(claimed)
        value = _scalar_value(self.result)  # a result of several values is refused before any work
        return _verdict(self.result, self.case, self.enclosure, claim, value)


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
    conventions = [v for v in evaluate_conventions(case, reachable=reachable) if rounds_to(v.value, claim)]
    mistakes = [v for v in evaluate_mistakes(case, reachable=reachable) if rounds_to(v.value, claim)]
    common.update(mistakes=mistakes, conventions=conventions)
    correct = msg("check.correct", value=_num(value), rounded=rounded, decimals=_dec(claim.decimals))

    if conventions:
        first = conventions[0].variant
        others = _also(conventions[1:], mistakes)
        explanation = msg("check.convention", claim=claim.text, named=first.named or first.title,
                          value=_num(conventions[0].value), explanation=first.explanation, correct=correct, also=others)
        return Verdict("convention", explanation=explanation, **common)

    if mistakes:
        first = mistakes[0].variant
        others = _also([], mistakes[1:])
        explanation = msg("check.mistake", claim=claim.text, title=first.title, value=_num(mistakes[0].value),
                          step=first.step, explanation=first.explanation, correct=correct, also=others)
        return Verdict("mistake", explanation=explanation, **common)

    if interval is not None and claim.value - claim.half_unit <= interval[1] and \
            claim.value + claim.half_unit >= interval[0] and math.isfinite(claim.value):
        lo, hi = interval
        explanation = msg("check.rounding", claim=claim.text, value=_num(value), decimals=_dec(claim.decimals),
                          rounded=rounded, written=_inputs_written(result), lo=_num(lo), hi=_num(hi))
        return Verdict("rounding", explanation=explanation, **common)

    return _incorrect(case, claim, value, common)


# -- incorrect: how far off, and which single step would explain it ------------------------------------------------

def _incorrect(case: Case, claim: Claim, value: float, common: dict[str, Any]) -> Verdict:
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
    explanation = msg("check.incorrect", claim=claim.text, diff=f"{diff:+.6g}", rel=rel_text, units=units_text,
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
