"""Command line: python -m lossapp ...

    python -m lossapp list [--json]
    python -m lossapp LOSS --pred TEXT [--target TEXT] [--reduction R] [--param NAME=VALUE ...]
                           [--device D] [--dtype T] [--claimed NUMBER] [--json] [--full] [--lang en|zh|...]
    python -m lossapp confusion --tp N --fp N --fn N [--tn N] [--metric M] [--claimed NUMBER] [--json]
    python -m lossapp examples [NAME] [--json]
    python -m lossapp grade answers.csv [-o verdicts.csv]
    python -m lossapp curves NAME [--param NAME=VALUE ...] [--csv | --png] [-o FILE]
    python -m lossapp lab [NAME] [--param NAME=VALUE ...] [--seed N] [--json] [--lang en|zh|...]

A random spec as --pred or --target (`randn(2, 3)`, `rand(4)`, `randint(0, 3, (2,))`, `softmax(2, 3)`, `mask(4)`) is
drawn with --seed N (default 0): pred first, then target, from one generator seeded once, exactly the tensors of
`torch.manual_seed(N)` followed by those torch calls (article 000's inputs).

A large tensor is shown by its first elements (its shape, the count shown; the reduction and the comparisons
always cover every element); --full writes every element.

Exit status: 0 on success (a wrong claimed answer is still success), 2 on bad input, with one line
`error: ...` on stderr (and {"error": "..."} on stdout with --json; in the language of --lang, any language
with a catalog, see lossapp.i18n), 1 on an internal error (one line too), 130 when interrupted, and 141 (what a shell
reports for SIGPIPE) when the reader of stdout went away, e.g. `python -m lossapp examples | head -1`: the
output then stops quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch

from lossapp.i18n import LANGUAGES, Message, catalog, localize, msg, tr
from lossapp.inputs import InputError, limits, quote
from lossapp.plain import latex_to_text
from lossapp.registry import check_param_names, lookup

SUBCOMMANDS = ("list", "examples", "confusion", "grade", "curves", "lab")
API_VERBS = ("compute", "check")  # lossapp.compute / lossapp.check: one command here, LOSS [--claimed NUMBER]
READER_GONE = 141  # 128 + SIGPIPE: the exit status of a command whose reader closed the pipe
INTERRUPTED = 130  # 128 + SIGINT


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one `error:` line (exit 2), not a usage dump, and takes no
    abbreviated options (`--js` is not `--json`: the error path must know whether JSON was asked for)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        """argparse's own message (its English template) as a message by id, so that it renders in any language."""
        for prefix, message_id in _ARGPARSE_ERRORS:
            if message.startswith(prefix):
                raise InputError(message_id, arguments=message.removeprefix(prefix))
        argument, sep, problem = message.partition(": ")
        argument = argument.removeprefix("argument ")
        if sep and problem == "expected one argument":
            raise InputError("cli.expected_one_argument", argument=argument)
        value, sep, choices = problem.removeprefix("invalid choice: ").partition(" (choose from ")
        if sep and problem.startswith("invalid choice: "):
            raise InputError("cli.invalid_choice", argument=argument, value=value, choices=choices.removesuffix(")"))
        raise InputError("cli.usage", message=message)


# argparse's messages (the beginnings of its templates) -> their ids
_ARGPARSE_ERRORS = (("the following arguments are required: ", "cli.required"),
                    ("unrecognized arguments: ", "cli.unrecognized"))


def _loss_parser(loss: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"python -m lossapp {loss}", description=f"Compute {loss} step by step.")
    p.add_argument("--pred", required=True, help="prediction tensor as text, or @FILE (.csv .txt .json .npy .npz .pt)")
    p.add_argument("--target", help="target tensor as text, or @FILE")
    p.add_argument("--reduction", default=None, help="none, mean, sum (batchmean for kl_div)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="loss parameter; repeats")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--claimed", help="a claimed answer to check, e.g. 0.9264")
    p.add_argument("--json", action="store_true")
    p.add_argument("--full", action="store_true",
                   help="every element of every step and of the gradients (default: the first few of a large tensor)")
    p.add_argument("--seed", help="seed of random specs in --pred/--target (default 0), as torch.manual_seed")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    return p


