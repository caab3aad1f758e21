"""Shared fixtures: every test run gets its own KUBESAGE_HOME, so nothing touches the user's ~/.kubesage."""

from __future__ import annotations

import os
import tempfile

_home = tempfile.mkdtemp(prefix="kubesage-test-home-")
os.environ["KUBESAGE_HOME"] = _home
