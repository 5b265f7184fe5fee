"""lossapp's web app: `python app.py` serves it on 127.0.0.1:7860 (GRADIO_SERVER_NAME,
GRADIO_SERVER_PORT and PORT override), fully offline: analytics off, no share link, no web fonts."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

from lossapp.ui import build_app, launch

demo = build_app()

if __name__ == "__main__":
    launch(demo)
