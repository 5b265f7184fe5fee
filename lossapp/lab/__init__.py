"""The Lab: the articles' claims about how losses behave in training, as small seeded experiments.

Each experiment is one module of this package that registers an `Experiment`: which article and section it comes
from, the claim in the article's words (a catalog Message), its parameters (declared like a loss's, with the same
constraints), and a `run(params, generator)` that trains or evaluates something small and deterministic on the
CPU (under a second at the defaults) and returns an `Outcome`: the plotted series, the numbers that decide the
claim (`finding`), whether the claim held on these settings (`holds`), and a sentence saying so (`summary`).

    >>> from lossapp.lab import EXPERIMENTS, run_experiment
    >>> sorted(EXPERIMENTS) == sorted(set(EXPERIMENTS))
    True

`run_experiment(name, params, seed=0, lang="en")` validates the parameters (`InputError` names a bad one) and
returns the experiment's JSON-ready dict: name, article, claim, params (effective), series, finding, holds,
summary. Nothing here imports gradio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from lossapp.i18n import Message, tr
from lossapp.inputs import InputError, quote
from lossapp.inputs.constraints import validate_params
from lossapp.registry import Param, lookup

SEED_LIMIT = 2**63 - 1
SEED_FILE = re.compile(r"\d{3}_[0-9a-f]+\.txt")  # a source article's file in ../shared/seeds


@dataclass(frozen=True)
class Series:
    """One plotted line: its `name` (a Message: the legend), its x and y values, and the axes' names."""

    name: Message
    x: Sequence[float]
    y: Sequence[float]
    x_label: Message
    y_label: Message
    panel: str = "main"  # series with the same panel share a chart

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {"name": tr(self.name, lang), "panel": self.panel, "x_label": tr(self.x_label, lang),
                "y_label": tr(self.y_label, lang), "x": [_json_number(v) for v in self.x],
                "y": [_json_number(v) for v in self.y]}


@dataclass(frozen=True)
class Outcome:
    """What one run found: the series to plot, the deciding numbers, whether the claim held, and why (a Message)."""

    series: Sequence[Series]
    finding: Mapping[str, float | int | bool]
    holds: bool
    summary: Message


@dataclass(frozen=True)
class Experiment:
    """One claim of an article, runnable. `article`: the seed file and section, e.g. "000_6833348b64a02e28.txt §3";
    `run(params, generator)`: the experiment on the effective parameters, with a seeded CPU generator."""

    name: str
    article: str
    title: Message
    claim: Message
    params: tuple[Param, ...]
    run: Callable[[dict[str, Any], torch.Generator], Outcome]
    panels: Mapping[str, Message] = field(default_factory=dict)  # panel id -> its chart title

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """What `lab` lists: the name, article, title, claim and parameters with their defaults."""
        return {"name": self.name, "article": self.article, "article_title": cited(self.article, lang),
                "title": tr(self.title, lang),
                "claim": tr(self.claim, lang),
                "params": [{"name": p.name, "default": p.default, "kind": p.kind, "low": p.low, "high": p.high,
                            "choices": list(p.choices), "description": tr(p.description, lang)}
                           for p in self.params]}


def cited(article: str, lang: str = "en") -> str:
    """An experiment's `article` as a reader sees it: each seed file named by its article's title, the sections
    kept ("000_6833348b64a02e28.txt §3" -> "The most common loss functions ... §3")."""
    from lossapp.examples import source_title

    return SEED_FILE.sub(lambda found: source_title(found[0], lang), article)


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def find_experiment(name: str) -> Experiment:
    key = str(name).strip().lower()
    if key not in EXPERIMENTS:
        raise InputError("lab.unknown", got=quote(str(name)), names=", ".join(EXPERIMENTS))
    return EXPERIMENTS[key]


def read_seed(seed: Any) -> int:
    """The seed as an int in [0, 2**63 - 1] (text is parsed, never evaluated)."""
    text = str(seed).strip()
    if isinstance(seed, bool) or not text.isdigit() or int(text) > SEED_LIMIT:
        raise InputError("lab.bad_seed", got=quote(text), high=SEED_LIMIT)
    return int(text)


def run_experiment(name: str, params: Mapping[str, Any] | None = None, *, seed: Any = 0,
                   lang: str = "en") -> dict[str, Any]:
    """Run one experiment and return its JSON-ready record (see the module docstring)."""
    experiment = find_experiment(name)
    effective = validate_params(dict(params or {}), experiment.params, name=experiment.name)
    generator = torch.Generator().manual_seed(read_seed(seed))
    outcome = experiment.run(effective, generator)
    return {**experiment.to_dict(lang), "params": effective, "seed": read_seed(seed),
            "panels": {k: tr(v, lang) for k, v in experiment.panels.items()},
            "series": [s.to_dict(lang) for s in outcome.series],
            "finding": {k: _json_number(v) for k, v in outcome.finding.items()},
            "holds": bool(outcome.holds), "summary": tr(outcome.summary, lang)}


def builtin_loss(name: str, **params: Any) -> Callable[..., torch.Tensor]:
    """A registered loss's torch built-in (its spec's `reference`, what lossapp checks its steps against), for the
    experiments' training loops: `loss(pred, target, reduction="mean")`, with autograd. `params` override the
    loss's defaults and are validated like a user's.

        >>> mse = builtin_loss("mse")
        >>> float(mse(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])))
        5.0
    """
    spec = lookup(name)
    effective = validate_params(params, spec.params, name=spec.name)

    def loss(pred: torch.Tensor, target: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
        return spec.reference(pred, target, effective, reduction)

    return loss


def summary_fields(finding: Mapping[str, float | int | bool]) -> dict[str, str]:
    """The finding's numbers as a summary writes them: a whole number as is, any other to 3 significant digits."""
    return {key: str(value) if isinstance(value, int) else f"{float(value):.3g}" for key, value in finding.items()}


def tail(values: Sequence[float], share: float = 0.2) -> Sequence[float]:
    """The last `share` of a run's values (at least one): where "has it settled?" is read."""
    return values[-max(1, round(len(values) * share)):]


def _json_number(value: Any) -> Any:
    """A float as JSON can carry it (NaN and ±inf as None); ints and bools unchanged."""
    if isinstance(value, bool | int):
        return value
    value = float(value)
    return value if math.isfinite(value) else None


# The experiments register themselves on import, in the order `lab` lists them.
from lossapp.lab import experiments  # noqa: E402,F401  (registration)
