"""The independent peer libraries the overlap and convention tests compare with: MONAI, segmentation_models_pytorch
(smp) and scikit-learn, installed with `--no-deps` next to the pinned torch (requirements-peers.txt). A test that
needs one skips with the reason where it is not installed, and fails instead under CI=true."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

import pytest

INSTALL = "pip install --no-deps -r requirements-peers.txt"


def _unavailable(message: str) -> None:
    """Under CI a peer library that cannot be imported is a failure, never a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def peer(module: str) -> Any:
    """Import a peer library's module, or skip (fail under CI) saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        _unavailable(f"{module} is not importable ({err}); install the peers with `{INSTALL}`")
    raise AssertionError("unreachable")  # _unavailable raised


def smp_losses() -> Any:
    """segmentation_models_pytorch.losses. smp's package __init__ imports its encoders, which need timm and
    torchvision (no torchvision wheel matches torch 2.13.0 here); its losses need only torch. When the package
    itself does not import, its losses are imported under a bare parent package (no __init__ run)."""
    try:
        return importlib.import_module("segmentation_models_pytorch.losses")
    except ImportError:
        pass
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        _unavailable(f"segmentation_models_pytorch is not installed; install the peers with `{INSTALL}`")
    for name in [m for m in sys.modules if m == "segmentation_models_pytorch" or m.startswith("segmentation_models_pytorch.")]:
        del sys.modules[name]  # a half-imported package from the failed attempt
    parent = types.ModuleType("segmentation_models_pytorch")
    parent.__path__ = list(spec.submodule_search_locations)
    sys.modules["segmentation_models_pytorch"] = parent
    return importlib.import_module("segmentation_models_pytorch.losses")