def _confusion_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lossapp confusion", description="Metrics from confusion-matrix counts.")
    for name in ("tp", "fp", "fn"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--tn")
    p.add_argument("--metric", default="dice")
    p.add_argument("--claimed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    return p


def _read_arg(text: str | None, name: str) -> Any:
    """Text as given, or @FILE loaded through the safe loaders."""
    if text is None or not text.startswith("@"):
        return text
    from lossapp.inputs import load_file
    return load_file(Path(text[1:]), name)


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("cli.param_not_name_value", got=quote(pair))
        if name in params:
            raise InputError("cli.param_twice", name=quote(name))
        params[name] = value.strip()
    return params


def _format_value(value: Any) -> str:
    """A float or a 0-d tensor to 10 significant digits; a nested list or a tensor printed by numpy."""
    if isinstance(value, float) or (isinstance(value, torch.Tensor) and value.dim() == 0):
        return f"{float(value):.10g}"
    if isinstance(value, list | torch.Tensor):
        return np.array2string(np.asarray(value, dtype=float), precision=6, threshold=60, separator=", ")
    return str(value)


def _print_result(result: Any, lang: str, out: Any = None, full: bool = False) -> None:
    from lossapp.render import shown_text

    out = out or sys.stdout
    spec = result.spec
    title = tr(spec.title, lang) if spec else result.loss
    header = f"{result.loss} — {title}"
    if result.reference:
        header += f"  (reduction={result.reduction}, {result.reference.device}/{result.reference.dtype})"
    print(header, file=out)
    if spec:
        print(f"  {latex_to_text(spec.formula)}", file=out)
    print(file=out)
    def say(message_id: str, **fields: Any) -> str:
        return msg(f"cli.{message_id}", **fields).render(lang)

    for step in result.steps:
        print(f"  [{step.symbol}] {tr(step.title, lang)}:  {latex_to_text(step.formula)}", file=out)
        subs = step.substituted()
        if subs:
            shown = subs if len(subs) <= 6 else [*subs[:6], "…"]
            print(f"        = {' ; '.join(latex_to_text(s) for s in shown)}", file=out)
        shown = (_format_value(step.value_list(full)) if full or step.complete
                 else shown_text(step.shape, step.shown_values(), lang))
        print(f"        = {shown}".replace("\n", "\n" + " " * 10), file=out)
        if step.note:
            print(f"        ({tr(step.note, lang)})", file=out)
    print(file=out)
    print(say("value", value=_format_value(result.value)), file=out)
    ref = result.reference
    if ref is not None:
        print(say("reference", name=tr(ref.name, lang), value=_format_value(ref.value), where=f"{ref.device}/{ref.dtype}",
                  diff=f"{ref.abs_diff:.3g}", status=_status(ref.agrees)), file=out)
    if result.gradient is not None:
        g = result.gradient
        shown = _format_value(g.manual) if full or g.complete else shown_text(g.shape, g.manual_shown, lang)
        print(say("gradient", values=shown), file=out)
        print("  " + say("gradient_vs_builtin", diff=f"{g.max_abs_diff:.3g}", status=_status(g.agrees)), file=out)
    for key, value in result.extra.get("metrics", {}).items():
        print(f"  {msg(f'confusion.metric_{key}').render(lang)}: {_format_value(value) if value is not None else '—'}",
              file=out)
    for warning in result.warnings:
        print(say("warning", warning=warning), file=out)


def _status(agrees: bool) -> Message:
    return msg("cli.agrees" if agrees else "cli.differs")


def _print_verdict(verdict: Any, lang: str) -> None:
    from lossapp.verdicts import verdict_word

    print()
    print(msg("cli.verdict", claimed=verdict.claimed_text, verdict=verdict_word(verdict.verdict)).render(lang))
    if verdict.interval:
        lo, hi = verdict.interval
        print("  " + msg("cli.attainable", lo=f"{lo:.8g}", hi=f"{hi:.8g}").render(lang))
    print(f"  {verdict.explanation.render(lang)}")
    for m in verdict.mistakes:
        print(f"  - {m.id}: {m.variant.title.render(lang)} = {m.value:.10g}")
    for m in verdict.possible:  # too few digits to decide: listed, not named
        print(f"  ? {m.id}: {tr(m.variant.named or m.variant.title, lang)} = {m.value:.10g}")
    for element, index in zip(verdict.elements, _element_indices(verdict), strict=True):
        print("  " + msg("check.element_line", index=index, claimed=element.claimed_text,
                         verdict=verdict_word(element.verdict), explanation=element.explanation).render(lang))
        for m in element.mistakes + element.conventions:
            print(f"    - {m.id}: {tr(m.variant.named or m.variant.title, lang)} = {m.value:.10g}")


def _element_indices(verdict: Any) -> list[str]:
    """Each element's index as written in the loss's shape: 0, 1, ... or (0, 1), ..."""
    shape = verdict.shape or (len(verdict.elements),)
    if len(shape) <= 1:
        return [str(i) for i in range(len(verdict.elements))]
    return [str(tuple(int(j) for j in np.unravel_index(i, shape))) for i in range(len(verdict.elements))]


def _run_loss(loss: str, argv: list[str]) -> int:
    import lossapp

    args = _loss_parser(loss).parse_args(argv)
    pred, target = _seeded(_read_arg(args.pred, "pred"), _read_arg(args.target, "target"), args.seed)
    params = _params(args.param)
    check_param_names(lookup(loss), params)
    result = lossapp.compute(loss, pred, target, reduction=args.reduction, device=args.device, dtype=args.dtype,
                             **params)
    verdict = _verdict(result, args.claimed)
    return _emit(result, verdict, args)


def _seeded(pred: Any, target: Any, seed: str | None) -> tuple[Any, Any]:
    """pred and target with their random specs drawn: in that order from one generator seeded once with `seed`
    (default 0), as `torch.manual_seed(seed)` then the torch calls (lossapp.inputs.random_inputs)."""
    from lossapp.inputs import is_random_spec, random_inputs

    drawn = [name for name, text in (("pred", pred), ("target", target)) if is_random_spec(text)]
    if not drawn:
        if seed is not None:
            raise InputError("curves.seed_without_random")
        return pred, target
    values = dict(zip(drawn, random_inputs(0 if seed is None else seed, [pred if n == "pred" else target for n in drawn]),
                      strict=True))
    return values.get("pred", pred), values.get("target", target)


def _verdict(result: Any, claimed: str | None) -> Any:
    if claimed is None:
        return None
    from lossapp.verdicts import check_result
    return check_result(result, claimed)


def _emit(result: Any, verdict: Any, args: argparse.Namespace) -> int:
    full = bool(getattr(args, "full", False))
    if args.json:
        data = result.to_dict(full=full)
        if verdict is not None:
            data["check"] = verdict.to_dict()
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        _print_result(result, args.lang, full=full)
        if verdict is not None:
            _print_verdict(verdict, args.lang)
    return 0


def _run_confusion(argv: list[str]) -> int:
    import lossapp

    args = _confusion_parser().parse_args(argv)
    result = lossapp.confusion(args.tp, args.fp, args.fn, args.tn, metric=args.metric)
    return _emit(result, _verdict(result, args.claimed), args)


def _run_list(argv: list[str]) -> int:
    import lossapp

    p = _Parser(prog="python -m lossapp list")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    args = p.parse_args(argv)
    specs = list(lossapp.LOSSES.values())
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], ensure_ascii=False, indent=1))
        return 0
    for family in dict.fromkeys(s.family for s in specs):
        family_id = f"cli.family_{family}"
        print(f"{msg(family_id).render(args.lang) if family_id in catalog('en') else family}:")
        for s in (s for s in specs if s.family == family):
            params = ", ".join(f"{p.name}={p.default}" for p in s.params) or "—"
            aliases = msg("cli.aliases", aliases=", ".join(s.aliases)).render(args.lang) if s.aliases else ""
            print(f"  {s.name:<18} {tr(s.title, args.lang)}{aliases}")
            details = msg("cli.details", params=params, reference=tr(s.reference_name, args.lang))
            print(f"  {'':<18} {details.render(args.lang)}")
    return 0


