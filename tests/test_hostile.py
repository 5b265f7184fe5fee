"""Bad input gets one clear InputError, nothing else (issue 8): every case of hostile_cases.py through the
Python API, the command line (in-process) and the HTTP API (one app server for the module), then a
hypothesis fuzz of the text parser and of compute.

What each interface must do with a bad input:
- Python: raise lossapp.InputError whose message says what was "expected", stays under MAX_MESSAGE
  characters, has its Chinese (and matches the case's regex, if any).
- CLI: exit status 2, exactly one stderr line "error: ...", no traceback, no "internal error"; with --json,
  stdout is {"error": <the same message>}.
- HTTP: the event stream ends with `event: error` carrying a Gradio error (title "Error", raised by the API
  from an InputError) with the same message as the Python API's.
Valid inputs (expect="ok") must succeed everywhere; expect="either" accepts a result or a clean InputError.

Fuzz sizes: LOSSAPP_FUZZ_EXAMPLES examples for the parser (default 2000) and a tenth of that for compute;
derandomized when CI is set, so CI runs are reproducible.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import json
import re
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from hostile_cases import CASES, FILES, MARKER, Case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ui_fixtures import Server, start_server, stop_server

import lossapp
from lossapp.__main__ import main
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, TensorInput, limits, parse_text, read_params
from lossapp.service import parse_params_text

ROOT = Path(__file__).resolve().parent.parent
MAX_MESSAGE = 1000  # characters: a message quotes the user's text in bounded excerpts
HTTP_TIMEOUT = 180.0  # seconds per request on a busy 2-core machine
GOOD_BCE = ("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
SAFETY_NET_CUT = re.compile(r"… \([\d,]+ characters\)$")


# -- running one case ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "ok", "error" (an InputError) or "escaped" (anything else)
    message: str = ""
    detail: str = ""  # for "escaped": the last frames of the traceback
    error: InputError | None = None  # for "error": the exception (its message id renders in any language)


def _escaped(exc: BaseException) -> Outcome:
    first = (str(exc).splitlines() or [""])[0][:300]
    frames = "".join(traceback.format_exception(exc)[-6:])[-3000:]
    return Outcome("escaped", f"{type(exc).__name__}: {first}", frames)


def _materialize(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(pred for Python, pred for the command line): a built file for file cases, else the case's pred."""
    for name, value in case.limits.items():
        monkeypatch.setattr(limits, name, value)
    if case.file is None:
        return case.pred, case.pred
    path = FILES[case.file](tmp_path)
    return Path(path), "@" + path


def _call_python(case: Case, pred: Any, params: dict[str, Any]) -> Any:
    if case.loss == "confusion":
        if case.claimed is None:
            return lossapp.confusion(params.get("tp"), params.get("fp"), params.get("fn"), params.get("tn"),
                                     metric=params.get("metric", "dice"))
        return lossapp.check("confusion", claimed=case.claimed, reduction=None, **params)
    kwargs: dict[str, Any] = {"reduction": case.reduction}
    if case.device is not None:
        kwargs["device"] = case.device
    if case.dtype is not None:
        kwargs["dtype"] = case.dtype
    if case.claimed is not None:
        return lossapp.check(case.loss, pred, case.target, claimed=case.claimed, **kwargs, **params)
    return lossapp.compute(case.loss, pred, case.target, **kwargs, **params)


def run_python(case: Case, pred: Any, http_params: bool = False) -> Outcome:
    """The case through the Python API. With http_params, params go the way the HTTP API reads them (its
    JSON text through lossapp.service.parse_params_text), so the message is the one /compute must give."""
    try:
        if http_params and case.loss != "confusion":  # /confusion takes the counts as values, not as JSON text
            params = parse_params_text(_params_text(case))
        else:
            params = case.params if case.params is not None else read_params(case.params_json)
        result = _call_python(case, pred, params)
        json.dumps(result.to_dict(), allow_nan=False)  # a valid result is valid JSON (NaN is null)
    except InputError as exc:
        return Outcome("error", str(exc), error=exc)
    except Exception as exc:
        return _escaped(exc)
    return Outcome("ok")


