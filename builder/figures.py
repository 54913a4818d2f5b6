"""figures: run `figures/*.py`, cache each figure's day and night files by a content hash.

The script contract
-------------------
- `figures/<name>.py` makes the figure a card names with `figure: <name>`; names are lowercase
  letters, digits and hyphens (`kl-fits.py` -> `kl-fits`), like card ids. Hyphenated files
  cannot be imported with `import`; tests load them by path (importlib). Files starting with
  `_` are shared helpers, not figures: `_style.py` (themes, rcParams, deterministic saving)
  and `_run.py` (draws one script in both themes; run by hand to preview a figure).
- A script defines `draw(theme) -> matplotlib.figure.Figure`, using the theme's colours. It
  seeds its own random generators and keeps costly numbers in a cached function, since `draw`
  runs once per theme. It may declare `FORMAT = "svg"` or `FORMAT = "png"` (default png, the
  smaller for our plots: glyphs as SVG paths cost more than a 64-colour PNG).

Planning vs drawing
-------------------
`plan_figures` only reads bytes and hashes them, so `check`, `render` and `preview` know every
media file name without importing torch or matplotlib. The key covers the script, every shared
`figures/_*.py`, the versions of the drawing libraries and FORMAT_VERSION; a media name carries
the key, so Anki never keeps a stale file under a reused name and a text-only edit redraws
nothing. `make_figures` draws only the figures whose files are not in the cache yet, `jobs` at
a time, each script in a fresh process (builder/figure_drawing.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Final

from .atomic import remove_stale_temporaries
from .figure_drawing import DIGEST_SUFFIX, FigureError, draw_figures, is_intact
from .records import Record
from .user_cache import Remembered, file_stamp
from .versions import library_version  # reads versions without importing the libraries

# Bump when the runner's output changes in a way the hashed inputs do not show.
FORMAT_VERSION = 1
DRAWING_LIBRARIES = ("torch", "matplotlib", "numpy", "pillow")
FIGURE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DECLARED_FORMAT = re.compile(rb"""^FORMAT\s*=\s*["'](svg|png)["']""", re.MULTILINE)
DEFAULT_FORMAT = "png"


class FigurePlan(Record):
    __slots__ = field_names = ("name", "script", "key", "light_name", "dark_name", "format", "alt")
    name: Final[str]  # "kl-fits", from figures/kl-fits.py
    script: Final[Path]
    key: Final[str]  # sha256 of everything that can change the figure's bytes
    light_name: Final[str]  # flat media file names, e.g. "mathdeck-kl-fits-<key[:12]>-light.png"
    dark_name: Final[str]
    format: Final[str]  # "svg" or "png"
    alt: Final[str]  # the script's docstring, first sentence: the figure's text alternative

    def __init__(
        self,
        name: str,
        script: Path,
        key: str,
        light_name: str,
        dark_name: str,
        format: str,
        alt: str = "",
    ) -> None:
        self.name = name
        self.script = script
        self.key = key
        self.light_name = light_name
        self.dark_name = dark_name
        self.format = format
        self.alt = alt


def plan_figures(figures_dir: Path) -> dict[str, FigurePlan]:
    """Every figure in `figures_dir` by name, with its cache key and media names (nothing drawn)."""
    figures_dir = Path(figures_dir)
    if not figures_dir.is_dir():
        return {}
    scripts = sorted(p for p in figures_dir.glob("*.py") if not p.name.startswith("_"))
    shared = sorted(p for p in figures_dir.glob("_*.py"))
    shared_digest = _digest_files(shared)
    descriptions = Remembered("figure-descriptions", limit=1024)
    plans = {
        plan.name: plan
        for plan in (_plan(script, shared_digest, descriptions) for script in scripts)
    }
    descriptions.save()
    return plans


def _plan(script: Path, shared_digest: bytes, descriptions: Remembered) -> FigurePlan:
    name = script.stem
    if not FIGURE_NAME.fullmatch(name):
        raise FigureError(
            name,
            f"{script}: figure file names use only a-z, 0-9 and single "
            f"hyphens (the name cards use after `figure:`)",
        )
    if not script.is_file():  # a FIFO would block the read forever
        raise FigureError(
            name, f"{script}: not a regular file (a folder, FIFO or device is never read)"
        )
    source = script.read_bytes()
    declared = DECLARED_FORMAT.search(source)
    fmt = declared.group(1).decode() if declared else DEFAULT_FORMAT
    source_digest = hashlib.sha256(source).digest()
    key = hashlib.sha256(
        b"".join(
            [
                f"mathdeck figures v{FORMAT_VERSION} {fmt}\n".encode(),
                _library_versions().encode(),
                shared_digest,
                source_digest,
            ]
        )
    ).hexdigest()
    stem = f"mathdeck-{name}-{key[:12]}"
    # parsing every script was ~10 ms of every build: each description is kept, by its inputs
    known = hashlib.sha256(_description_code() + source_digest).digest()
    alt = descriptions.get(known)
    if not isinstance(alt, str):
        alt = _description(source)
        descriptions.put(known, alt)
    return FigurePlan(name, script, key, f"{stem}-light.{fmt}", f"{stem}-dark.{fmt}", fmt, alt)


def _description(source: bytes) -> str:
    """The first sentence of the script's docstring (read, never run: no torch needed), as plain
    text for screen readers."""
    import ast  # here: a description is read once per script and kept (~2 ms to import)

    try:
        docstring = ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError):
        return ""
    paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
    return paragraph


