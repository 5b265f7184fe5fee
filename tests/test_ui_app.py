"""lossapp.ui.app's launch: a host's SIGTERM stops `python app.py` as Ctrl-C does, cleanly, even when repeated."""

from __future__ import annotations

import signal
import time

from ui_fixtures import start_server, stop_server


def test_repeated_stop_signals_end_the_app_without_a_traceback() -> None:
    server = start_server()
    try:
        for signum in (signal.SIGTERM, signal.SIGTERM, signal.SIGINT):  # a supervisor repeating itself, then Ctrl-C
            server.process.send_signal(signum)
            time.sleep(0.05)
        code = server.process.wait(timeout=60)
    finally:
        stop_server(server)
    log = server.log.read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
