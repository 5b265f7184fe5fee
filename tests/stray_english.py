"""English words left in a text meant to be in another language, outside what is not to be translated: code
(identifiers, dotted names, `--options`), library and loss names, numbers and the words formulas use."""

from __future__ import annotations

import re

import lossapp
from lossapp.i18n import catalog

# names that stay as they are in every language: libraries, functions, formula words, units of notation
NAMES = {
    "torch", "pytorch", "corrcoef", "nan", "inf", "json", "null", "cpu", "cuda", "mps", "latex", "keras", "monai",
    "scipy", "sklearn", "scikit", "learn", "tensorflow", "log", "ln", "exp", "min", "max", "sum", "mean", "sqrt",
    "softmax", "sigmoid", "logsumexp", "clamp", "logit", "logits", "relu", "tanh", "abs", "frac", "tp", "fp", "fn",
    "tn", "mcc", "iou", "dice", "acc", "spec", "eps", "lse", "pred", "target", "reduction", "none", "batchmean", "pr",
    "torchvision", "mmdetection", "mmdet", "kornia", "smp",
}
_LOSS_NAMES = {n.lower() for spec in lossapp.LOSSES.values() for n in (spec.name, *spec.aliases)}
# the source articles' own titles, as published (article 004's Chinese title has "Facal Loss" in it): names, whole
_TITLES = [title for key, title in catalog("zh").items() if key.startswith("examples.source_")]
# a step's symbol opening a line ("  [num] ..."), code, math, options, dotted or snake_case names, calls f(x),
# names called f( and keyword arguments name=value
_CODE = re.compile(r"(?m)^\s*\[[^\]\n]*\]|`[^`]*`|\$[^$]*\$|--[\w-]+|\b\w+(?:[._/]\w+)+\b|\b\w+\([^()\s]*\)|\b\w+(?=\()"
                   r"|\b\w+=[^\s,)）]+")
_WORD = re.compile(r"[A-Za-z]{2,}")


def stray_english(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """The English words of `text` outside code, formulas, numbers and names (`allowed`: more names)."""
    names = NAMES | _LOSS_NAMES | {a.lower() for a in allowed}
    for title in _TITLES:
        text = text.replace(title, " ")
    bare = _CODE.sub(" ", text)
    return [w for w in _WORD.findall(bare) if w.lower() not in names]