def _cli_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def cli_argv(case: Case, pred: Any) -> list[str]:
    if case.loss == "confusion":
        argv = ["confusion"] + [f"--{k}={_cli_value(v)}" for k, v in (case.params or {}).items() if v is not None]
    else:
        argv = [case.loss, f"--pred={pred}"]
        if case.target is not None:
            argv.append(f"--target={case.target}")
        for flag in ("reduction", "device", "dtype"):
            if getattr(case, flag) is not None:
                argv.append(f"--{flag}={getattr(case, flag)}")
        pairs = case.cli_params if case.cli_params is not None else [
            f"{k}={_cli_value(v)}" for k, v in (case.params or {}).items()]
        argv += [f"--param={pair}" for pair in pairs]
    if case.claimed is not None:
        argv.append(f"--claimed={case.claimed}")
    return argv + list(case.cli_extra)


def _params_text(case: Case) -> str:
    return case.params_json if case.params_json is not None else json.dumps(case.params)


def http_request(case: Case) -> tuple[str, list[Any]]:
    """(api name, the data list) of the case for /gradio_api/call/<api>."""
    if case.loss == "confusion":
        p = case.params or {}
        return "confusion", [p.get("tp"), p.get("fp"), p.get("fn"), p.get("tn"), case.claimed, p.get("metric")]
    data = [case.loss, case.pred, case.target if case.target is not None else "", _params_text(case),
            case.reduction or "", case.device or "cpu", case.dtype or "float32"]
    if case.claimed is not None:
        return "check", [*data, case.claimed]
    return "compute", data


# -- what the interfaces must do -----------------------------------------------------------------------


def _assert_clean_message(case: Case, message: str, where: str) -> None:
    assert len(message) <= MAX_MESSAGE, f"{where}: message of {len(message):,} characters: {message[:300]!r}…"
    assert "expected" in message, f"{where}: message without 'expected': {message!r}"
    if case.match:
        assert re.search(case.match, message), f"{where}: message does not match {case.match!r}: {message!r}"


def assert_outcome(case: Case, outcome: Outcome, where: str) -> None:
    if outcome.kind == "escaped":
        pytest.fail(f"{where}: {outcome.message} escaped (expected an InputError)\n{outcome.detail}", pytrace=False)
    if case.expect == "ok":
        assert outcome.kind == "ok", f"{where}: a valid input was refused: {outcome.message}"
    elif case.expect == "error":
        assert outcome.kind == "error", f"{where}: bad input was accepted (expected an InputError)"
    if outcome.kind == "error":
        _assert_clean_message(case, outcome.message, where)
        if where == "python":  # the house rule: every message a user can see has its Chinese
            assert has_zh(outcome.error), f"python: no Chinese for {outcome.message[:300]!r}"


def _assert_nothing_ran(tmp_path: Path) -> None:
    for place in (tmp_path, ROOT, Path.cwd()):
        assert not (place / MARKER).exists(), f"a payload ran: {place / MARKER} exists"


def _ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


PYTHON_CASES = [c for c in CASES if "python" in c.interfaces]
CLI_CASES = [c for c in CASES if "cli" in c.interfaces]
HTTP_CASES = [c for c in CASES if "http" in c.interfaces]


def test_enough_cases() -> None:
    assert len(CASES) >= 150
    assert {c.expect for c in CASES} == {"error", "ok", "either"}
    assert len(HTTP_CASES) >= 150


