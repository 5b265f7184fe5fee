"""The app's MCP endpoint: with `python app.py --mcp` (or LOSSAPP_MCP=1) Gradio's built-in MCP server also
serves the public HTTP endpoints of lossapp.ui.api (/compute, /check, /confusion and their _full twins) as MCP
tools, described by their docstrings, so an AI tutor or agent checks a student's number with the same engine.

    LOSSAPP_MCP=1 python app.py      # Streamable HTTP: http://127.0.0.1:7860/gradio_api/mcp/
                                     # SSE:             http://127.0.0.1:7860/gradio_api/mcp/sse

It needs the `mcp` package (`pip install "gradio[mcp]==6.31.0"`, in requirements.txt).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import Mapping, Sequence

ENV = "LOSSAPP_MCP"
ON = {"1", "true", "yes", "on"}
STREAMABLE_HTTP_PATH = "gradio_api/mcp/"
SSE_PATH = "gradio_api/mcp/sse"


def parser() -> argparse.ArgumentParser:
    """`python app.py`'s command line."""
    p = argparse.ArgumentParser(prog="python app.py", description="lossapp's web app (Gradio), fully offline.")
    p.add_argument("--mcp", action="store_true",
                   help=f"also serve /compute, /check and /confusion as MCP tools at /{STREAMABLE_HTTP_PATH} "
                        f"(Streamable HTTP) and /{SSE_PATH} (SSE); the same as {ENV}=1")
    return p


def requested(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> bool:
    """Whether the MCP server is asked for: `--mcp` in `argv`, or LOSSAPP_MCP=1 (true/yes/on) in `environ`
    (os.environ by default). An unknown argument exits with argparse's usage message."""
    environ = os.environ if environ is None else environ
    flag = parser().parse_args(list(argv)).mcp
    return flag or environ.get(ENV, "").strip().lower() in ON


def launch_option(wanted: bool) -> bool:
    """Gradio's `mcp_server` launch argument. Asked for without the `mcp` package, the app refuses to start
    (Gradio itself would only print a warning and serve no MCP endpoint)."""
    if wanted and importlib.util.find_spec("mcp") is None:
        raise SystemExit('error: the MCP endpoint needs the mcp package: pip install "gradio[mcp]==6.31.0"')
    return wanted
