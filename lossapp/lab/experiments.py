"""Imports every experiment module, in the order the Lab lists them (one line per experiment)."""
# ruff: noqa: I001  (the order is the listing order, not the alphabet)
from lossapp.lab import l1_l2_smooth_l1  # noqa: F401
from lossapp.lab import ce_vs_mse_sigmoid  # noqa: F401
from lossapp.lab import hard_vs_soft_truncation  # noqa: F401
from lossapp.lab import focal_imbalance  # noqa: F401
from lossapp.lab import l1_vs_l2_regularization  # noqa: F401
from lossapp.lab import mle_equals_ce  # noqa: F401
from lossapp.lab import hinge_vs_log  # noqa: F401
