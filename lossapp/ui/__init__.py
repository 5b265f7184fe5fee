"""The Gradio app (the only gradio importer besides app.py): thin wiring from components to the library.

    from lossapp.ui import build_app, launch
    launch(build_app())
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere below

from lossapp.ui.app import build_app, launch, launch_kwargs, server_settings

__all__ = ["build_app", "launch", "launch_kwargs", "server_settings"]
