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


# `check` is both a function of the public API and a module of the package: importing the function last
# binds the package attribute to the function (a submodule import binds it only once).
from lossapp.check import check
from lossapp.counts import confusion
