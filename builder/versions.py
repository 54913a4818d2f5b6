"""versions: the installed version of a library, read without importing it.

Caches (builder/cache.py) and figure keys (builder/figures.py) name the versions of the
libraries whose output they keep: a new version empties them.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache


def library_version(library: str) -> str:
    """The installed version of a library, without importing it ("absent" when not installed)."""
    version = _installed_versions().get(_normalised(library))
    if version is None:
        # rarely needed, and it imports the email package (~25 ms of every start)
        import importlib.metadata

        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
    return version


def installed_versions() -> dict[str, str]:
    """Every library installed on sys.path, by normalised name: its version."""
    return dict(_installed_versions())


@cache
def _installed_versions() -> dict[str, str]:
    """Library versions from the names of the *.dist-info folders on sys.path: one directory
    listing, where importlib.metadata.version reads each library's METADATA (~15 ms apiece)."""
    versions: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                library, version = name[: -len(".dist-info")].rsplit("-", 1)
                versions.setdefault(_normalised(library), version)
    return versions


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
