"""Loss families; importing this package registers every loss in lossapp.registry.LOSSES."""

from lossapp.losses import (  # noqa: F401  (imported for their register() calls)
    classification,
    focal,
    margin,
    overlap,
    poisson,
    regression,
    regularization,
    truncated,
)
