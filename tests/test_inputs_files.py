"""lossapp.inputs.files: every size limit at the limit (read) and just past it (refused, naming the limit),
hostile files refused with bounded messages that name the file, and the peak memory and time of refusing
each hostile file, measured in a fresh process."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
import torch
from test_inputs import raises

import lossapp.inputs.files as loaders
from lossapp.inputs import InputError, limits, load_file, param_name

ROOT = Path(__file__).resolve().parent.parent
MAX_MESSAGE = 1000  # characters: a message quotes the file's name and content in bounded excerpts



@pytest.fixture(autouse=True)
def limits_of_these_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits these tests were written for: the mechanism (checks before allocation), not the numbers, is
    under test; README's table gives the numbers in force."""
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 2_000_000)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 50 * 2**20)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 50 * 2**20)


def refused(match: str, path: Path | str, **kwargs) -> str:
    """load_file refuses `path` with an InputError matching `match`, bounded, with its Chinese."""
    message = raises(match, load_file, path, "pred", **kwargs)
    assert len(message) <= MAX_MESSAGE, message[:2000]
    return message


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def zip_with(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def zeros_member(path: Path, member: str, head: bytes, zero_bytes: int, before: dict[str, bytes] | None = None,
                 after: dict[str, bytes] | None = None) -> Path:
    """A deflated zip whose `member` is `head` and then `zero_bytes` zeros (written a MiB at a time), between
    the records `before` and `after`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (before or {}).items():
            archive.writestr(name, data)
        with archive.open(member, "w", force_zip64=True) as out:
            out.write(head)
            for start in range(0, zero_bytes, 2**20):
                out.write(bytes(min(2**20, zero_bytes - start)))
        for name, data in (after or {}).items():
            archive.writestr(name, data)
    return path


def torch_records(value: object) -> dict[str, bytes]:
    """The records of torch.save(value)'s zip archive."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def record(names: Iterable[str], suffix: str) -> str:
    return next(name for name in names if name.endswith(suffix))


def members(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def directory_only_zip(path: Path, entries: int) -> Path:
    """A zip archive that is nothing but a central directory of `entries` one-letter members."""
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    directory = entry * entries
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(directory), 0, 0)
    path.write_bytes(directory + end)
    return path


def no_read(*args, **kwargs):
    raise AssertionError("read before the limit was checked")


# -- every limit at the limit and just past it -------------------------------------------------------

def test_file_bytes_limit(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("0.5, 0.25\n", encoding="utf-8")
    size = path.stat().st_size
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", size)
    assert load_file(path, "pred").shape == (2,)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", size - 1)
    refused(rf"^pred: expected a file of at most {size - 1} bytes, got {size} bytes$", path)


def test_member_and_total_decompressed_limits(tmp_path, monkeypatch):
    one = tmp_path / "one.npz"
    np.savez(one, a=np.arange(6.0))
    member = members(one)[0].file_size
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", member)
    assert load_file(one, "pred").shape == (6,)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", member - 1)
    monkeypatch.setattr(np.lib.format, "read_array", no_read)
    refused(rf"^pred: expected arrays of at most {member - 1} bytes uncompressed, got {member} bytes in 'one\.npz'$", one)
    monkeypatch.undo()

    two = tmp_path / "two.npz"
    np.savez(two, a=np.arange(6.0), b=np.arange(6.0))
    total = sum(info.file_size for info in members(two))
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", total)
    assert load_file(two, "pred").shape == (6,)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", total - 1)
    refused(rf"^pred: expected at most {total - 1} bytes uncompressed in all, got {total} bytes in 'two\.npz'$", two)


def test_torch_record_and_total_limits(tmp_path, monkeypatch):
    path = tmp_path / "t.pt"
    torch.save(torch.arange(100.0), path)
    sizes = [info.file_size for info in members(path)]
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", sum(sizes))
    assert load_file(path, "pred").shape == (100,)
    monkeypatch.setattr(torch, "load", no_read)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", sum(sizes) - 1)
    refused(r"^pred: expected at most .+ uncompressed in all, got .+ in 't\.pt'$", path)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", max(sizes) - 1)
    refused(rf"^pred: expected records of at most {max(sizes) - 1} bytes uncompressed, got {max(sizes)} bytes in "
            r"'t\.pt'$", path)


def test_compression_ratio_limit(tmp_path, monkeypatch):
    path = tmp_path / "z.npz"
    np.savez_compressed(path, np.zeros(100_000))
    info = members(path)[0]
    ratio = info.file_size / info.compress_size
    assert 100 < ratio < limits.MAX_COMPRESSION_RATIO == 1032  # zeros deflate ~1000:1, deflate's ceiling
    monkeypatch.setattr(limits, "MAX_COMPRESSION_RATIO", math.ceil(ratio))
    assert load_file(path, "pred").shape == (100_000,)
    monkeypatch.setattr(limits, "MAX_COMPRESSION_RATIO", math.floor(ratio))
    refused(rf"^pred: expected members compressed at most {math.floor(ratio)}:1, got {ratio:,.0f}:1 for member "
            r"'arr_0\.npy' of 'z\.npz'$", path)


def test_zip_directory_limit(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    np.savez(path, a=np.arange(3.0), b=np.arange(2.0))
    raw = path.read_bytes()
    directory = int.from_bytes(raw[-10:-6], "little")  # the end record's directory size (no comment)
    assert raw[-22:-18] == b"PK\x05\x06" and 100 < directory < 1000
    monkeypatch.setattr(limits, "MAX_ZIP_DIRECTORY_BYTES", directory)
    assert load_file(path, "pred").shape == (3,)
    monkeypatch.setattr(limits, "MAX_ZIP_DIRECTORY_BYTES", directory - 1)
    monkeypatch.setattr(zipfile, "ZipFile", no_read)
    refused(rf"^pred: expected a zip directory \(its list of members\) of at most {directory - 1} bytes, got "
            rf"{directory} bytes in 'a\.npz'$", path)


def test_npy_header_limit(tmp_path, monkeypatch):
    path = tmp_path / "a.npy"
    np.save(path, np.arange(3.0))
    header = int.from_bytes(path.read_bytes()[8:10], "little")
    monkeypatch.setattr(limits, "MAX_NPY_HEADER_BYTES", header)
    assert load_file(path, "pred").shape == (3,)
    monkeypatch.setattr(limits, "MAX_NPY_HEADER_BYTES", header - 1)
    refused(rf"^pred: expected an \.npy header of at most {header - 1} bytes, got {header} bytes in 'a\.npy'$", path)
    # a header length of 4 GiB in a file of a few bytes: refused from the length, nothing more is read
    (tmp_path / "long.npy").write_bytes(np.lib.format.magic(2, 0) + struct.pack("<I", 2**32 - 1) + b"{}")
    refused(r"^pred: expected an \.npy header of at most .+, got 4\.0 GiB in 'long\.npy'$", tmp_path / "long.npy")


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_header_elements_dims_and_bytes_limits(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"a{suffix}"
    array = np.arange(6.0).reshape(1, 2, 3)
    (np.save if suffix == ".npy" else np.savez)(path, array)
    for limit, values in (("MAX_ELEMENTS", 6), ("MAX_DIMS", 3), ("MAX_DECOMPRESSED_BYTES", 6 * 8 + 128)):
        monkeypatch.setattr(limits, limit, values)
    assert load_file(path, "pred").shape == (1, 2, 3)
    monkeypatch.setattr(np.lib.format, "read_array", no_read)  # each refusal comes from the header
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 5)
    refused(rf"^pred \(from 'a\{suffix}'\): expected at most 5 elements, got 6$", path)
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 6)
    monkeypatch.setattr(limits, "MAX_DIMS", 2)
    refused(rf"^pred \(from 'a\{suffix}'\): expected at most 2 dimensions, got 3$", path)
    if suffix == ".npy":  # in an .npz the member's own size is checked first
        monkeypatch.setattr(limits, "MAX_DIMS", 3)
        monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 47)
        refused(r"^pred: expected arrays of at most 47 bytes, got 48 bytes \(shape \(1, 2, 3\), dtype <f8\) in "
                r"'a\.npy'$", path)


def test_pickle_limit(tmp_path, monkeypatch):
    path = tmp_path / "t.pt"
    torch.save({"logits": torch.ones(2, 3)}, path)
    size = next(info.file_size for info in members(path) if info.filename.endswith("/data.pkl"))
    monkeypatch.setattr(limits, "MAX_PICKLE_BYTES", size)
    assert load_file(path, "pred").shape == (2, 3)
    monkeypatch.setattr(limits, "MAX_PICKLE_BYTES", size - 1)
    monkeypatch.setattr(torch, "load", no_read)
    refused(rf"^pred: expected a data\.pkl of at most {size - 1} bytes, got {size} bytes in 't\.pt'$", path)


def test_json_chars_limit(tmp_path, monkeypatch):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2", encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_JSON_CHARS", 5)  # json.loads checks it: JSON's own message
    refused(r"^pred: expected valid JSON in 'bad\.json', got Expecting ',' delimiter at line 1, column 6$", path)
    monkeypatch.setattr(limits, "MAX_JSON_CHARS", 4)  # longer: parse_text reads it, without json.loads
    monkeypatch.setattr(json, "loads", no_read)
    refused(r"^pred \(from 'bad\.json'\): expected balanced brackets", path)


