"""A new user's path: `mathdeck new`, build, edit, build again with no flag, import both into one
collection with the real `anki` library, release, and the released file rebuilt byte for byte;
then the same from a wheel installed into a fresh venv, outside the repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from anki_collection import fresh_collection, import_package, notes_by_card_id
from builds import REPO

MATHDECK = [sys.executable, "-m", "builder.cli"]
KINDS_IN_THE_EXAMPLES = {
    "quadratic-formula": "formula",
    "derivative-definition": "qa",
    "pythagoras": "cloze",
    "mean-in-python": "code",
    "euler-identity": "basic",
}


def run(args, cwd: Path, epoch: str | None = "1764000000", command=MATHDECK, **env):
    environment = {**os.environ, "COLUMNS": "200", **env}
    environment.pop("SOURCE_DATE_EPOCH", None)
    if epoch:
        environment["SOURCE_DATE_EPOCH"] = epoch
    return subprocess.run(command + args, cwd=cwd, capture_output=True, text=True, env=environment)


def new_deck(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    made = run(["new", str(folder)], folder.parent)
    assert made.returncode == 0, made.stderr
    return folder


def test_new_deck_build_edit_rebuild_import_release(tmp_path):
    deck = new_deck(tmp_path / "my-algebra")
    assert (
        (deck / "deck.yaml").is_file()
        and (deck / "figures" / "parabola.py").is_file()
        and (deck / "README.md").is_file()
    )

    first = run(["build"], deck)
    assert first.returncode == 0, first.stderr
    dev = deck / "dist" / "my-algebra-0.0.0+dev.apkg"
    assert dev.is_file() and not (tmp_path / "CHANGELOG.md").exists()
    col = fresh_collection(tmp_path / "anki")
    log = import_package(col, dev)
    assert len(log.new) == 5
    notes = notes_by_card_id(col)
    assert {card_id: note.note_type()["name"] for card_id, note in notes.items()} == {
        card_id: f"mathdeck {kind}" for card_id, kind in KINDS_IN_THE_EXAMPLES.items()
    }
    assert "mathdeck-parabola-" in notes["quadratic-formula"]["Figure"]

    cards = deck / "examples.yaml"
    cards.write_text(
        cards.read_text().replace("What is $e^{i\\pi} + 1$?", "What does $e^{i\\pi} + 1$ equal?")
    )
    second = run(["build"], deck, epoch="1764000600")  # later, no flag
    assert second.returncode == 0, second.stderr
    assert "Replaced dist/my-algebra-0.0.0+dev.apkg" in second.stdout
    log = import_package(col, dev)
    assert len(log.updated) == 1 and len(log.duplicate) == 4 and not log.new
    notes = notes_by_card_id(col)
    assert (
        len(notes) == 5 and "What does" in notes["euler-identity"]["Front"]
    )  # in place, no duplicate

    released = run(["release", "--minor"], deck, epoch="1764001200")
    assert released.returncode == 0, released.stderr
    kept = deck / "releases" / "my-algebra-0.1.0.apkg"
    assert kept.read_bytes() == (deck / "dist" / "my-algebra-0.1.0.apkg").read_bytes()
    assert "## 0.1.0" in (deck / "CHANGELOG.md").read_text()
    assert "version: 0.1.0" in (deck / "deck.yaml").read_text()
    log = import_package(col, kept)  # over the dev build: nothing new, nothing duplicated
    assert not log.new and len(notes_by_card_id(col)) == 5

    # The released file is reproducible: a clean copy of the committed sources rebuilds it.
    clean = tmp_path / "clone"
    shutil.copytree(deck, clean, ignore=shutil.ignore_patterns("dist", ".cache"))
    rebuilt = run(["build"], clean, epoch="1764009999")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (clean / "dist" / "my-algebra-0.1.0.apkg").read_bytes() == kept.read_bytes()


def test_new_deck_ids_are_fresh_and_fixed_in_comments(tmp_path):
    texts = [(new_deck(tmp_path / name) / "deck.yaml").read_text() for name in ("a", "b")]
    ids = [re.findall(r"\b\d{15,16}\b", text) for text in texts]
    assert all(len(found) == 6 for found in ids)  # the deck and one note type per kind
    assert not set(ids[0]) & set(ids[1]) and len(set(ids[0])) == 6
    assert "FIXED FOREVER" in texts[0]


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_decks_in_one_repository_keep_their_files_apart(tmp_path):
    repo = tmp_path / "repo"
    algebra, geometry = new_deck(repo / "decks" / "algebra"), new_deck(repo / "decks" / "geometry")
    untouched = _files(geometry)

    result = run(["release", "--minor", "--cards", "decks/algebra"], repo)
    assert result.returncode == 0, result.stderr
    assert {
        path for path in _files(repo) if not path.startswith("decks/")
    } == set()  # nothing at the repository's root
    assert {
        "CHANGELOG.md",
        "mathdeck.lock.json",
        "releases/algebra-0.1.0.apkg",
        "dist/algebra-0.1.0.apkg",
    } <= _files(algebra)
    assert _files(geometry) == untouched


def test_new_refuses_a_folder_with_files_and_writes_nothing(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = run(["new", "taken"], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "already exists and is not an empty folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_the_new_decks_figure_helpers_are_the_flagships():
    """The scaffold carries copies of figures/_style.py and _run.py (figures live with their deck);
    they must not drift from the flagship's."""
    template = REPO / "builder" / "templates" / "new_deck" / "figures"
    for helper in ("_style.py", "_run.py"):
        assert (template / helper).read_bytes() == (REPO / "figures" / helper).read_bytes()


