"""Shared test fixtures: paths to the real sources and a loader for card snippets."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

# One headless Chromium for the whole session, shared by every browser test module: fixtures
# defined here are shared; imported into each module they would start one browser per module,
# and Playwright's sync API refuses a second one while the first is running.
from browser_harness import browser, page  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
CARDS_DIR = REPO / "cards"


def load_snippet(relative_path: str) -> ModuleType:
    """Import a snippet file from cards/ exactly as it is shown on its card.

    The card shows the file's text and the test runs the same file: one source of truth.
    """
    path = CARDS_DIR / relative_path
    name = "snippet_" + path.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the minimal project (one card of each kind) to edit and build, at a fixed time."""
    from builds import MINIMAL, copy_sources

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    copy_sources(MINIMAL, tmp_path / "project")
    return tmp_path / "project"


@pytest.fixture(scope="session")
def imported_flagship(tmp_path_factory):
    """The flagship deck built from a copy of the real sources and imported into a fresh collection
    with the official `anki` library: (build result, collection, import log)."""
    from anki_collection import fresh_collection, import_package
    from builds import build_in, copy_flagship

    project = copy_flagship(tmp_path_factory.mktemp("flagship"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1764000000")
        result = build_in(project)
    col = fresh_collection(project / "anki")
    log = import_package(col, result.path)
    yield result, col, log
    col.close()


@pytest.fixture
def snippet():
    return load_snippet


def pytest_configure(config):
    """Builds keep stamps, kept options and help texts in the per-user cache (user_cache.py):
    the tests' go to a folder of their own, removed at the end, not into the tester's
    ~/.cache/mathdeck (which keeps node's code cache and MathJax snapshot: those are shared)."""
    if "MATHDECK_CACHE" not in os.environ:
        folder = tempfile.mkdtemp(prefix="mathdeck-test-cache-")
        os.environ["MATHDECK_CACHE"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_collection_modifyitems(config, items):
    """Remember every card id that a test claims to check (see test_card_markers.py)."""
    config.card_marker_ids = {
        (marker.args[0], item.nodeid) for item in items for marker in item.iter_markers("card")
    }