def test_json_objects_go_through_load_json(tmp_path):
    """An object is read by parse.load_json: its nesting and number lengths are checked before json.loads,
    and an integer longer than int() reads is a float, not a crash."""
    def write(name: str, text: str) -> Path:
        (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path / name

    for depth in (100, 5000):
        path = write(f"deep{depth}.json", '{"pred": ' + "[" * depth + "1" + "]" * depth + "}")
        refused(rf"^pred \(from 'deep{depth}\.json'\): expected brackets nested at most 64 deep, got {depth + 1:,}$", path)
    text = '{"pred": [1, ' + "1" * 20_000 + "]}"
    refused(r"^pred \(from 'long\.json'\): expected a number of at most 10,000 characters, got 20,000 characters at "
            r"character 14$", write("long.json", text))
    assert load_file(write("big.json", '{"pred": [1, ' + "9" * 5000 + "]}"), "pred").values.tolist() == [1, math.inf]
    refused(r"^pred: expected valid JSON in 'bad\.json', got Expecting ',' delimiter at line 1, column 15$",
            write("bad.json", '{"pred": [1, 2}'))
    assert load_file(write("ok.json", '{"pred": [[0.5, 1], [2, 3]]}'), "pred").values.tolist() == [[0.5, 1], [2, 3]]
    # a list parse_text refuses: JSON's own message when it is not JSON, parse_text's when it is
    refused(r"^pred: expected valid JSON in 'bad_list\.json', got Expecting value at line 1, column 5$",
            write("bad_list.json", "[1, x]"))
    refused(r"^pred \(from 'text\.json'\): expected a number, got '\"a\"' at character 5$", write("text.json", '[1, "a"]'))


def _chinese(path: Path, name: object = "pred") -> str:
    with pytest.raises(InputError) as info:
        load_file(path, name)
    return info.value.render("zh")


def test_file_names_with_colons_get_chinese(tmp_path):
    (tmp_path / "a:b.csv").write_text("0.5, abc", encoding="utf-8")
    refused(r"^pred \(from 'a:b\.csv'\): expected a number, got 'abc' at character 6$", tmp_path / "a:b.csv")
    assert _chinese(tmp_path / "a:b.csv") == "pred（来自 'a:b.csv'）：期望一个数，但第 6 个字符处是 'abc'"
    (tmp_path / "a): b.csv").write_text("0.5, abc", encoding="utf-8")  # the name holds what follows it
    assert _chinese(tmp_path / "a): b.csv") == "pred（来自 'a): b.csv'）：期望一个数，但第 6 个字符处是 'abc'"
    np.save(tmp_path / "w:1.npy", np.zeros((2, 2, 2)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(limits, "MAX_DIMS", 2)
        raises(r"^parameter weight \(from 'w:1\.npy'\): expected at most 2 dimensions, got 3$", load_file,
               tmp_path / "w:1.npy", param_name("weight"))
        assert _chinese(tmp_path / "w:1.npy", param_name("weight")) == "参数 weight（来自 'w:1.npy'）：最多允许 2 维，实际为 3 维"


def test_text_chars_counted_before_decoding(tmp_path, monkeypatch):
    text = "# ééééé\n0.5, 0.25\n"  # 5 more bytes than characters
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", len(text))  # the file has more bytes than that
    assert load_file(path, "pred").shape == (2,)
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", len(text) - 1)
    monkeypatch.setattr(loaders, "parse_text", no_read)  # refused by files.py, before decoding
    refused(rf"^pred \(from 'a\.csv'\): expected at most {len(text) - 1} characters, got {len(text)}$", path)


# -- hostile files -----------------------------------------------------------------------------------

def test_npz_member_not_named_npy_is_checked(tmp_path):
    # 80 MiB of zeros deflate to ~80 KiB: refused from the directory, whatever the member is called
    path = zeros_member(tmp_path / "bomb.npz", "x", npy_header((10_000_000,)), 80_000_000,
                        after={"b.npy": npy_bytes(np.ones(2))})
    assert path.stat().st_size < 200_000
    refused(r"^pred: expected arrays of at most 50 MiB uncompressed, got 76\.3 MiB in 'bomb\.npz'$", path)
    # a member named without .npy is still the first array (as np.load reads it)
    zip_with(tmp_path / "named.npz", {"x": npy_bytes(np.array([0.5, 0.25]))})
    assert load_file(tmp_path / "named.npz", "pred").values.tolist() == [0.5, 0.25]
    zip_with(tmp_path / "text.npz", {"readme.txt": b"not an array", "b.npy": npy_bytes(np.ones(2))})
    refused(r"^pred: expected an \.npy array as the first member of 'text\.npz', got 'readme\.txt', which is not one$",
            tmp_path / "text.npz")
    zip_with(tmp_path / "long.npz", {"n" * 60_000: b"plain text"})
    refused(r"got 'nnnn.*… \(60,000 characters\), which is not one$", tmp_path / "long.npz")


@pytest.mark.parametrize("shape", [(10**12,), (2**40, 2**40), (3_000_000,)])
def test_lying_npy_headers(tmp_path, monkeypatch, shape):
    (tmp_path / "lie.npy").write_bytes(npy_header(shape) + bytes(64))
    zip_with(tmp_path / "lie.npz", {"a.npy": npy_header(shape) + bytes(64)})
    monkeypatch.setattr(np.lib.format, "read_array", no_read)
    for name in ("lie.npy", "lie.npz"):
        refused(rf"^pred \(from '{name}'\): expected at most 2,000,000 elements, got {math.prod(shape):,}$", tmp_path / name)


def test_npy_header_against_the_data(tmp_path):
    (tmp_path / "short.npy").write_bytes(npy_header((1000,)) + bytes(64))
    refused(r"^pred: expected a valid \.npy file, got one that cannot be read \('short\.npy': the header declares "
            r"8,000 bytes of data, the file holds 64\)$", tmp_path / "short.npy")
    (tmp_path / "neg.npy").write_bytes(npy_header((3,)).replace(b"(3,)", b"(-3,)", 1))
    refused(r"cannot be read \('neg\.npy': ", tmp_path / "neg.npy")
    (tmp_path / "big_items.npy").write_bytes(npy_header((2_000_000,), "<U100") + bytes(64))
    refused(r"^pred: expected a numeric array in 'big_items\.npy', got dtype '<U100'$", tmp_path / "big_items.npy")
    np.save(tmp_path / "struct.npy", np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
    refused(r"^pred: expected a numeric array in 'struct\.npy', got dtype '\|V12'$", tmp_path / "struct.npy")
    np.save(tmp_path / "when.npy", np.array(["2020-01-01"], dtype="datetime64[D]"))
    refused(r"got dtype '<M8\[D\]'$", tmp_path / "when.npy")
    np.save(tmp_path / "f.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    assert load_file(tmp_path / "f.npy", "pred").values.tolist() == [[0, 1, 2], [3, 4, 5]]
    np.save(tmp_path / "be.npy", np.array([1.5, 2.5], dtype=">f8"))
    assert load_file(tmp_path / "be.npy", "pred").values.tolist() == [1.5, 2.5]


def test_deflated_torch_records(tmp_path, monkeypatch):
    records = torch_records(torch.arange(4.0))
    zip_with(tmp_path / "small.pt", records, zipfile.ZIP_DEFLATED)  # deflated records within the limits load
    assert load_file(tmp_path / "small.pt", "pred").values.tolist() == [0, 1, 2, 3]
    data = record(records, "/data/0")
    others = {name: raw for name, raw in records.items() if name != data}
    path = zeros_member(tmp_path / "bomb.pt", data, b"", 100_000_000, others)
    assert path.stat().st_size < 200_000
    monkeypatch.setattr(torch, "load", no_read)
    refused(r"^pred: expected records of at most 50 MiB uncompressed, got 95\.4 MiB in 'bomb\.pt'$", path)


def test_legacy_torch_files_are_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "load", no_read)
    torch.save(torch.tensor([0.5, 0.25]), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    refused(r"^pred: expected torch\.save's zip format \(torch 1\.6 and later\) in 'legacy\.pt', got the legacy format, "
            r"which is not read for safety \(load it with torch\.load and save it again with a current torch\.save\)$",
            tmp_path / "legacy.pt")
    torch.save(torch.ones(2), tmp_path / "p0.pt", _use_new_zipfile_serialization=False, pickle_protocol=0)
    refused(r"got the legacy format", tmp_path / "p0.pt")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    refused(r"^pred: expected tensors saved with torch\.save in 'pickle\.pt', got a file that "
            r"torch\.load\(weights_only=True\) refuses \(not a zip archive\)$", tmp_path / "pickle.pt")


def test_forged_zip_directories(tmp_path):
    path = tmp_path / "t.pt"
    torch.save(torch.ones(3), path)
    raw = path.read_bytes()
    assert b"PK\x06\x07" in raw  # torch writes zip64 end records
    (tmp_path / "prefixed.npz").write_bytes(b"x" * 100 + (tmp_path / "t.pt").read_bytes())
    refused(r"^pred: expected a valid \.npz file, got one that cannot be read \('prefixed\.npz': ", tmp_path / "prefixed.npz")
    end = raw.rindex(b"PK\x05\x06")
    forged = bytearray(raw)
    forged[end + 12:end + 16] = struct.pack("<L", int.from_bytes(raw[end + 12:end + 16], "little") - 46)
    (tmp_path / "disagree.pt").write_bytes(bytes(forged))
    refused(r"cannot be read \('disagree\.pt': the end record and the zip64 end record disagree\)$",
            tmp_path / "disagree.pt")
    zip_with(tmp_path / "bz.npz", {"a.npy": npy_bytes(np.ones(3))}, zipfile.ZIP_BZIP2)
    refused(r"^pred: expected stored or deflated members, got compression method 12 for member 'a\.npy' of 'bz\.npz'$",
            tmp_path / "bz.npz")
    directory_only_zip(tmp_path / "dir.npz", 50_000)
    refused(r"^pred: expected a zip directory \(its list of members\) of at most 1 MiB, got 2\.2 MiB in 'dir\.npz'$",
            tmp_path / "dir.npz")


def test_paths_that_are_not_readable_files(tmp_path, monkeypatch):
    refused(r"^pred: expected a readable file, got 'x\\x00y\.csv' \(a null character in the path\)$",
            str(tmp_path / "x\x00y.csv"))
    refused(r"^pred: expected a readable file, got 'a+'… \(5,004 characters\) \(File name too long\)$",
            tmp_path / ("a" * 5000 + ".csv"))
    os.symlink(tmp_path / "loop_b.csv", tmp_path / "loop_a.csv")
    os.symlink(tmp_path / "loop_a.csv", tmp_path / "loop_b.csv")
    refused(r"^pred: expected a readable file, got 'loop_a\.csv' \(Too many levels of symbolic links\)$",
            tmp_path / "loop_a.csv")
    (tmp_path / "folder.csv").mkdir()
    refused(r"^pred: expected an existing file, got 'folder\.csv'$", tmp_path / "folder.csv")
    refused(r"^pred: expected a regular file, got 'null', which is a character device$", "/dev/null")
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    refused(r"^pred: expected a regular file, got 'zero\.txt' -> '/dev/zero', which is a character device$",
            tmp_path / "zero.txt")
    refused(r"^pred: expected a file path, got int$", 3)  # never a file descriptor
    refused(r"^pred: expected a file path, got object$", object())
    path = tmp_path / "locked.csv"
    path.write_text("1, 2", encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    refused(r"^pred: expected a readable file, got 'locked\.csv' \(Permission denied\)$", path)


def test_fifo_is_never_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")  # opening it for reading would wait for a writer
    refused(r"^pred: expected a regular file, got 'fifo\.csv', which is a named pipe \(FIFO\)$", tmp_path / "fifo.csv")


def test_symlinks_name_the_real_file(tmp_path):
    if Path("/etc/passwd").is_file():
        os.symlink("/etc/passwd", tmp_path / "x.csv")
        message = refused(r"^pred \(from 'x\.csv' -> '/etc/passwd'\): expected ", tmp_path / "x.csv")
        assert len(message) < 400
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(2**30)  # sparse: no disk used
    os.symlink(big, tmp_path / "big.csv")
    refused(r"^pred: expected a file of at most 50 MiB, got 1 GiB$", tmp_path / "big.csv")
    (tmp_path / "real.csv").write_text("0.5, abc", encoding="utf-8")
    os.symlink(tmp_path / "real.csv", tmp_path / "link.csv")
    refused(rf"^pred \(from 'link\.csv' -> '{tmp_path}/real\.csv'\): expected a number, got 'abc' at character 6$",
            tmp_path / "link.csv")


def test_content_errors_name_the_file(tmp_path):
    (tmp_path / "a.csv").write_text("0.5, 0.2\n0.1\n", encoding="utf-8")
    refused(r"^pred \(from 'a\.csv'\): expected 2 values on every line \(like line 1\), got 1 on line 2$",
            tmp_path / "a.csv")
    (tmp_path / "long.txt").write_text("[0.5, " + "x" * 1_000_000 + "]", encoding="utf-8")
    refused(r"^pred \(from 'long\.txt'\): expected a number, got ", tmp_path / "long.txt")
    torch.save(torch.tensor([True, False]), tmp_path / "b.pt")
    refused(r"^pred \(from 'b\.pt'\): expected a numeric tensor, got a bool tensor", tmp_path / "b.pt")


def test_every_message_is_bounded(tmp_path):
    keys = {"k" * 60_000 + str(i): torch.ones(1) for i in range(3)}
    torch.save(keys, tmp_path / "keys.pt")
    refused(r"got a dict with 3 tensors \('kkk.+… \(60,001 characters\), .+\)$", tmp_path / "keys.pt")
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("a.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 9000) + b"{'descr': " + b"x" * 8980)
    refused(r"^pred: expected a valid \.npz file, got one that cannot be read \('bad\.npz': .+\)$", tmp_path / "bad.npz")


@pytest.mark.parametrize(("name", "data", "match"), [
    ("cut.npz", lambda: npy_bytes(np.ones(3))[:20], r"^pred: expected a valid \.npz file, got one that cannot be read"),
    ("junk.npy", lambda: b"\x93NUMPY\x01\x00\xff", r"^pred: expected a valid \.npy file, got one that cannot be read"),
    ("nolen.npy", lambda: b"\x93NUMPY\x01\x00", r"^pred: expected a valid \.npy file, got one that cannot be read"),
    ("py2.npy", lambda: npy_header((2,)).replace(b"'<f8'", b"u'x'"), r"cannot be read"),
    ("bad.pt", lambda: b"PK\x03\x04" + b"\x00" * 100, r"^pred: expected a valid \.pt file, got one that cannot be read"),
    ("latin.txt", lambda: b"0.5, \xff", r"^pred: expected UTF-8 text in 'latin\.txt', got undecodable bytes at byte 5$"),
    ("deep.json", lambda: b"[" * 5000 + b"1" + b"]" * 5000, r"^pred \(from 'deep\.json'\): expected at most 32 dimensions"),
])
def test_loader_exceptions_become_input_errors(tmp_path, name, data, match):
    (tmp_path / name).write_bytes(data())
    refused(match, tmp_path / name)


def test_torch_loader_exceptions(tmp_path):
    records = torch_records(torch.ones(3))
    pkl = record(records, "/data.pkl")
    for name, payload in (("empty.pt", b""), ("garbage.pt", b"\x80\x02garbage"), ("eof.pt", b"\x80\x02]")):
        zip_with(tmp_path / name, {**records, pkl: payload})
        refused(r"^pred: expected (a valid \.pt file, got one that cannot be read|tensors saved with torch\.save in "
                r".+ refuses) \(.+\)$", tmp_path / name)
    (tmp_path / "marker").unlink(missing_ok=True)
    zip_with(tmp_path / "payload.pt", {**records, pkl: pickle.dumps(Payload(tmp_path / "marker"), protocol=2)})
    refused(r"refuses \(Unsupported global: GLOBAL .+\)$", tmp_path / "payload.pt")
    assert not (tmp_path / "marker").exists()


class Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_upload_wrappers_and_bytes_paths(tmp_path):
    np.save(tmp_path / "a.npy", np.array([0.5]))

    class Upload:
        name = str(tmp_path / "a.npy")

    assert load_file(Upload(), "pred").values.tolist() == [0.5]
    assert load_file(os.fsencode(tmp_path / "a.npy"), "pred").values.tolist() == [0.5]
    with (tmp_path / "a.npy").open("rb") as handle:
        assert load_file(handle, "pred").values.tolist() == [0.5]


# -- memory and time of refusing hostile files, in a fresh process ------------------------------------

HOSTILE_MATCHES = {
    "npz_deflated_zeros_member_x": r"expected arrays of at most 50 MiB uncompressed, got 190\.7 MiB",
    "npz_member_lying_header": r"expected at most 2,000,000 elements, got 1,000,000,000,000$",
    "npy_lying_header": r"expected at most 2,000,000 elements, got 1,000,000,000,000$",
    "npy_huge_itemsize": r"expected arrays of at most 50 MiB, got",
    "pt_deflated_record": r"expected records of at most 50 MiB uncompressed, got 190\.7 MiB",
    "pt_pickle_of_empty_lists": r"expected a data\.pkl of at most 256 KiB, got 3\.8 MiB",
    "pt_legacy": r"got the legacy format",
    "zip_directory_of_many_members": r"expected a zip directory \(its list of members\) of at most 1 MiB, got 28\.7 MiB",
    "json_empty_lists": r"expected at least one number, got an empty list",
    "json_object_of_empty_lists": r"expected at least one number, got an empty list$",
    "json_object_over_the_element_limit": r"expected at most 2,000,000 elements, got 2,700,000$",
    "csv_symlink_to_sparse_file": r"expected a file of at most 50 MiB, got 4 GiB$",
    "txt_symlink_to_dev_zero": r"which is a character device$",
    "csv_fifo": r"which is a named pipe \(FIFO\)$",
    "csv_null_byte": r"a null character in the path",
    "csv_directory": r"expected an existing file",
}


def hostile_files(tmp: Path) -> dict[str, str]:
    """The files of HOSTILE_MATCHES, built without holding their decompressed sizes in memory."""
    records = torch_records(torch.ones(3))
    data = record(records, "/data/0")
    pkl = record(records, "/data.pkl")
    (tmp / "huge_itemsize.npy").write_bytes(npy_header((2_000_000,), "<c32") + bytes(64))
    (tmp / "lying.npy").write_bytes(npy_header((10**12,)) + bytes(64))
    zip_with(tmp / "lying.npz", {"a.npy": npy_header((10**12,)) + bytes(64)})
    torch.save(torch.ones(3), tmp / "legacy.pt", _use_new_zipfile_serialization=False)
    zip_with(tmp / "pickle_bomb.pt", {**records, pkl: b"\x80\x02](" + b"]" * 4_000_000 + b"e."})
    (tmp / "lists.json").write_text("[" + "[], " * (limits.MAX_JSON_CHARS // 4 - 1) + "[]]", encoding="utf-8")
    # objects longer than limits.MAX_JSON_CHARS: read as text, never by json.loads
    (tmp / "object_lists.json").write_text('{"pred": [' + "[], " * limits.MAX_JSON_CHARS + "[]]}", encoding="utf-8")
    (tmp / "object_numbers.json").write_text('{"pred": [' + "5, " * 2_699_999 + "5]}", encoding="utf-8")
    with (tmp / "sparse.bin").open("wb") as f:
        f.truncate(2**32)
    for link, target in (("sparse.csv", tmp / "sparse.bin"), ("zero.txt", "/dev/zero")):
        os.symlink(target, tmp / link)
    os.mkfifo(tmp / "fifo.csv")
    (tmp / "folder.csv").mkdir()
    return {
        "npz_deflated_zeros_member_x": str(zeros_member(tmp / "bomb.npz", "x", npy_header((25_000_000,)), 200_000_000,
                                                        after={"b.npy": npy_bytes(np.ones(2))})),
        "npz_member_lying_header": str(tmp / "lying.npz"),
        "npy_lying_header": str(tmp / "lying.npy"),
        "npy_huge_itemsize": str(tmp / "huge_itemsize.npy"),
        "pt_deflated_record": str(zeros_member(tmp / "bomb.pt", data, b"", 200_000_000,
                                               {k: v for k, v in records.items() if k != data})),
        "pt_pickle_of_empty_lists": str(tmp / "pickle_bomb.pt"),
        "pt_legacy": str(tmp / "legacy.pt"),
        "zip_directory_of_many_members": str(directory_only_zip(tmp / "directory.npz", 640_000)),
        "json_empty_lists": str(tmp / "lists.json"),
        "json_object_of_empty_lists": str(tmp / "object_lists.json"),
        "json_object_over_the_element_limit": str(tmp / "object_numbers.json"),
        "csv_symlink_to_sparse_file": str(tmp / "sparse.csv"),
        "txt_symlink_to_dev_zero": str(tmp / "zero.txt"),
        "csv_fifo": str(tmp / "fifo.csv"),
        "csv_null_byte": str(tmp / "x\x00.csv"),
        "csv_directory": str(tmp / "folder.csv"),
    }


# ru_maxrss is no use here: a child process starts with the peak of the process it was forked from
# (pytest's, hundreds of MB), kept across exec. Linux's VmHWM is the peak of this process's own memory,
# and writing 5 to /proc/self/clear_refs resets it to the current RSS before each load.
MEASURE = """
import json, re, sys, time
from lossapp.inputs import InputError, load_file
# the limits these cases were written for (the mechanism, not the numbers, is under test)
from lossapp.inputs import limits
limits.MAX_ELEMENTS, limits.MAX_FILE_BYTES, limits.MAX_DECOMPRESSED_BYTES = 2_000_000, 50 * 2**20, 50 * 2**20

def status_mb(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\\s+(\\d+) kB", f.read()).group(1)) / 1024

warm, files = json.loads(sys.argv[1])
for path in warm:  # the first load of each kind imports and allocates what every later load reuses
    load_file(path, "pred")
for label, path in files.items():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before, start = status_mb("VmRSS"), time.monotonic()
    try:
        load_file(path, "pred")
        message = None
    except InputError as exc:
        message = str(exc)
    print(json.dumps({"label": label, "message": message, "growth_mb": status_mb("VmHWM") - before,
                      "seconds": time.monotonic() - start}), flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="peak memory is read from Linux's /proc")
def test_hostile_files_are_refused_in_bounded_memory_and_time(tmp_path):
    """Each hostile file is refused in a fresh process, its load's peak memory less than 50 MB above the
    memory before it, and in well under a minute."""
    files = hostile_files(tmp_path)
    assert set(files) == set(HOSTILE_MATCHES)
    warm = []
    for name, save in (("w.npy", lambda p: np.save(p, np.ones(3))), ("w.npz", lambda p: np.savez(p, np.ones(3))),
                       ("w.pt", lambda p: torch.save(torch.ones(3), p))):
        save(tmp_path / name)
        warm.append(str(tmp_path / name))
    (tmp_path / "w.json").write_text("[[0.5]]", encoding="utf-8")
    warm.append(str(tmp_path / "w.json"))
    done = subprocess.run([sys.executable, "-c", MEASURE, json.dumps([warm, files])], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["label"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(results) == set(files)
    report = "\n".join(f"{r['label']}: +{r['growth_mb']:.1f} MB, {r['seconds']:.2f} s" for r in results.values())
    for label, result in results.items():
        assert result["message"] is not None, f"{label} was loaded\n{report}"
        assert len(result["message"]) <= MAX_MESSAGE
        assert re.search(HOSTILE_MATCHES[label], result["message"]), result["message"]
        assert result["growth_mb"] < 50, report
        assert result["seconds"] < 30, report


def test_input_error_is_the_only_exception(tmp_path):
    """Random bytes under every file type: an InputError (or a tensor), nothing else."""
    rng = np.random.default_rng(0)
    torch.save(torch.ones(3), tmp_path / "seed.pt")
    np.savez(tmp_path / "seed.npz", np.arange(3.0))
    seeds = [npy_bytes(np.arange(6.0)), (tmp_path / "seed.pt").read_bytes(), (tmp_path / "seed.npz").read_bytes(),
             b"[0.5, 0.25]"]
    for i in range(60):
        seed = seeds[i % len(seeds)]
        data = bytearray(seed)
        for position in rng.integers(0, len(data), size=3):
            data[position] = int(rng.integers(0, 256))
        for ext in (".npy", ".npz", ".pt", ".json"):
            path = tmp_path / f"fuzz{i}{ext}"
            path.write_bytes(bytes(data))
            try:
                load_file(path, "pred")
            except InputError as exc:
                assert len(str(exc)) <= MAX_MESSAGE