@pytest.mark.parametrize("case", PYTHON_CASES, ids=_ids(PYTHON_CASES))
def test_python_api(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pred, _ = _materialize(case, tmp_path, monkeypatch)
    outcome = run_python(case, pred)
    _assert_nothing_ran(tmp_path)
    assert_outcome(case, outcome, "python")


@pytest.mark.parametrize("case", CLI_CASES, ids=_ids(CLI_CASES))
def test_cli(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, pred = _materialize(case, tmp_path, monkeypatch)
    argv = cli_argv(case, pred)
    for as_json in (False, True):
        where = "cli --json" if as_json else "cli"
        try:
            status = main([*argv, "--json"] if as_json else argv)
        except (Exception, SystemExit) as exc:  # a crash, even in the error path: the CLI must return a status
            capsys.readouterr()
            assert_outcome(case, _escaped(exc), where)
        out, err = capsys.readouterr()
        _assert_nothing_ran(tmp_path)
        assert "Traceback" not in err + out, f"{where}: a traceback was printed:\n{err[-2000:]}"
        assert status in (0, 2), f"{where}: exit status {status}: {err[:500]!r}"
        if status == 0:
            assert_outcome(case, Outcome("ok"), where)
            if as_json:
                json.loads(out)
            continue
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}: stderr is not one error line: {err[:500]!r}"
        message = lines[0].removeprefix("error: ")
        assert not message.startswith("internal error"), f"{where}: {message[:500]}"
        assert_outcome(case, Outcome("error", message), where)
        if as_json:
            assert json.loads(out) == {"error": message}, f"{where}: stdout is not {{'error': message}}: {out[:500]!r}"


# -- HTTP --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[Server]:
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


def http_call(server: Server, api: str, data: list[Any]) -> tuple[str, Any]:
    """POST /gradio_api/call/<api>, then read its event stream: (last event name, its data)."""
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(f"{server.url}gradio_api/call/{api}", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            event_id = json.loads(response.read())["event_id"]
    except urllib.error.HTTPError as exc:
        return f"http {exc.code}", exc.read()[:500].decode(errors="replace")
    with urllib.request.urlopen(f"{server.url}gradio_api/call/{api}/{event_id}", timeout=HTTP_TIMEOUT) as response:
        stream = response.read().decode()
    events = []
    for block in stream.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") and fields["event"] != "heartbeat":
            events.append((fields["event"], json.loads(fields.get("data", "null"))))
    return events[-1] if events else ("no event", stream[:500])


@pytest.mark.parametrize("case", HTTP_CASES, ids=_ids(HTTP_CASES))
def test_http_api(case: Case, hostile_server: Server) -> None:
    api, data = http_request(case)
    event, payload = http_call(hostile_server, api, data)
    python = run_python(case, case.pred, http_params=True) if "python" in case.interfaces else None
    if event == "complete":
        assert_outcome(case, Outcome("ok"), "http")
        assert python is None or python.kind == "ok", f"http: accepted what Python refuses: {python.message}"
        return
    assert event == "error", f"http: expected an error or complete event, got {event}: {str(payload)[:500]}"
    assert isinstance(payload, dict) and isinstance(payload.get("error"), str), f"http: error data {payload!r}"
    message = payload["error"]
    if payload.get("title") != "Error":  # not the API's gr.Error for an InputError: an exception escaped
        assert_outcome(case, Outcome("escaped", message[:300]), "http")
    # The API cuts a long message to 1,000 characters plus "… (N characters)" (a safety net; the Python test
    # reports the long message itself).
    shown, cut = SAFETY_NET_CUT.subn("", message)
    assert_outcome(case, Outcome("error", shown), "http")
    if python is not None:
        assert python.kind == "error", f"http: refused what Python gives as {python.kind}: {python.message}"
        same = python.message.startswith(shown) if cut else shown == python.message
        assert same or shown == html.escape(python.message, quote=False), (
            f"http: the message differs from the Python API's:\n  http:   {message[:400]!r}\n"
            f"  python: {python.message[:400]!r}")


def test_http_server_still_answers_after_hostile_input(hostile_server: Server) -> None:
    """Runs after every HTTP case (file order): the server survived them and still computes correctly."""
    assert hostile_server.process.poll() is None, "the app server exited"
    event, payload = http_call(hostile_server, "compute", [*GOOD_BCE, "{}", "mean", "cpu", "float32"])
    assert event == "complete", payload
    assert payload[0]["value"] == pytest.approx(0.926341, abs=1e-6)


# -- fuzz ----------------------------------------------------------------------------------------------

FUZZ_EXAMPLES = int(os.environ.get("LOSSAPP_FUZZ_EXAMPLES", "2000"))
FUZZ = {"deadline": None, "derandomize": bool(os.environ.get("CI")), "database": None,
        "suppress_health_check": list(HealthCheck)}

SPECIAL_CHARACTERS = list("\x00\ud800\udfff\u202e\ufeff\u200b［］，；（）：０９٣𝟙½²\u0301\r\x0b\x0c\x1c\x85\u2028\u3000−–")
ODD_NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "True", "false", "1e309", "-1e400", "1e-400",
               "3e-9999999999999999999", "9" * 30, "9" * 5000, "0x10", "1_0", ".", "-", "+.5", "5.", "1e", "e1",
               "1.2.3", "--1", "1+2j", "٣", "１", "½", "..."]
JUNK_WORDS = ["abc", "__import__('os')", "<script>", "tensor(", "array(", "dtype=torch.float32", "requires_grad=True",
              "#", "{", "}", "(", ")", "'", '"', ":", "=", "\n", ";", "[", "]", "lambda: 0", "None", "null"]

numbers = st.one_of(
    st.integers(-10**25, 10**25).map(str),
    st.floats().map(repr),
    st.floats(0, 1).map(lambda x: f"{x:.4f}"),
    st.sampled_from(ODD_NUMBERS),
    st.text("0123456789.eE+-", min_size=1, max_size=8),
)
junk = st.one_of(st.text(max_size=4), st.sampled_from(SPECIAL_CHARACTERS), st.sampled_from(JUNK_WORDS))
separators = st.sampled_from([", ", ",", " ", "  ", "\t", "\n", "; ", ",,", "", ",\n", "，"])


def _bracketed(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda items, sep, trailing: "[" + sep.join(items) + trailing + "]",
                     st.lists(children, max_size=5), separators, st.sampled_from(["", ",", " "]))


nested = st.recursive(st.one_of(numbers, numbers, numbers, junk), _bracketed, max_leaves=40)
rows = st.builds(lambda table, row_sep, cell_sep: row_sep.join(cell_sep.join(r) for r in table),
                 st.lists(st.lists(numbers, min_size=1, max_size=4), min_size=1, max_size=4),
                 st.sampled_from(["\n", "; ", "\r\n", "\n\n"]), st.sampled_from([" ", ",", "\t", ", "]))
prefixes = st.sampled_from(["", "", "", "tensor(", "np.array(", "array(", "x = ", ">>> ", "Parameter containing:\n",
                            "pred: ", "torch.tensor(", "{", "a,b\n", "# c\n"])
suffixes = st.sampled_from(["", "", "", ")", ", dtype=torch.float64)", ", requires_grad=True)", "]", ",", "\n# c",
                            " ...", "}"])


@st.composite
def tensor_texts(draw: st.DrawFn) -> str:
    """Text from a grammar of brackets, numbers, separators and junk, then mutated a little."""
    text = draw(prefixes) + draw(st.one_of(nested, rows)) + draw(suffixes)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "bracket"]))
        if edit == "insert":
            text = text[:at] + draw(junk) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + draw(st.sampled_from(["[", "]", "[[", "]]", "(", ")"])) + text[at:]
    return text