def _run_examples(argv: list[str]) -> int:
    from lossapp.examples import example_title, find_example, load_examples, run_example, source_title
    from lossapp.verdicts import verdict_word

    p = _Parser(prog="python -m lossapp examples")
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    args = p.parse_args(argv)
    examples = [find_example(args.name)] if args.name else load_examples()
    rows = []
    for ex in examples:
        result, verdict = run_example(ex)
        rows.append({"example": ex.to_dict(), "result": result.to_dict(),
                     "check": verdict.to_dict() if verdict is not None else None})
        if args.json:
            continue
        title = example_title(ex, args.lang)
        if args.name:
            print(f"{ex.name}: {title}  [{source_title(ex.source, args.lang)}, {ex.section}]")
            if ex.claimed is not None:
                print(msg("examples.claimed_line", claimed=ex.claimed).render(args.lang))
            _print_result(result, args.lang)
            if verdict is not None:
                _print_verdict(verdict, args.lang)
            continue
        agree = "—" if result.agrees is None else _status(result.agrees).render(args.lang)
        stated = ex.stated if ex.stated is not None else "—"
        verdict_text = verdict_word(verdict.verdict).render(args.lang) if verdict is not None else "—"
        row = msg("cli.example_row", value=f"{_format_value(result.value):<24}", stated=f"{stated:<10}",
                  verdict=f"{verdict_text:<10}", torch=agree)
        print(f"{ex.name:<32} {ex.loss:<16} {row.render(args.lang)}")
        print(f"{'':<32} {title}")
        print(f"{'':<32} {msg('examples.from_article', source=source_title(ex.source, args.lang)).render(args.lang)}")
        if ex.claimed is not None:
            print(f"{'':<32} {msg('examples.claimed_line', claimed=ex.claimed).render(args.lang)}")
    if args.json:
        print(json.dumps(rows if not args.name else rows[0], ensure_ascii=False, indent=1))
    return 0


