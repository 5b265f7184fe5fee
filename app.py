"""lossapp's web app: `python app.py` serves it on 127.0.0.1:7860 (GRADIO_SERVER_NAME,
GRADIO_SERVER_PORT and PORT override), fully offline: analytics off, no share link, no web fonts.
`python app.py --mcp` (or LOSSAPP_MCP=1) also serves the HTTP API as MCP tools (lossapp.ui.mcp_server)."""

from __future__ import annotations

import gc
import os
import sys

# Importing torch and gradio and building the app create a few million objects that live as long as the
# process; the garbage collector would walk them again and again while they are made (about 1 s of a 4 s
# start). Collect nothing until the app is built, then freeze what exists so later collections skip it.
gc.disable()

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

from lossapp.ui import build_app, launch  # noqa: E402
from lossapp.ui.mcp_server import launch_option, requested  # noqa: E402

demo = build_app()
gc.freeze()
gc.enable()

if __name__ == "__main__":
    launch(demo, mcp_server=launch_option(requested(sys.argv[1:])))
