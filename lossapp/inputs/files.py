"""Safe file loaders: every size limit checked before the allocation it guards, no pickles.

A file is opened once, without blocking, and read only when it is a regular file (never a FIFO or a
device); everything is read from that one handle. Sizes come from the file's size and then from what
the format declares before its data: a zip archive's end records and directory (.npz, .pt) and an
.npy header. Each is checked against `limits` before anything it declares is decompressed or allocated,
so memory and time stay linear in the file's own size. Every failure is an InputError that names the
file (and, for a symlink, the file it points to); text from a file is quoted as a bounded excerpt.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch.serialization import MAGIC_NUMBER as _TORCH_LEGACY_MAGIC

from lossapp.i18n import Message, msg
from lossapp.inputs import limits
from lossapp.inputs.errors import InputError, quote, shape_text
from lossapp.inputs.errors import bytes_text as _bytes_text
from lossapp.inputs.parse import (
    TensorInput,
    _check_size,
    _from_json_value,
    _from_python,
    _from_torch,
    load_json,
    parse_text,
)

FILE_TYPES = (".csv", ".tsv", ".txt", ".json", ".npy", ".npz", ".pt", ".pth")
_TEXT_TYPES = (".csv", ".tsv", ".txt", ".json")


@dataclass(frozen=True)
class _Source:
    """An open file and how messages name it."""

    file: IO[bytes]
    size: int  # bytes, from fstat of the open file
    name: str  # the input's name: pred, target, parameter weight (a Message)
    where: str  # 'a.csv', or 'a.csv' -> '/real/path' for a symlink (a Message)
    ext: str
    max_bytes: int  # the file's own limit
    max_decompressed: int  # a zip archive's members, each and all together

    @property
    def label(self) -> Message:
        """The input's name for messages about the file's content: "pred (from 'a.csv')"."""
        return msg("inputs.from_file", name=self.name, file=self.where)


def load_file(path: str | os.PathLike[str] | Any, name: str, max_bytes: int | None = None) -> TensorInput:
    """Read a tensor from a .csv/.tsv/.txt/.json (the text formats of `parse_text`), .npy / .npz (numpy
    arrays of bool, integer, float or complex dtype, never pickles; the first member of an .npz) or .pt /
    .pth file (torch.save's zip format, loaded with torch.load(weights_only=True) on the CPU: a tensor, or a
    dict / list holding exactly one tensor). `path` may be an object with a `.name` path (an upload).

    Every size is checked before what it guards is read: the file (at most `max_bytes`, default
    limits.MAX_FILE_BYTES; the characters of a text, MAX_TEXT_CHARS), a zip archive's directory
    (MAX_ZIP_DIRECTORY_BYTES) and members (MAX_DECOMPRESSED_BYTES each and together, or `max_bytes` when
    given; MAX_COMPRESSION_RATIO), an .npy header (MAX_NPY_HEADER_BYTES) and the array it declares
    (MAX_ELEMENTS, MAX_DIMS, bytes), a .pt file's pickle (MAX_PICKLE_BYTES). Legacy (pre-1.6) torch files
    are refused: their loader allocates what their pickle declares before reading it."""
    max_file = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    text_path = _path_text(path, name)
    filename = Path(text_path).name
    try:
        st = os.stat(text_path)
    except FileNotFoundError:
        raise InputError("inputs.file_missing", name=name, file=quote(filename)) from None
    except (OSError, ValueError) as exc:  # permissions, a name too long, a symlink loop, a null character
        raise InputError("inputs.file_unreadable", name=name, file=quote(filename), reason=_path_reason(exc)) from None
    where = quote(filename)
    if os.path.islink(text_path):
        where = msg("inputs.symlink", link=where, target=quote(os.path.realpath(text_path)))
    _require_regular(st, name, where)
    ext = Path(filename).suffix.lower()
    if ext not in FILE_TYPES:
        raise InputError("inputs.file_type", name=name, types=", ".join(FILE_TYPES[:-1]), last=FILE_TYPES[-1],
                         file=quote(filename))
    _require_size(st.st_size, max_file, name)
    try:  # O_NONBLOCK: if the path became a FIFO since stat, opening it does not wait for a writer
        fd = os.open(text_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as exc:
        raise InputError("inputs.file_unreadable", name=name, file=where, reason=_path_reason(exc)) from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(file.fileno())  # the file actually opened
        _require_regular(st, name, where)
        _require_size(st.st_size, max_file, name)
        source = _Source(file, st.st_size, name, where, ext, max_file,
                         limits.MAX_DECOMPRESSED_BYTES if max_bytes is None else max_bytes)
        try:
            if ext in _TEXT_TYPES:
                return _load_text(source)
            if ext == ".npy":
                return _load_npy(source)
            if ext == ".npz":
                return _load_npz(source)
            return _load_torch(source)
        except InputError:
            raise
        except Exception as exc:  # whatever a loader raises on a corrupt file (zipfile, numpy, torch, pickle)
            raise InputError("inputs.file_corrupt", name=name, ext=ext, file=where, reason=_reason(exc)) from None


def _path_text(path: Any, name: str) -> str:
    if path is None:
        raise InputError("inputs.file_nothing", name=name)
    given = path
    if not isinstance(path, str | bytes | os.PathLike):
        path = getattr(path, "name", None)  # file objects and upload wrappers
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:  # no path at all, or a file object opened from a descriptor (its name is a number)
        raise InputError("inputs.file_path", name=name, type=_short(type(given).__name__)) from None


def _path_reason(exc: OSError | ValueError) -> str:
    """Why a path cannot be opened: the OSError's text (os.stat's only ValueError is a null character)."""
    if isinstance(exc, OSError):
        return exc.strerror or _reason(exc)
    return msg("inputs.null_in_path") if "null" in str(exc) else _reason(exc)


def _reason(exc: BaseException) -> str:
    """The first line of an exception's text, bounded, for a message (the Message itself when it carries one:
    the ValueErrors and BadZipFiles raised here)."""
    if len(exc.args) == 1 and isinstance(exc.args[0], Message):
        return exc.args[0]
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str, limit: int = 200) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = line if line.isprintable() else ascii(line)[1:-1]
    return line if len(line) <= limit else line[:limit] + "…"


_SPECIAL_FILES = {stat.S_ISFIFO: "inputs.kind_fifo", stat.S_ISCHR: "inputs.kind_character_device",
                  stat.S_ISBLK: "inputs.kind_block_device", stat.S_ISSOCK: "inputs.kind_socket"}


def _require_regular(st: os.stat_result, name: str, where: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise InputError("inputs.file_missing", name=name, file=where)
    if not stat.S_ISREG(st.st_mode):
        kind = next((kind for test, kind in _SPECIAL_FILES.items() if test(st.st_mode)), "inputs.kind_special")
        raise InputError("inputs.file_not_regular", name=name, file=where, kind=msg(kind))


def _require_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise InputError("inputs.file_too_big", name=name, limit=_bytes_text(max_bytes), size=_bytes_text(size))


def _read_all(source: _Source) -> bytes:
    data = source.file.read(source.max_bytes + 1)  # a file that grew since fstat is still bounded
    _require_size(len(data), source.max_bytes, source.name)
    return data


# -- text --------------------------------------------------------------------------------------------

_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


def _load_text(source: _Source) -> TensorInput:
    raw = _read_all(source)
    if len(raw) > limits.MAX_TEXT_CHARS:  # decoding may take 4 bytes per character: count them first
        chars = len(raw.translate(None, _UTF8_CONTINUATION)) - raw.startswith(b"\xef\xbb\xbf")
        if chars > limits.MAX_TEXT_CHARS:
            raise InputError("inputs.too_many_characters", name=source.label, limit=limits.MAX_TEXT_CHARS,
                             count=chars)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("inputs.file_undecodable", name=source.name, file=source.where, byte=exc.start) from None
    del raw
    if source.ext == ".json":
        return _load_json(text, source)
    return parse_text(text, source.label)


def _load_json(text: str, source: _Source) -> TensorInput:
    """A list or a number is read by parse_text, which reads JSON (with the decimals as written); JSON then
    only names a syntax error. An object holding one list goes through load_json (nesting and number lengths
    checked before json.loads, integers of any length read). json.loads builds up to ~30 bytes of Python
    objects per character, so it sees texts of up to limits.MAX_JSON_CHARS only: longer .json files go to
    parse_text whole."""
    small = len(text) <= limits.MAX_JSON_CHARS
    if small and text.lstrip().startswith("{"):
        try:
            data = load_json(text, source.label)
        except json.JSONDecodeError as exc:
            raise _json_error(exc, source) from None
        return _from_json_value(data, source.label)
    try:
        return parse_text(text, source.label)
    except InputError as exc:
        if small:
            exc.__traceback__ = None  # parse_text's frames (and their arrays) go before json.loads runs
            try:  # JSON's own message when the text is not JSON at all
                load_json(text, source.label)
            except json.JSONDecodeError as syntax:
                raise _json_error(syntax, source) from None
            except InputError:
                pass  # nested too deep or a number too long: parse_text has said so in its own words
        raise


def _json_error(exc: json.JSONDecodeError, source: _Source) -> InputError:
    return InputError("inputs.file_invalid_json", name=source.name, file=source.where, error=exc.msg,
                      line=exc.lineno, column=exc.colno)


# -- numpy -------------------------------------------------------------------------------------------

_NUMPY_KINDS = "biufc"  # bool, int, uint, float, complex: bool and complex get parse's own messages


def _load_npy(source: _Source) -> TensorInput:
    head = source.file.read(8)
    source.file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        raise InputError("inputs.npz_as_npy", name=source.name, file=source.where)
    if not head.startswith(np.lib.format.MAGIC_PREFIX):
        raise ValueError(msg("inputs.not_npy", head=repr(head)))
    return _from_python(_read_npy(source.file, source.size, source), source.label)


def _load_npz(source: _Source) -> TensorInput:
    with _open_zip(source, msg("inputs.members_arrays")) as archive:
        members = archive.infolist()
        if not members:
            raise InputError("inputs.npz_empty", name=source.name, file=source.where)
        first = members[0]  # np.load(...).files[0]: np.savez writes one member per array, in order
        with archive.open(first) as member:
            if member.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                raise InputError("inputs.npz_first", name=source.name, file=source.where,
                                 member=quote(first.filename))
        with archive.open(first) as member:
            array = _read_npy(member, first.file_size, source)
    return _from_python(array, source.label)


def _read_npy(stream: IO[bytes], available: int, source: _Source) -> np.ndarray:
    """An .npy array from `stream` (a file, or an archive member of `available` bytes): the header is read
    and checked (dtype, dimensions, elements, bytes) before its data is."""
    major, minor = np.lib.format.read_magic(stream)
    if (major, minor) not in ((1, 0), (2, 0)):
        raise ValueError(msg("inputs.npy_version", version=f"{major}.{minor}"))
    length = stream.read(2 if major == 1 else 4)
    header_bytes = int.from_bytes(length, "little")
    if header_bytes > limits.MAX_NPY_HEADER_BYTES:
        raise InputError("inputs.npy_header", name=source.name, limit=_bytes_text(limits.MAX_NPY_HEADER_BYTES),
                         size=_bytes_text(header_bytes), file=source.where)
    header = np.lib.format.magic(major, minor) + length + stream.read(header_bytes)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(io.BytesIO(header[8:]), max_header_size=limits.MAX_NPY_HEADER_BYTES)
    if dtype.hasobject:
        raise InputError("inputs.npy_pickle", name=source.name, file=source.where)
    if dtype.kind not in _NUMPY_KINDS:
        raise InputError("inputs.npy_dtype", name=source.name, file=source.where, dtype=quote(dtype.str, 40))
    if len(shape) > limits.MAX_DIMS:
        raise InputError("inputs.too_many_dims", name=source.label, limit=limits.MAX_DIMS, count=len(shape))
    if any(n < 0 for n in shape):
        raise ValueError(msg("inputs.npy_negative", shape=shape_text(shape)))
    count = math.prod(shape)
    _check_size(count, source.label)
    nbytes = count * dtype.itemsize
    if nbytes > source.max_decompressed:
        raise InputError("inputs.npy_too_big", name=source.name, limit=_bytes_text(source.max_decompressed),
                         size=_bytes_text(nbytes), shape=shape_text(shape), dtype=dtype.str, file=source.where)
    if nbytes > available - len(header):
        raise ValueError(msg("inputs.npy_truncated", declared=nbytes, held=max(available - len(header), 0)))
    # numpy reads the header just checked (the same bytes, not the stream again) and then the data
    return np.lib.format.read_array(_Chained(header, stream), allow_pickle=False,
                                    max_header_size=limits.MAX_NPY_HEADER_BYTES)


class _Chained:
    """A stream of `head` (bytes already read) and then the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head, self._stream = head, stream

    def read(self, n: int | None = -1) -> bytes:
        n = -1 if n is None else n
        if not self._head:
            return self._stream.read(n)
        taken, self._head = (self._head, b"") if n < 0 else (self._head[:n], self._head[n:])
        return taken if len(taken) == n else taken + self._stream.read(n - len(taken) if n >= 0 else -1)


