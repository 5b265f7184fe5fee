"""lossapp: deep-learning loss functions step by step, checked against PyTorch.

    import lossapp
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    r.value            # tensor(0.926341..., dtype=torch.float64)
    r.scalar           # 0.926341...
    r.steps            # the worked solution
    r.reference        # torch.nn.functional.binary_cross_entropy, and whether it agrees
"""

from lossapp import losses as _losses  # noqa: F401  (registers every loss)
from lossapp.confusion_metrics import confusion
from lossapp.engine import compute
from lossapp.inputs import InputError
from lossapp.registry import LOSSES, LossSpec, Param, lookup
from lossapp.result import Result
from lossapp.verdicts import check

__all__ = ["LOSSES", "InputError", "LossSpec", "Param", "Result", "check", "compute", "confusion", "lookup"]