@settings(max_examples=FUZZ_EXAMPLES, **FUZZ)
@given(tensor_texts())
def test_fuzz_parse_text_raises_only_input_error(text: str) -> None:
    try:
        parsed = parse_text(text, "pred")
    except InputError:
        return
    assert isinstance(parsed, TensorInput)
    assert parsed.values.dtype in (torch.float64, torch.int64)
    assert parsed.values.numel() >= 1 and parsed.values.dim() <= limits.MAX_DIMS
    assert parsed.decimals is None or tuple(parsed.decimals.shape) == tuple(parsed.values.shape)


FUZZ_LOSSES = ("bce", "cross_entropy", "mse", "dice", "focal")
SHAPES = [(), (3,), (2, 3), (2, 2, 2)]
PARAM_VALUES = st.one_of(
    st.floats(), st.integers(-10**20, 10**20), st.booleans(), st.none(), st.text(max_size=6),
    st.sampled_from(["nan", "1e999", "-1", "0", "0.5", "2", "1e30", "logits", "probabilities", "sigmoid", "softmax",
                     "none", "true", "[1, 2, 3]", "[1, nan, 1]", "[[1]]", "[]", "__import__('os')"]),
    st.lists(st.floats(-2, 2), max_size=4),
)


def _text_of(values: Any) -> str:
    return repr(values) if not isinstance(values, list) else "[" + ", ".join(_text_of(v) for v in values) + "]"


