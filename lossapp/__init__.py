"""lossapp: deep-learning loss functions step by step, checked against PyTorch.

`r.value` is the loss (a float64 tensor: shape () when reduced, the per-element shape for reduction="none"),
`r.scalar` the reduced loss as a float, `r.steps` the worked solution, `r.reference` torch's built-in and whether
it agrees; `help(lossapp.LOSSES[name].steps)` gives a loss's formula, reductions, params, `Shape:` and an example.

    >>> import lossapp
    >>> r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    >>> print(f"{r.scalar:.6f}")
    0.926341
    >>> r.value.shape, r.value.dtype
    (torch.Size([]), torch.float64)
    >>> r.reference.name, r.reference.agrees
    ('torch.nn.functional.binary_cross_entropy', True)
"""

from lossapp import losses as _losses  # noqa: F401  (registers every loss)
from lossapp.confusion_metrics import confusion
from lossapp.engine import compute
from lossapp.exceptions import (
    InputWarning,
    LossappWarning,
    PrecisionWarning,
    ReferenceWarning,
    StepWarning,
    UndefinedMetricWarning,
)
from lossapp.inputs import InputError
from lossapp.registry import LOSSES, LossSpec, Param, lookup
from lossapp.result import Result
from lossapp.verdicts import check

__all__ = ["LOSSES", "InputError", "InputWarning", "LossSpec", "LossappWarning", "Param", "PrecisionWarning",
           "ReferenceWarning", "Result", "StepWarning", "UndefinedMetricWarning", "check", "compute", "confusion", "lookup"]