@cache
def _description_code() -> bytes:
    """What makes a description besides the script: this file's code and Python's `ast`."""
    return hashlib.sha256(sys.version.encode() + Path(__file__).read_bytes()).digest()


def _digest_files(paths: list[Path]) -> bytes:
    digest = hashlib.sha256()
    for path in paths:
        if not path.is_file():
            raise FigureError(
                path.stem, f"{path}: not a regular file (a folder, FIFO or device is never read)"
            )
        data = path.read_bytes()
        digest.update(f"{path.name} {len(data)}\n".encode())
        digest.update(data)
    return digest.digest()


@cache
def _library_versions() -> str:
    return "".join(f"{library}=={library_version(library)}\n" for library in DRAWING_LIBRARIES)


def make_figures(
    plans: Iterable[FigurePlan],
    cache_dir: Path,
    jobs: int = os.cpu_count() or 1,
    on_done: Callable[[FigurePlan, bool], None] | None = None,
) -> dict[str, tuple[Path, Path]]:
    """name -> (light file, dark file) in `cache_dir`, drawing only the figures not cached yet.

    `on_done(plan, was_cached)` is called once per figure, from this thread. The first failing
    script raises FigureError once running scripts end; no new one starts, finished ones stay
    cached.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(cache_dir, ".drawing-*")  # what killed runs left (a pid in each name)
    plans = sorted(plans, key=lambda plan: plan.name)
    outputs = {
        plan.name: (cache_dir / plan.light_name, cache_dir / plan.dark_name) for plan in plans
    }
    report = on_done or (lambda plan, was_cached: None)
    missing = []
    for plan in plans:
        if is_cached(plan, cache_dir):
            report(plan, True)
        else:
            missing.append(plan)
    if missing:
        draw_figures(missing, cache_dir, max(1, jobs), report)
    return outputs


def is_cached(plan: FigurePlan, cache_dir: Path) -> bool:
    """Both files of the figure are in the cache, whole and as drawn (figure_drawing.is_intact).
    A build asks twice (before packaging, then to draw what is missing): files found intact are
    not read and hashed again while they keep their size, times and inode (with their digest
    files)."""
    files = [
        Path(cache_dir) / (name + suffix)
        for name in (plan.light_name, plan.dark_name)
        for suffix in ("", DIGEST_SUFFIX)
    ]
    try:
        stamps = [file_stamp(path.stat()) for path in files]
    except OSError:
        return False
    key = tuple(map(str, files))
    if _INTACT.get(key) == stamps:
        return True
    intact = all(is_intact(path, plan.format) for path in files[::2])
    if intact:
        _INTACT[key] = stamps
    return intact


# the files of each figure found intact in this process -> their stamps then
_INTACT: dict[tuple[str, ...], list[list[int]]] = {}


def remove_stale_figures(cache_dir: Path, plans: Iterable[FigurePlan]) -> list[Path]:
    """Delete cached media no current plan names (old keys); returns what was removed."""
    keep = {
        name + suffix
        for plan in plans
        for name in (plan.light_name, plan.dark_name)
        for suffix in ("", DIGEST_SUFFIX)
    }
    stale = [path for path in Path(cache_dir).glob("mathdeck-*") if path.name not in keep]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
