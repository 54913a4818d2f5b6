"""Where MathJax is, and its installation on first use: the node packages the formula checker runs.

In a checkout ``mathjax-full`` comes from the repository's ``node_modules`` (installed by
``npm ci``); where mathdeck runs from an installed package with no repository around it, from a
per-user cache that the first use fills with ``npm ci`` from the package.json and
package-lock.json shipped in builder/mathjax/ (so the same pinned MathJax).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from .user_cache import user_cache_dir

MATHJAX_VERSION = "3.2.2"  # keep in step with package.json: Anki ships this version
# In a checkout (also with `pip install -e .`) builder/ sits at the repository root next to
# package.json and node_modules/; MATHDECK_NODE_ROOT points elsewhere if needed.
DEFAULT_NODE_ROOT = Path(__file__).resolve().parent.parent
# The node packages as package data (the repository's package.json and lock, byte for byte):
# an installed mathdeck runs `npm ci` with them into the user's cache on first use.
NODE_PACKAGE_FILES = tuple(
    Path(__file__).resolve().parent / "mathjax" / name
    for name in ("package.json", "package-lock.json")
)


class MathJaxUnavailable(Exception):
    """node or the node packages are missing: a setup problem, not a problem in the cards."""


class MathJaxFailed(Exception):
    """node ran a script of builder/mathjax and it ended without every answer (NODE_OPTIONS node
    refuses, memory, a kill, a crash): the build stops, writing nothing, with what node said."""


def how_node_ended(returncode: int) -> str:
    """`was killed by SIGKILL` (a kill, the kernel's out-of-memory killer: node says nothing
    then), else `ended with exit code 1`."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:  # a signal without a name here
            return f"was killed by signal {-returncode}"
    return f"ended with exit code {returncode}"


# Signals sent to node from outside (a kill, the kernel's out-of-memory killer, a terminal): never
# the snapshot's doing, however well node then does without it
_KILLED_FROM_OUTSIDE = frozenset(
    -number for number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
)


def killed_from_outside(returncode: int) -> bool:
    """Whether node was ended by a signal from outside it, not by its own failure."""
    return returncode in _KILLED_FROM_OUTSIDE


def node_root() -> Path:
    """Where node_modules/mathjax-full is (or will be, see installed_node_root): MATHDECK_NODE_ROOT,
    else the checkout's root when it has node_modules, else the per-user cache."""
    if "MATHDECK_NODE_ROOT" in os.environ:
        return Path(os.environ["MATHDECK_NODE_ROOT"])
    if (DEFAULT_NODE_ROOT / "node_modules").is_dir() or not all(
        path.is_file() for path in NODE_PACKAGE_FILES
    ):
        return DEFAULT_NODE_ROOT
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in NODE_PACKAGE_FILES)).hexdigest()[
        :16
    ]
    return user_cache_dir() / f"node-{digest}"  # one folder per lock: a new pin installs afresh


# Told before a first-use install (which takes a few seconds): the CLI shows it, as only it prints.
install_notice: Callable[[str], None] = lambda message: None  # noqa: E731


def installed_node_root() -> Path:
    """node_root(), with MathJax installed there first if it is the per-user cache and empty."""
    root = node_root()
    if root.parent == user_cache_dir() and not _mathjax_manifest(root).is_file():
        _install_node_packages(root)
    return root


def _mathjax_manifest(root: Path) -> Path:
    return root / "node_modules" / "mathjax-full" / "package.json"


def _install_node_packages(root: Path) -> None:
    """`npm ci` into a temporary folder beside `root`, renamed into place: a killed install
    leaves no half folder, and of two racing installs the first rename wins."""
    npm = shutil.which("npm")
    if npm is None:
        raise MathJaxUnavailable(
            "npm is not installed: install Node.js with npm (https://nodejs.org), which mathdeck "
            f"needs to check formulas with MathJax {MATHJAX_VERSION}"
        )
    install_notice(f"Installing MathJax {MATHJAX_VERSION} (once, with npm) into {root}")
    root.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here: only an install needs it

    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        for source in NODE_PACKAGE_FILES:
            shutil.copyfile(source, staging / source.name)
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            encoding="utf-8",
            check=False,
        )
        if result.returncode != 0:
            raise MathJaxUnavailable(
                f"`npm ci` of MathJax {MATHJAX_VERSION} into {root} failed: "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        try:
            os.rename(staging, root)
        except OSError:
            if not _mathjax_manifest(root).is_file():  # not another install's: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def require_node_setup() -> tuple[str, Path]:
    """node's path and the node root, once MathJax Anki's version is installed there; else
    MathJaxUnavailable saying what to run."""
    node = shutil.which("node")
    if node is None:
        raise MathJaxUnavailable("node is not installed: run `make setup`")
    root = installed_node_root()
    manifest = _mathjax_manifest(root)
    if not manifest.is_file():
        raise MathJaxUnavailable(
            f"mathjax-full is not installed in {root / 'node_modules'}: "
            "run `make setup` (or `npm ci`)"
        )
    installed = _installed_version(manifest)
    if installed is None:
        raise MathJaxUnavailable(
            f"{manifest} is damaged (not a package.json): run `make setup` (or `npm ci`)"
        )
    if installed != MATHJAX_VERSION:
        raise MathJaxUnavailable(
            f"node_modules has mathjax-full {installed}, Anki runs {MATHJAX_VERSION}: "
            "run `make setup` (or `npm ci`)"
        )
    return node, root


def _installed_version(manifest: Path) -> str | None:
    """The version a package.json names; None when it is not one (cut short, or garbage)."""
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def mathjax_manifest() -> Path:
    """The package.json of the MathJax that node_root() holds: its version is MathJax's."""
    return _mathjax_manifest(node_root())


def mathjax_fingerprint() -> str:
    """The installed MathJax's version, without starting node: part of the verdict cache's key."""
    installed = _installed_version(mathjax_manifest())
    return "mathjax-full absent" if installed is None else f"mathjax-full=={installed}"