HIDE_TORCH = """import sys


class HideTorch:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "torch":
            raise ImportError("torch is hidden: this deck must not need it")
        return None


sys.meta_path.insert(0, HideTorch())
"""


def _shared_site_packages() -> Path:
    import genanki

    return Path(genanki.__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm"
)
def test_a_wheel_installed_in_a_fresh_venv_builds_a_new_deck_outside_the_repository(tmp_path):
    source = tmp_path / "source"  # a copy: building leaves build/ and *.egg-info behind
    shutil.copytree(
        REPO / "builder",
        source / "builder",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("pyproject.toml", "README.md", "package.json", "package-lock.json"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    [wheel] = wheels.glob("mathdeck-*.whl")
    outside_env = {
        name: value for name, value in os.environ.items() if name != "PYTHONPATH"
    }  # the checkout is no install
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=outside_env,
    )
    assert installed.returncode == 0, installed.stderr
    # The dependencies come from the shared venv as a plain path (its .pth files, among them the
    # editable install of this repository, are not run); mathdeck itself only from the wheel.
    (site / "shared-dependencies.pth").write_text(f"{_shared_site_packages()}\n")
    # torch is there too, but a deck without torch in its figure scripts must not need it: hide it.
    (site / "hide_torch.py").write_text(HIDE_TORCH)
    (site / "hide-torch.pth").write_text("import hide_torch\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    clean_env = {
        "PYTHONPATH": "",
        "MATHDECK_CACHE": str(tmp_path / "user-cache"),
        "npm_config_prefer_offline": "true",
    }
    where = run(
        ["-c", "import builder; print(builder.__file__)"],
        outside,
        command=[str(python)],
        **clean_env,
    )
    assert where.stdout.startswith(str(site)), (
        where.stdout + where.stderr
    )  # not the repository's builder
    assert run(["-c", "import torch"], outside, command=[str(python)], **clean_env).returncode == 1

    mathdeck = [str(env_dir / "bin" / "mathdeck")]
    assert run(["new", "x"], outside, command=mathdeck, **clean_env).returncode == 0
    built = run(["build"], outside / "x", command=mathdeck, **clean_env)
    assert built.returncode == 0, built.stderr
    assert "Installing MathJax 3.2.2" in built.stderr  # first use: into the user's cache, said once
    assert (outside / "x" / "dist" / "x-0.0.0+dev.apkg").is_file()
    [node_root] = (tmp_path / "user-cache").glob("node-*")
    assert (
        json.loads((node_root / "node_modules" / "mathjax-full" / "package.json").read_text())[
            "version"
        ]
        == "3.2.2"
    )
    again = run(["check"], outside / "x", command=mathdeck, **clean_env)
    assert again.returncode == 0 and "Installing" not in again.stderr
