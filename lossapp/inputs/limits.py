"""Every size limit on user input, in one place (README.md, "Limits", lists them).

Each limit is checked before the allocation it guards: from a text's length, a file's size, a zip
archive's directory entries or an array header, never after materialising the data.

One limit may be changed from the environment: LOSSAPP_MAX_ELEMENTS (a whole number, such as 100000000 or 1e8), for
a machine of one's own with the memory for more (a GPU one, say); the file limits then grow with it (10 bytes per
element). Read once, when lossapp is imported.
"""

import os
import re


def _environment_count(name: str, default: int) -> int:
    """The whole number from 1 to 10^18 in the environment variable `name` (digits, optionally with `_` separators,
    or a power-of-ten form such as 1e8), else `default`; anything else stops the program with one line naming the
    variable, what it expects and what it holds (as the app's other settings do)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    written = raw.replace("_", "")
    value = None
    if re.fullmatch(r"\d{1,18}", written):
        value = int(written)
    elif re.fullmatch(r"\d{1,6}(\.\d{1,6})?[eE]\+?\d{1,2}", written):
        number = float(written)
        value = int(number) if number.is_integer() else None
    if value is None or not 1 <= value <= 10**18:
        raise SystemExit(f"error: expected a positive whole number of elements in {name} (such as 100000000 or 1e8), "
                         f"got {raw[:100]!r}")
    return value


# Elements of one tensor (pred, target or a tensor parameter). lossapp.compute's peak memory grows by 40-90 bytes
# per element for most losses, up to 140-220 for the focal and soft-truncated losses (benchmarks/bench_memory.py at
# 10^7): at 2·10^7 elements 0.8-4.5 GB for one request, a few at once on a 24 GiB machine.
MAX_ELEMENTS = _environment_count("LOSSAPP_MAX_ELEMENTS", 20_000_000)
MAX_TEXT_CHARS = 40_000_000  # characters of one tensor written as text
MAX_DIMS = 32  # dimensions of one tensor
DECIMALS_MAX_ELEMENTS = 100_000  # above this, TensorInput.decimals is None (not computed)
# bytes of one uploaded or named file (a 2·10^7-element float64 .npy is 160 MB); 10 per element where MAX_ELEMENTS is raised
MAX_FILE_BYTES = max(200 * 2**20, 10 * MAX_ELEMENTS)
MAX_DECOMPRESSED_BYTES = max(200 * 2**20, 10 * MAX_ELEMENTS)  # bytes of a zip archive's members once decompressed (.npz, .pt): each and all together
MAX_COMPRESSION_RATIO = 1032  # decompressed / compressed bytes of one zip member: deflate's own maximum, more is a forged directory
MAX_ZIP_DIRECTORY_BYTES = 2**20  # bytes of a zip archive's central directory (zipfile builds ~10x that in Python objects)
MAX_NPY_HEADER_BYTES = 10_000  # bytes of an .npy header (numpy's own default max_header_size)
MAX_PICKLE_BYTES = 2**18  # bytes of a .pt file's data.pkl: unpickling builds up to ~90 bytes of Python objects per byte
MAX_JSON_CHARS = 2**20  # characters of a JSON object (or .json file) read by json.loads (~30 bytes of objects per character); longer ones are read as text
MAX_QUOTED_CHARS = 300  # characters of the user's own text quoted back in a message
MAX_NESTING = 64  # brackets nested in one JSON text (pred or params), scanned before json.loads recurses; >= MAX_DIMS
MAX_NUMBER_CHARS = 10_000  # characters of one number written as text (a JSON one included)
MAX_DECIMALS = 300  # decimals recorded for one written number; more are recorded as 300 (1e-300 is a float64 number)
MAX_NAME_CHARS = 200  # characters of a loss name beyond which an unknown name gets no "did you mean" search
MAX_CLAIM_CHARS = 100  # characters of a claimed answer written as text
MAX_CLAIM_DIGITS = 30  # significant digits of a claimed answer (float64 holds about 17)
MAX_CLAIM_DECIMALS = 300  # decimals of a claimed answer: a unit of its last decimal, 1e-300, is a float64 number
MAX_COUNT = 10**15  # a confusion-matrix count (counts stay exact in float64)
MAX_COUNT_CHARS = 40  # characters of a count written as text, refused before int() reads it
MAX_GRADE_ROWS = 100_000  # answer rows in one graded CSV
MAX_GRADE_CSV_CHARS = 50_000_000  # characters of one graded CSV (read with this bound, never whole first)
MAX_RANDOM_ELEMENTS = 100_000  # elements of an app-generated random input (it is written into the text box)
MAX_MESSAGE_CHARS = 1_000  # an error message as shown by the app or the HTTP API (a safety net over InputError's own bounds)
