"""Loss families; importing this package registers every loss in lossapp.registry.LOSSES.

Registration order is the order the pickers and `python -m lossapp list` show: a family's basic losses first,
then later additions (imported after the split below)."""

from lossapp.losses import (  # noqa: F401  (imported for their register() calls)
    classification,
    focal,
    margin,
    overlap,
    regression,
    regularization,
    truncated,
)

# isort: split
from lossapp.losses import entropy, poisson  # noqa: F401
