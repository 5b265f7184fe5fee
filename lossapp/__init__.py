"""lossapp: deep-learning loss functions step by step, checked against PyTorch.

    import lossapp
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    r.value            # 0.926341...
    r.steps            # the worked solution
    r.reference        # torch.nn.functional.binary_cross_entropy, and whether it agrees
"""

from lossapp import losses as _losses  # noqa: F401  (registers every loss)
from lossapp.engine import compute
from lossapp.inputs import InputError
from lossapp.registry import LOSSES, LossSpec, Param, lookup
from lossapp.result import Result

__all__ = ["LOSSES", "InputError", "LossSpec", "Param", "Result", "check", "compute", "confusion", "lookup"]


def check(loss, pred=None, target=None, *, claimed, reduction="mean", **params):
    """Verdict on a claimed answer (see lossapp.check)."""
    from lossapp.check import check as _check
    return _check(loss, pred, target, claimed=claimed, reduction=reduction, **params)


def confusion(tp, fp, fn, tn=None, *, metric="dice"):
    """Metrics from confusion counts (see lossapp.confusion)."""
    from lossapp.confusion import confusion as _confusion
    return _confusion(tp, fp, fn, tn, metric=metric)
