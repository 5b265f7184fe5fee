"""The articles' worked examples: one TOML file each in examples/, loaded with stdlib tomllib.

Schema (keys other than source/loss are optional):

    source = "002_472562432bf7f397.txt"      section = "item 9"
    loss = "bce"                             reduction = "mean"
    pred = "[0.2947, 0.5898, 0.4863]"        target = "[1, 0, 0]"
    stated = "0.9264"                        # the article's value, only where the article prints it
    claimed = "0.1039"                       # or: a claim to check that the article implies (its formula's
                                             # value, not printed), shown as such
    [params]                                 # loss parameters
    [random]                                 # instead of pred/target: seed, then specs generated in order
    seed = 0
    pred = "randn(2, 3)"
    target = "randn(2, 3)"

An example's title and notes are messages of the catalogs, `[examples.<name>]` in `lossapp/locales/<lang>.toml`
(`title` and `notes`), so that they read in every language; a file in another folder may give its own English
`title` and `notes` instead. The source is the seed file's name (`00N_<hash>.txt`); what is shown is the article's
title, `source_title(source, lang)`: the catalog's `examples.source_00N` (the English, and the original Chinese title).
Where an example has no `stated` number, lossapp's value is shown as lossapp's, never as the article's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossapp.i18n import catalog, msg, tr
from lossapp.inputs import InputError

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    source: str
    loss: str
    section: str = ""
    reduction: str = "mean"
    pred: str | None = None
    target: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    stated: str | None = None
    claimed: str | None = None
    notes: str = ""
    random: dict[str, Any] | None = None

    def inputs(self) -> tuple[Any, Any]:
        """pred and target: as written, or generated from the random specs with the article's seed."""
        if self.random:
            from lossapp.inputs import random_inputs
            names = [k for k in ("pred", "target") if k in self.random]
            tensors = random_inputs(int(self.random.get("seed", 0)), [str(self.random[k]) for k in names])
            generated = dict(zip(names, tensors, strict=True))
            return generated.get("pred", self.pred), generated.get("target", self.target)
        return self.pred, self.target

    @property
    def title_zh(self) -> str:
        return example_title(self, "zh")

    @property
    def notes_zh(self) -> str:
        return tr(self.notes, "zh")

    @property
    def checked(self) -> str | None:
        """What the verdict is given on: the article's stated number, else the example's claim (or None)."""
        return self.stated if self.stated is not None else self.claimed

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "title_zh": self.title_zh, "source": self.source,
                "source_title": source_title(self.source, "en"), "source_title_zh": source_title(self.source, "zh"),
                "section": self.section, "loss": self.loss, "reduction": self.reduction, "pred": self.pred,
                "target": self.target, "params": self.params, "stated": self.stated, "claimed": self.claimed,
                "notes": self.notes, "notes_zh": self.notes_zh, "random": self.random}


_SEED_NAME = re.compile(r"(?P<article>\d{3})_[0-9a-f]+\.txt")


def source_title(source: str, lang: str = "en") -> str:
    """The title of the article a source names (a seed file `00N_<hash>.txt`: the catalog's `examples.source_00N`,
    in English with the original Chinese title, in Chinese the original); any other source as it is written."""
    found = _SEED_NAME.fullmatch(source or "")
    key = f"examples.source_{found['article']}" if found else None
    if key is None or key not in catalog("en"):
        return source
    return msg(key).render(lang)


def example_title(example: Example, lang: str = "en") -> str:
    """The example's title in `lang`."""
    return tr(example.title, lang)


def _parse(path: Path) -> Example:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError("examples.not_toml", name=path.name, error=str(exc)) from None
    for key in ("title", "notes"):  # from the catalogs, where they hold it
        if f"examples.{path.stem}.{key}" in catalog("en"):
            data[key] = msg(f"examples.{path.stem}.{key}")
    missing = [k for k in ("title", "source", "loss") if k not in data]
    if missing:
        raise InputError("examples.missing_keys", name=path.name, missing=", ".join(missing))
    known = {f for f in Example.__dataclass_fields__ if f != "name"}
    fields = {k: v for k, v in data.items() if k in known}
    for key in ("stated", "claimed"):
        fields[key] = None if data.get(key) is None else str(data[key])
    return Example(name=path.stem, **fields)


def load_examples(directory: Path | None = None) -> list[Example]:
    """Every examples/*.toml, sorted by file name."""
    folder = directory or EXAMPLES_DIR
    return [_parse(p) for p in sorted(folder.glob("*.toml"))]


def find_example(name: str, directory: Path | None = None) -> Example:
    examples = load_examples(directory)
    for ex in examples:
        if ex.name == name or ex.name.split("_", 1)[-1] == name:
            return ex
    names = ", ".join(e.name for e in examples)
    raise InputError("examples.unknown", name=repr(name), names=names)


def run_example(example: Example) -> tuple[Any, Any]:
    """(Result, Verdict on the article's stated value, or on the example's claim, or None)."""
    import lossapp

    if lossapp.lookup(example.loss).kind == "metric" and example.pred is None and not example.random:
        params = dict(example.params)
        result = lossapp.confusion(params.pop("tp"), params.pop("fp"), params.pop("fn"), params.pop("tn", None),
                                   **params)
    else:
        pred, target = example.inputs()
        result = lossapp.compute(example.loss, pred, target, reduction=example.reduction, **example.params)
    verdict = None
    if example.checked is not None:
        try:
            from lossapp.verdicts import check_result
        except ImportError:
            return result, None
        verdict = check_result(result, example.checked)
    return result, verdict