# -- zip archives (.npz, and torch.save's format) ----------------------------------------------------

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (without extensible data)


def _open_zip(source: _Source, what: Message) -> zipfile.ZipFile:
    """The archive, once its directory and every member's declared size, total and method are within the
    limits (`what` names the members in messages: arrays, records)."""
    entries, directory_bytes = _zip_directory(source.file, source.size)
    if directory_bytes > limits.MAX_ZIP_DIRECTORY_BYTES:
        raise InputError("inputs.zip_directory", name=source.name, limit=_bytes_text(limits.MAX_ZIP_DIRECTORY_BYTES),
                         size=_bytes_text(directory_bytes), file=source.where)
    source.file.seek(0)
    archive = zipfile.ZipFile(source.file)
    try:
        _check_members(archive, entries, source, what)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_members(archive: zipfile.ZipFile, entries: int, source: _Source, what: Message) -> None:
    members = archive.infolist()
    if len(members) != entries:
        raise zipfile.BadZipFile(msg("inputs.zip_count", entries=entries, listed=len(members)))
    limit, total = source.max_decompressed, 0
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InputError("inputs.zip_method", name=source.name, method=info.compress_type,
                             member=quote(info.filename, 100), file=source.where)
        if info.file_size > limit:
            raise InputError("inputs.zip_member_too_big", name=source.name, what=what, limit=_bytes_text(limit),
                             size=_bytes_text(info.file_size), file=source.where)
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.MAX_COMPRESSION_RATIO:
            raise InputError("inputs.zip_ratio", name=source.name, limit=limits.MAX_COMPRESSION_RATIO, ratio=ratio,
                             member=quote(info.filename, 100), file=source.where)
        total += info.file_size
    if total > limit:
        raise InputError("inputs.zip_total", name=source.name, limit=_bytes_text(limit), size=_bytes_text(total),
                         file=source.where)