def _tensor_of(shape: tuple[int, ...], element: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Text of a tensor of `shape` with elements drawn from `element`."""
    strategy = element
    for size in reversed(shape):
        strategy = st.lists(strategy, min_size=size, max_size=size)
    return strategy.map(_text_of)


ELEMENTS = {
    "probabilities": st.floats(0, 1), "logits": st.floats(-20, 20), "values": st.floats(-1e3, 1e3),
    "binary": st.sampled_from([0, 1]), "classes": st.integers(0, 2),
    "classes_or_probabilities": st.integers(0, 2),
}


@st.composite
def compute_calls(draw: st.DrawFn) -> tuple[str, str, str, dict[str, Any], dict[str, Any]]:
    loss = draw(st.sampled_from(FUZZ_LOSSES))
    spec = lossapp.LOSSES[loss]
    shape = draw(st.sampled_from(SHAPES))
    target_shape = shape[:1] if spec.target_kind in ("classes", "classes_or_probabilities") and shape else shape
    if draw(st.booleans()):  # a plausible tensor or grammar text, each side on its own
        target_shape = draw(st.sampled_from([target_shape, *SHAPES]))
    plausible_pred = _tensor_of(shape, ELEMENTS.get(spec.pred_kind, st.floats(-5, 5)))
    plausible_target = _tensor_of(target_shape, ELEMENTS.get(spec.target_kind, st.floats(0, 1)))
    pred = draw(st.one_of(plausible_pred, plausible_pred, tensor_texts()))
    target = draw(st.one_of(plausible_target, plausible_target, tensor_texts()))
    own = [p.name for p in spec.params]
    names = [*own, "beta", "claimed", "weight", "", "ignore_index", "tp"]
    own_params = st.dictionaries(st.sampled_from(own), PARAM_VALUES, max_size=2) if own else st.just({})
    params = draw(st.one_of(st.just({}), own_params, st.dictionaries(st.sampled_from(names), PARAM_VALUES,
                                                                     max_size=3)))
    # mostly the defaults and valid choices, so that most calls get past the options to the inputs
    options = {"reduction": draw(st.sampled_from([None] * 4 + ["mean", "sum", "none"] * 2
                                                 + ["batchmean", "MEAN", "", "avg", 5]))}
    dtype = draw(st.sampled_from([None] * 6 + ["float32", "float64", "float16", "bfloat16", "int8", "x"]))
    device = draw(st.sampled_from([None] * 8 + ["cpu", "cuda", "mps", "cuda:1", "cpu:0", ""]))
    if dtype is not None:
        options["dtype"] = dtype
    if device is not None:
        options["device"] = device
    return loss, pred, target, options, params


@settings(max_examples=max(FUZZ_EXAMPLES // 10, 1), **FUZZ)
@given(compute_calls())
def test_fuzz_compute_raises_only_input_error(call: tuple[str, str, str, dict[str, Any], dict[str, Any]]) -> None:
    loss, pred, target, options, params = call
    try:
        result = lossapp.compute(loss, pred, target, **options, **params)
    except InputError:
        return
    assert isinstance(result.value, torch.Tensor) and result.value.dtype == torch.float64