def _run_grade(argv: list[str]) -> int:
    from lossapp.grade import grade_csv
    from lossapp.spreadsheet import csv_text, writable_path, write_csv
    from lossapp.verdicts import verdict_word

    p = _Parser(prog="python -m lossapp grade")
    p.add_argument("answers", help="CSV with columns id, loss, pred, target, params, claimed [, reduction]")
    p.add_argument("-o", "--output", help="where to write the verdicts CSV (default: print it)")
    p.add_argument("--lang", default="en", choices=LANGUAGES, help="the language of the messages")
    args = p.parse_args(argv)
    output = writable_path(args.output) if args.output is not None else None  # before the grading, not after
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:  # a bar on a terminal only: stderr stays for the error line
        width = 30
        filled = int(width * done / max(total, 1))
        bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        sys.stderr.write("\r" + msg("cli.grading", bar=bar).render(args.lang))
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    table = grade_csv(Path(args.answers), progress=progress if tty else None)
    if output is None:
        sys.stdout.write(csv_text(table))
        return 0
    write_csv(table, output)
    counts = table["verdict"].value_counts().to_dict()
    words = {v: (msg("grade.verdict_error") if v == "error" else verdict_word(v)).render(args.lang) for v in counts}
    print(", ".join(f"{words[k]}: {v}" for k, v in counts.items()) + f" → {output}")
    return 0


def _run_lab(argv: list[str]) -> int:
    """`lab`: the experiments (name, title, article); `lab NAME`: run one and print its claim, finding and verdict."""
    from lossapp.lab import EXPERIMENTS, cited, run_experiment

    p = _Parser(prog="python -m lossapp lab")
    p.add_argument("name", nargs="?")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="experiment parameter; repeats")
    p.add_argument("--seed", default="0")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    args = p.parse_args(argv)
    if args.name is None:
        if args.param:
            raise InputError("lab.params_without_experiment")
        if args.json:
            print(json.dumps([e.to_dict(args.lang) for e in EXPERIMENTS.values()], ensure_ascii=False, indent=1))
            return 0
        for experiment in EXPERIMENTS.values():
            print(f"{experiment.name:<26} {tr(experiment.title, args.lang)}")
            print(f"{'':<26} {cited(experiment.article, args.lang)}")
        return 0
    record = run_experiment(args.name, _params(args.param), seed=args.seed, lang=args.lang)
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=1))
        return 0

    def say(message_id: str, **fields: Any) -> str:
        return msg(f"lab.{message_id}", **fields).render(args.lang)

    params = ", ".join(f"{k}={v}" for k, v in record["params"].items())
    print(f"{record['name']} — {record['title']}  [{record['article_title']}]")
    print(say("cli_claim", claim=record["claim"]))
    print(say("cli_params", params=params, seed=record["seed"]))
    print(say("cli_finding"))
    for key, value in record["finding"].items():
        print(f"  {key:<36} {'—' if value is None else _format_value(value)}")
    print(say("verdict_holds" if record["holds"] else "verdict_fails"))
    print(f"  {record['summary']}")
    print(say("cli_series", count=len(record["series"])))
    return 0