def _zip_directory(file: IO[bytes], size: int) -> tuple[int, int]:
    """(members, bytes) of a zip archive's central directory, from its end records, read so that zipfile
    and torch's reader (miniz) see the same directory: the last end record, a zip64 record right before
    it where its locator points and agreeing with it, and the directory right before those; anything else
    (data before the archive, a directory elsewhere) is refused."""
    window = min(size, _END.size + 0xFFFF + _END64_LOCATOR.size)  # the end record ends in a comment of < 64 KiB
    file.seek(size - window)
    tail = file.read(window)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END.size > len(tail):
        raise zipfile.BadZipFile(msg("inputs.zip_no_end"))
    _, disk, directory_disk, _, entries, directory_bytes, directory_start, _ = _END.unpack_from(tail, at)
    end = size - window + at  # where the directory must end
    locator = at - _END64_LOCATOR.size
    if locator >= 0 and tail.startswith(b"PK\x06\x07", locator):
        _, _, record_start, _ = _END64_LOCATOR.unpack_from(tail, locator)
        end = size - window + locator - _END64.size
        file.seek(max(end, 0))
        record = file.read(_END64.size)
        if end < 0 or record_start != end or not record.startswith(b"PK\x06\x06"):
            raise zipfile.BadZipFile(msg("inputs.zip64_locator"))
        _, _, _, _, disk, directory_disk, _, entries64, bytes64, start64 = _END64.unpack(record)
        for short, wide, overflow in ((entries, entries64, 0xFFFF), (directory_bytes, bytes64, 0xFFFFFFFF),
                                      (directory_start, start64, 0xFFFFFFFF)):
            if short not in (wide, overflow):
                raise zipfile.BadZipFile(msg("inputs.zip64_disagree"))
        entries, directory_bytes, directory_start = entries64, bytes64, start64
    if disk or directory_disk:
        raise zipfile.BadZipFile(msg("inputs.zip_disks"))
    if directory_start + directory_bytes != end:
        raise zipfile.BadZipFile(msg("inputs.zip_directory_place"))
    return entries, directory_bytes


