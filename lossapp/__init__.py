"""lossapp: deep-learning loss functions step by step, checked against PyTorch.

`r.value` is the loss, `r.steps` the worked solution, `r.reference` torch's built-in and whether it agrees;
`help(lossapp.LOSSES[name].steps)` gives a loss's formula, reductions, params, `Shape:` and an example.

    >>> import lossapp
    >>> r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    >>> print(f"{r.value:.6f}")
    0.926341
    >>> r.reference.name, r.reference.agrees
    ('torch.nn.functional.binary_cross_entropy', True)
"""

from lossapp import losses as _losses  # noqa: F401  (registers every loss)
from lossapp.engine import compute
from lossapp.inputs import InputError
from lossapp.registry import LOSSES, LossSpec, Param, lookup
from lossapp.result import Result

__all__ = ["LOSSES", "InputError", "LossSpec", "Param", "Result", "check", "compute", "confusion", "lookup"]


# `check` and `confusion` are both functions of the public API and modules of the package: importing the
# functions last binds the package attributes to the functions (a submodule import binds them only once).
from lossapp.check import check
from lossapp.confusion import confusion
