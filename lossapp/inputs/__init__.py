"""Every user input becomes a tensor here, and every check of user input lives here.

One package, one job per module: `errors` (InputError and message helpers), `limits` (every size limit),
`parse` (text and Python objects), `files` (safe loaders), `random_specs` (seeded random inputs), `checks`
(what a loss's prepare() calls, the params parser) and `constraints` (the declarative parameter constraints
a loss's `Param`s carry, validated in one place). Every message is an id of the `[inputs]` table of
lossapp/locales/*.toml with named fields (an InputError carries its Message; `render(lang)`).

`read_tensor` accepts text in the supported formats, nested lists, numpy arrays and torch tensors and
returns a `TensorInput`: float64 values (int64 when every entry was written as an integer), plus the
number of decimals each entry was written with, which the answer checker needs.

Text formats (one parser, no eval):

- Python / JSON nested lists ``[[0.1, 0.2], [0.3, 0.4]]`` (trailing commas, ``True``/``False``,
  ``nan``/``inf``/``-inf``/``NaN``/``Infinity`` allowed), scalars ``0.5``;
- numpy ``repr`` and ``print`` output: ``array([0.1, 0.2], dtype=float32)``, ``[[0.1 0.2]\n [0.3 0.4]]``;
- PyTorch printouts: ``tensor([[ 0.5000, -1.2500], ...], dtype=torch.float64, requires_grad=True)``,
  ``tensor(0.9264)``, ``Parameter containing:\ntensor(...)``, with an optional ``name =`` / ``name:`` label;
- rows separated by newlines (or by ``;`` on a single line, MATLAB style ``1 2; 3 4``), cells by commas,
  whitespace, tabs or semicolons; CSV with an optional header row of names (skipped) and ``#`` comments.

The parser is linear-time and vectorised (a 1,000,000-number text takes about a second): the text is
read in chunks (numpy on one byte per character) that find where each word between separators starts
and ends, the words are split off with str methods and converted by int() / float() through
numpy.fromiter (the conversion is the validation: the grammar is exactly Python's number syntax without
underscores, plus True/False); the brackets are reduced to a skeleton of ``[``, ``]`` and one ``0`` per
number, and the shape is read off it with numpy (nesting depth by cumulative sum, children per list by
``bincount``). Only when something is wrong does a slower pass find the exact place to name.

Hostile input meets a bound before anything that recurses or grows with it, and every error path is linear
too: the text is never copied whole before its words are counted, in chunks, and more than
``limits.MAX_ELEMENTS`` are refused before any list of them is built; the brackets are scanned in chunks
for balance and depth (``limits.MAX_DIMS``; in JSON, string literals skipped, ``limits.MAX_NESTING`` before
``json.loads`` recurses), and more lists than the numbers can fill (``[], [], ...``) are refused before
their skeleton; ``json.loads`` reads objects of at most ``limits.MAX_JSON_CHARS`` characters (a longer
one's list is read as text); one number is at most ``limits.MAX_NUMBER_CHARS`` characters and its recorded decimals at most
``limits.MAX_DECIMALS``; a nested list is first seen as an object array of references, so numpy never sizes
every cell by the longest string; user text in a message is an ``errors.quote`` excerpt; a value in a
message is shown as written, before any cast (class index ``1e+30``, not int64's ``-9.22337e+18``).
"""

from lossapp.inputs.checks import (
    LOGITS_HINT,
    read_params,
    require_binary,
    require_broadcastable,
    require_class_indices,
    require_dims,
    require_finite,
    require_log_probabilities,
    require_nonnegative,
    require_per_class,
    require_probabilities,
    require_same_shape,
    require_sign_labels,
    require_target,
)
from lossapp.inputs.errors import InputError, bytes_text, param_name, quote, shape_text
from lossapp.inputs.files import FILE_TYPES, load_file
from lossapp.inputs.limits import DECIMALS_MAX_ELEMENTS, MAX_DIMS, MAX_ELEMENTS, MAX_FILE_BYTES, MAX_TEXT_CHARS
from lossapp.inputs.parse import TensorInput, number_decimals, parse_text, read_tensor
from lossapp.inputs.random_specs import RANDOM_KINDS, is_random_spec, random_inputs, random_tensor

__all__ = [
    "DECIMALS_MAX_ELEMENTS", "FILE_TYPES", "LOGITS_HINT", "MAX_DIMS", "MAX_ELEMENTS", "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS", "RANDOM_KINDS", "InputError", "TensorInput", "bytes_text", "is_random_spec", "load_file",
    "number_decimals", "param_name", "parse_text", "quote", "random_inputs", "random_tensor", "read_params", "read_tensor",
    "require_binary", "require_broadcastable", "require_class_indices", "require_dims", "require_finite",
    "require_log_probabilities", "require_nonnegative", "require_per_class", "require_probabilities", "require_same_shape",
    "require_sign_labels", "require_target", "shape_text",
]