# -- torch -------------------------------------------------------------------------------------------

# torch.save's format before torch 1.6: a pickle stream starting with this number (or a tar archive); its
# loader allocates every storage at the size its pickle declares, before reading it, so it is not read.
_LEGACY_MARKS = (_TORCH_LEGACY_MAGIC.to_bytes(10, "little"), str(_TORCH_LEGACY_MAGIC).encode())


def _load_torch(source: _Source) -> TensorInput:
    head = source.file.read(512)
    if not head.startswith(b"PK\x03\x04"):  # what torch.load itself tests to choose the zip format
        if any(mark in head[:64] for mark in _LEGACY_MARKS) or head[257:262] == b"ustar":
            raise InputError("inputs.torch_legacy", name=source.name, file=source.where)
        raise InputError("inputs.torch_refused", name=source.name, file=source.where, detail=msg("inputs.not_zip"))
    with _open_zip(source, msg("inputs.members_records")) as archive:
        for info in archive.infolist():
            if info.filename.rpartition("/")[2] == "data.pkl" and info.file_size > limits.MAX_PICKLE_BYTES:
                raise InputError("inputs.torch_pickle_size", name=source.name,
                                 limit=_bytes_text(limits.MAX_PICKLE_BYTES), size=_bytes_text(info.file_size),
                                 file=source.where)
    source.file.seek(0)
    try:
        data = torch.load(source.file, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # torch's text suggests weights_only=False; name only what it refused
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\.\s|\n|$)", str(exc), re.S)
        detail = _first_line(found.group(1)) if found else msg("inputs.not_tensors")
        raise InputError("inputs.torch_refused", name=source.name, file=source.where, detail=detail) from None
    if isinstance(data, torch.Tensor):
        return _from_torch(data, source.label)
    if isinstance(data, dict | list | tuple):
        items = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
        tensors = [(k, v) for k, v in items if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return _from_torch(tensors[0][1], source.label)
        keys = ", ".join(_short(str(k)) for k, _ in tensors[:5]) + (", ..." if len(tensors) > 5 else "")
        found = (msg("inputs.found_tensors", type=type(data).__name__, count=len(tensors), keys=keys) if tensors
                 else msg("inputs.found_no_tensors", type=type(data).__name__))
    else:
        found = msg("inputs.found_object", type=_short(type(data).__name__))
    raise InputError("inputs.torch_contents", name=source.name, file=source.where, found=found)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit and text.isprintable() else quote(text, limit)
