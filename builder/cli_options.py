"""The command line's shared options, written once, and how every command's help is shown.

Each option a user meets in several commands (`--cards`, `--out`, `--figures`, `--lang`) is one
constant here, so its name, metavar and help read the same everywhere.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup


class Language(StrEnum):
    en = "en"
    en_zh = "en+zh"


def _default_deck_dir() -> Path:
    from .project import default_deck_dir

    return default_deck_dir()


CARDS_OPTION = typer.Option(
    _default_deck_dir,
    "--cards",
    metavar="<dir>",
    file_okay=False,
    show_default="cards/, or . when it holds deck.yaml",
    help="The deck folder: deck.yaml and the card files.",
)
OUT_OPTION = typer.Option(
    None,
    "--out",
    metavar="<dir>",
    file_okay=False,
    help="Where the .apkg goes (default: the deck's dist/, see `paths:` in deck.yaml).",
)
EXPORT_OUT_OPTION = typer.Option(
    None,
    "--out",
    metavar="<dir>",
    file_okay=False,
    help="Folder to write into (default: the deck's dist/).",
)
FIGURES_OPTION = typer.Option(
    None,
    "--figures",
    metavar="<dir>",
    file_okay=False,
    help="Folder of figure scripts (default: the deck's figures/, see `paths:` in deck.yaml).",
)
ALLOW_NOTE_TYPE_CHANGE = typer.Option(
    False,
    "--allow-note-type-change",
    help="Accept a change of note-type fields or templates since the last release (forces"
    " learners to a full AnkiWeb sync).",
)
STRICT_OPTION = typer.Option(
    False,
    "--strict",
    help="Treat warnings (the card linter's MD3xx too) as errors: exit 1, write nothing.",
)
LANG_OPTION = typer.Option(
    Language.en_zh,
    "--lang",
    metavar="<en|en+zh>",
    help="en: English only (the Chinese terms, the Zh field, left empty); en+zh: with the"
    " established Chinese terms.",
)


def build_options(cards: Path, figures: Path | None = None, out_dir: Path | None = None, **more):
    """A command's BuildOptions: the deck's files where its deck.yaml (`paths:`) puts them,
    unless given."""
    from .build import BuildOptions

    return BuildOptions.for_deck(cards, out_dir, figures, **more)


# ---------------------------------------------------------------- how help reads


def prose(doc: str | None) -> str | None:
    """A docstring as help: its paragraphs re-flowed, so the terminal wraps them where it must
    (Typer's Rich help keeps a docstring's hard line breaks, breaking sentences mid-line)."""
    if doc is None:
        return None
    paragraphs = re.split(r"\n\s*\n", doc.strip())
    return "\n\n".join(
        " ".join(line.strip() for line in paragraph.splitlines()) for paragraph in paragraphs
    )


def _no_value_hint_for_flags(params: list) -> list:
    """Typer shows `<bool>` beside a flag (`--force <bool>`) as if it took a value, and `<str>`
    beside an argument already named by its metavar (`SOURCE <str>`): show nothing."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif isinstance(param, TyperArgument) and param.metavar is not None:
            param.display_type_rich = _no_hint  # type: ignore[method-assign]
    return params


def _no_hint(ctx) -> None:
    return None


class MathdeckCommand(TyperCommand):
    def get_params(self, ctx):
        return _no_value_hint_for_flags(super().get_params(ctx))

    def format_help(self, ctx, formatter):
        _help_shown()
        return super().format_help(ctx, formatter)


class MathdeckGroup(TyperGroup):
    def get_params(self, ctx):
        return _no_value_hint_for_flags(super().get_params(ctx))

    def format_help(self, ctx, formatter):
        _help_shown()
        return super().format_help(ctx, formatter)


def _help_shown() -> None:
    """What Typer prints now is a help page: cli_replay may keep it for the same command line."""
    from . import cli_replay

    cli_replay.help_shown = True


CONTEXT = {"help_option_names": ["-h", "--help"]}
