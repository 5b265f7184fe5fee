"""Safe file loaders: sizes checked before reading, no pickles."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lossapp.inputs import limits
from lossapp.inputs.errors import InputError
from lossapp.inputs.errors import bytes_text as _bytes_text
from lossapp.inputs.parse import TensorInput, _from_json_value, _from_python, _from_torch, parse_text

# -- files -------------------------------------------------------------------------------------------

FILE_TYPES = (".csv", ".tsv", ".txt", ".json", ".npy", ".npz", ".pt", ".pth")


def load_file(path: str | os.PathLike[str] | Any, name: str, max_bytes: int | None = None) -> TensorInput:
    """Read a tensor from a .csv/.tsv/.txt/.json (text formats of `parse_text`), .npy / .npz (numpy,
    allow_pickle=False; the first array of an .npz) or .pt / .pth file (torch.load with weights_only=True on
    the CPU: a tensor, or a dict / list holding exactly one tensor). The size limit is checked before reading."""
    max_bytes = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    if path is None:
        raise InputError(f"{name}: expected a file, got nothing")
    if not isinstance(path, str | os.PathLike) and hasattr(path, "name"):
        path = path.name  # file objects and upload wrappers
    path = Path(path)
    filename = path.name
    try:
        size = path.stat().st_size
    except OSError:
        raise InputError(f"{name}: expected an existing file, got {filename!r}") from None
    if not path.is_file():
        raise InputError(f"{name}: expected an existing file, got {filename!r}")
    ext = path.suffix.lower()
    if ext not in FILE_TYPES:
        raise InputError(f"{name}: expected a {', '.join(FILE_TYPES[:-1])} or {FILE_TYPES[-1]} file, got {filename!r}")
    if size > max_bytes:
        raise InputError(f"{name}: expected a file of at most {_bytes_text(max_bytes)}, got {_bytes_text(size)}")
    try:
        if ext in (".csv", ".tsv", ".txt", ".json"):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: expected UTF-8 text in {filename!r}, got undecodable bytes at byte "
                                 f"{exc.start}") from None
            if ext == ".json":
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{name}: expected valid JSON in {filename!r}, got {exc.msg} at line "
                                     f"{exc.lineno}, column {exc.colno}") from None
                if isinstance(data, dict):
                    return _from_json_value(data, name)
            return parse_text(text, name)
        if ext == ".npy":
            return _load_npy(path, name, filename)
        if ext == ".npz":
            return _load_npz(path, name, filename, max_bytes)
        return _load_torch(path, name, filename)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{name}: expected a file that fits in memory, got {filename!r}") from None
    except Exception as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: expected a valid {ext} file, got one that cannot be read ({detail})") from None


def _load_npy(path: Path, name: str, filename: str) -> TensorInput:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"{name}: expected a numeric array in {filename!r}, got a pickled object array "
                             "(not loaded, for safety)") from None
        raise
    if not isinstance(array, np.ndarray):
        raise InputError(f"{name}: expected a .npy array in {filename!r}, got an .npz archive")
    return _from_python(array, name)


def _load_npz(path: Path, name: str, filename: str, max_bytes: int) -> TensorInput:
    with zipfile.ZipFile(path) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
        if not members:
            raise InputError(f"{name}: expected at least one array in {filename!r}, got none")
        if members[0].file_size > max_bytes:
            raise InputError(f"{name}: expected arrays of at most {_bytes_text(max_bytes)} uncompressed, got "
                             f"{_bytes_text(members[0].file_size)} in {filename!r}")
    with np.load(path, allow_pickle=False) as archive:
        key = archive.files[0]
        try:
            array = archive[key]
        except ValueError as exc:
            if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                raise InputError(f"{name}: expected a numeric array in {filename!r}, got a pickled object array "
                                 "(not loaded, for safety)") from None
            raise
    return _from_python(array, name)


def _load_torch(path: Path, name: str, filename: str) -> TensorInput:
    import pickle

    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # torch's text suggests weights_only=False; name only what it refused
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\.\s|\n|$)", str(exc), re.S)
        detail = found.group(1).strip()[:200] if found else "not a file of tensors"
        raise InputError(f"{name}: expected tensors saved with torch.save in {filename!r}, got a file that "
                         f"torch.load(weights_only=True) refuses ({detail})") from None
    if isinstance(data, torch.Tensor):
        return _from_torch(data, name)
    if isinstance(data, dict | list | tuple):
        items = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
        tensors = [(k, v) for k, v in items if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return _from_torch(tensors[0][1], name)
        kind = type(data).__name__
        keys = ", ".join(str(k) for k, _ in tensors[:5]) + (", ..." if len(tensors) > 5 else "")
        desc = f"a {kind} with {len(tensors)} tensors" + (f" ({keys})" if tensors else "")
    else:
        desc = f"an object of type {type(data).__name__}"
    raise InputError(f"{name}: expected a tensor, or a dict or list holding exactly one tensor, in {filename!r}, "
                     f"got {desc}")