def _run_curves(argv: list[str]) -> int:
    from lossapp.plots import curve_set, write_png
    from lossapp.spreadsheet import writable_path

    p = _Parser(prog="python -m lossapp curves", description="The curves the app draws, as CSV or PNG.")
    p.add_argument("name", help="focal, regression, bce, truncation, or a loss drawn by one of them")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="curve parameter; repeats")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--csv", action="store_true", help="columns x, y, curve (the default)")
    kind.add_argument("--png", action="store_true", help="a picture, with matplotlib")
    p.add_argument("-o", "--output", help="the file to write (default: CSV on stdout, NAME_curves.png)")
    p.add_argument("--lang", default="en", choices=LANGUAGES)
    args = p.parse_args(argv)
    chosen = curve_set(args.name)
    frame = chosen.frame(_params(args.param))
    frame["curve"] = [tr(label, args.lang) for label in frame["curve"]]
    if not args.png and args.output is None:
        sys.stdout.write(frame.to_csv(index=False))
        return 0
    path = writable_path(args.output if args.output is not None else f"{chosen.name}_curves.png")
    if args.png:
        write_png(chosen, frame, path, tr(chosen.title, args.lang))
    else:
        frame.to_csv(path, index=False)
    print(msg("curves.written", path=str(path), rows=len(frame), curves=frame["curve"].nunique()).render(args.lang))
    return 0


def _lang(argv: list[str]) -> str:
    """The --lang of the command line (for its error message): one of LANGUAGES, else English."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGUAGES else "en"
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=") if arg.removeprefix("--lang=") in LANGUAGES else "en"
    return "en"


def _dispatch(argv: list[str]) -> int:
    if not argv:
        raise InputError("cli.no_command", commands=", ".join(SUBCOMMANDS))
    if argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "list":
        return _run_list(rest)
    if command == "examples":
        return _run_examples(rest)
    if command == "confusion":
        return _run_confusion(rest)
    if command == "grade":
        return _run_grade(rest)
    if command == "curves":
        return _run_curves(rest)
    if command == "lab":
        return _run_lab(rest)
    if command.startswith("-"):
        raise InputError("cli.bad_command", commands=", ".join(SUBCOMMANDS), got=quote(command))
    if command in API_VERBS:  # `python -m lossapp compute focal ...`: the Python API's verbs, which no loss is named
        loss = rest[0] if rest and not rest[0].startswith("-") else "LOSS"
        raise InputError("cli.loss_first", command=quote(command), loss=loss)
    return _run_loss(command, rest)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json, lang = "--json" in argv, _lang(argv)
    _log_to_stderr()
    try:
        status = _dispatch(argv)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        return _reader_gone()
    except InputError as exc:
        return _fail(localize(exc, lang), as_json, 2)
    except SystemExit as exc:  # --help inside a sub-parser
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return _fail(msg("cli.interrupted").render(lang), as_json, INTERRUPTED)
    except Exception as exc:  # an internal error: still one line, never a traceback
        detail = " ".join(str(exc).split())[:limits.MAX_QUOTED_CHARS]
        return _fail(msg("cli.internal_error", error=type(exc).__name__, detail=detail).render(lang), as_json, 1)


def _fail(message: str, as_json: bool, status: int) -> int:
    """One `error: ...` line on stderr (newlines in the message become spaces), and {"error": ...} on stdout
    with --json; a closed stdout or stderr does not change the status."""
    message = " ".join(message.split())
    with contextlib.suppress(OSError):  # stderr closed: nowhere to say it
        print(f"error: {message}", file=sys.stderr, flush=True)
    if as_json:
        try:
            print(json.dumps({"error": message}, ensure_ascii=False), flush=True)
        except BrokenPipeError:
            _stdout_to_devnull()
    return status


def _reader_gone() -> int:
    """The reader of stdout went away (`| head -1`): stop quietly, with SIGPIPE's status."""
    _stdout_to_devnull()
    return READER_GONE


def _stdout_to_devnull() -> None:
    """Point stdout at devnull, so the interpreter's own flush at exit finds nothing to complain about (the
    Python docs' recipe for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError):  # stdout not a real file (a test's capture): nothing to redirect
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _WarningLine(logging.Handler):
    """A logged record as one `warning: ...` line on the current stderr, without its traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):  # stderr closed: nowhere to say it
            sys.stderr.write(f"warning: {' '.join(record.getMessage().split())}\n")


def _log_to_stderr() -> None:
    """The library's logged problems (a grading row that failed inside) as one line each, no traceback."""
    logger = logging.getLogger("lossapp")
    if not any(isinstance(h, _WarningLine) for h in logger.handlers):
        logger.addHandler(_WarningLine(logging.WARNING))


if __name__ == "__main__":
    sys.exit(main())
