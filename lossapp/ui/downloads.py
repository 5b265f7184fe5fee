"""Files to download, written on demand, once, and removed once they are no longer needed.

    files = Downloads()
    path = files.file(key, "bce_result.json", lambda p: p.write_text(...))   # written now, or the one already there
    files.discard(key)    # the owner moved on (a new result) or its session ended
    files.sweep()         # every folder whose files are all older than `ttl` seconds

Each key (one result, one graded batch) has its own folder `lossapp-<key>` in Gradio's file cache (GRADIO_TEMP_DIR,
else <tmp>/gradio), so Gradio serves a file from where it was written, without a copy. A folder is removed when
its owner discards it, by the sweep that runs before each new file is written and every ttl / 2 seconds
(`start_sweeping`, started by the app's launch), and at exit.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gradio.utils import get_upload_folder

PREFIX = "lossapp-"
TTL = 600.0  # seconds a written file stays available for its download


def cache_root() -> Path:
    """Gradio's file cache (where it keeps the files it serves, Block.GRADIO_CACHE): GRADIO_TEMP_DIR, else
    <tmp>/gradio."""
    return Path(get_upload_folder())


class Downloads:
    """The download folders of one app (see the module docstring)."""

    def __init__(self, root: Path | None = None, ttl: float = TTL) -> None:
        self._root = root
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: set[str] = set()  # the folders this process made (clear() removes only those)
        self._sweeper: threading.Thread | None = None

    @property
    def root(self) -> Path:
        return self._root or cache_root()

    def folder(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{8,64}", key):
            raise ValueError(f"download key: expected hex digits, got {key!r}")
        return self.root / f"{PREFIX}{key}"

    def file(self, key: str, name: str, write: Callable[[Path], None]) -> Path:
        """`name` in the folder of `key`: written by write(path) the first time it is asked for, then reused."""
        self.sweep()
        folder = self.folder(key)
        path = folder / Path(name).name
        partial = folder / f".{path.name}.part"
        with self._lock:  # the sweep, which holds it too, never sees this folder empty
            if path.is_file():
                os.utime(path)  # asked for again: its time to live starts again
                return path
            folder.mkdir(parents=True, exist_ok=True)
            self._keys.add(key)
            partial.touch()
        try:
            write(partial)
            partial.replace(path)  # whole or not at all
        finally:
            partial.unlink(missing_ok=True)
        return path

    def discard(self, key: str | None) -> None:
        """Remove the folder of `key` (nothing when there is none)."""
        if key:
            shutil.rmtree(self.folder(key), ignore_errors=True)
            self._keys.discard(key)

    def folders(self) -> list[Path]:
        root = self.root
        return sorted(p for p in root.glob(f"{PREFIX}*") if p.is_dir()) if root.is_dir() else []

    def sweep(self, now: float | None = None) -> list[Path]:
        """Remove every folder whose newest file is older than `ttl` seconds (or that is empty); the removed ones."""
        now = time.time() if now is None else now
        removed = []
        with self._lock:
            for folder in self.folders():
                try:
                    times = [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
                except OSError:  # removed meanwhile (by another process's sweep)
                    continue
                if not times or now - max(times) > self.ttl:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
        return removed

    def clear(self) -> None:
        """Remove every folder this process made (at exit)."""
        for key in list(self._keys):
            self.discard(key)

    def start_sweeping(self, interval: float | None = None) -> None:
        """Sweep every `interval` seconds (ttl / 2 by default) in a daemon thread, once per process."""
        if self._sweeper is not None:
            return
        period = interval or self.ttl / 2

        def loop() -> None:
            while True:
                time.sleep(period)
                self.sweep()

        self._sweeper = threading.Thread(target=loop, name="lossapp-downloads-sweep", daemon=True)
        self._sweeper.start()


DOWNLOADS = Downloads()
atexit.register(DOWNLOADS.clear)
