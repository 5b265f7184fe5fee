"""Test-wide settings: under CI, every hypothesis test is derandomised (reproducible runs, no flaky example)."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
