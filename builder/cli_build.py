"""The commands around the .apkg: build, release, check, watch, lock, figures, coverage.

Each is a plain function whose parameters are its options; cli.py registers it. Each makes a
Report, runs its stage inside `report.stopping()` (and `stages()` for a progress bar), prints its
result through the report and ends with `report.finish()`.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from .cli_options import (
    ALLOW_NOTE_TYPE_CHANGE,
    CARDS_OPTION,
    FIGURES_OPTION,
    LANG_OPTION,
    OUT_OPTION,
    STRICT_OPTION,
    Language,
    build_options,
)
from .cli_report import Report, err, error_line, out, plural, stages
from .cli_summary import changes_lines, changes_since, lock_before, print_summary


def build(
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace a file under a release's name whose bytes differ (never needed after an"
        " edit: that build goes to <deck>-<version>+dev.apkg).",
    ),
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
    lang: Language = LANG_OPTION,
    strict: bool = STRICT_OPTION,
) -> None:
    """Check the sources, then build dist/<deck>-<version>+dev.apkg (or <deck>-<version>.apkg
    when they are the last release).

    A rebuild updates learners' notes in place: each note carries the time its content last
    changed (kept in cards/mathdeck.lock.json; set SOURCE_DATE_EPOCH for reproducible builds).
    The summary names the cards added, changed and retired since the previous build. With
    --lang en the deck goes to <deck>-<version>-en.apkg.
    """
    from .build import build as run_build
    from .build_summary import summary_of
    from .cli_replay import remember_build

    report = Report()
    started_ns = time.time_ns()
    before = lock_before(cards)
    with report.stopping(), stages() as progress:
        options = build_options(
            cards,
            figures,
            out_dir,
            force=force,
            allow_note_type_change=allow_note_type_change,
            lang=lang.value,
            strict=strict,
        )
        result = run_build(options, progress)
    print_summary(report, summary_of(result), changes_since(before, cards, result))
    if not report.exit_code:
        remember_build(options, result, started_ns)
    report.finish()


def release(
    major: bool = typer.Option(False, "--major", help="Bump MAJOR (x.0.0)."),
    minor: bool = typer.Option(False, "--minor", help="Bump MINOR (0.x.0)."),
    patch: bool = typer.Option(False, "--patch", help="Bump PATCH (0.0.x); the default."),
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
) -> None:
    """Bump the version in deck.yaml, build the release and write its CHANGELOG.md entry.

    The entry lists the cards added, changed and retired since the previous release (remembered
    in cards/mathdeck.lock.json) and is shown in the deck's description in Anki.
    """
    from .build import build as run_build
    from .build_summary import summary_of

    report = Report()
    chosen = [name for name, flag in (("major", major), ("minor", minor), ("patch", patch)) if flag]
    if len(chosen) > 1:
        report.usage_error("choose one of --major, --minor, --patch")
    before = lock_before(cards)
    with report.stopping(), stages() as progress:
        options = build_options(
            cards,
            figures,
            out_dir,
            release=chosen[0] if chosen else "patch",
            allow_note_type_change=allow_note_type_change,
        )
        result = run_build(options, progress)
    print_summary(report, summary_of(result), changes_since(before, cards, result))
    version, changes = result.deck.config.version, result.changes
    if result.resumed_release or changes is None:  # its changes were counted when it began
        report.say(f"Finished the interrupted release {version}; CHANGELOG.md updated.")
    else:
        report.say(
            f"Released {version}: {len(changes.added)} added, {len(changes.changed)} changed, "
            f"{len(changes.retired)} retired; CHANGELOG.md updated."
        )
    report.finish()


def check(
    cards: Path = CARDS_OPTION, figures: Path | None = FIGURES_OPTION, strict: bool = STRICT_OPTION
) -> None:
    """Validate the sources (YAML, keys, ids, figures, raw HTML, every formula through MathJax)
    and lint the cards (MD3xx).

    Runs the checks of `build` and writes no deck (only its caches under .cache/).
    """
    from .build import load_and_check

    report = Report()
    with report.stopping(writes=False), stages() as progress:
        checked = load_and_check(build_options(cards, figures, strict=strict), progress)
    deck, warnings = checked.deck, checked.warnings
    report.problems(warnings)
    report.done(
        f"{plural(len(deck.cards), 'card')} checked, no errors"
        + (f", {plural(len(warnings), 'warning')}." if warnings else ".")
    )
    report.finish()


def watch(
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
) -> None:
    """Rebuild dist/<deck>-<version>+dev.apkg on every save, printing only what changed.

    Ctrl-C stops.
    """
    from .watch import watch as run_watch

    report = Report()
    with report.stopping(writes=False):
        options = build_options(cards, figures, out_dir)
    out.print(f"Watching {cards} and {options.figures_dir} (Ctrl-C to stop)")
    run_watch(options, print_rebuild)


def print_rebuild(rebuild) -> None:
    stamp = time.strftime("%H:%M:%S")
    if rebuild.error is not None:
        problems = getattr(rebuild.error, "problems", None)
        for line in sorted(problems) if problems else [error_line(rebuild.error)]:
            err.print(str(line), markup=False)
        err.print(
            f"[{stamp}] [red]build failed[/] ({rebuild.seconds:.2f} s); waiting for the next save"
        )
        return
    if rebuild.first:  # every card is new to the watcher: count them, do not list them
        summary = f"built {plural(len(rebuild.result.notes), 'card')}"
    else:
        summary = "; ".join(changes_lines(rebuild.changes)) or "no card changed"
    out.print(f"[{stamp}] {summary} → {rebuild.result.path} ({rebuild.seconds:.2f} s)")


def lock(
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Rewrite a conflicted, truncated or damaged lock file from what can be trusted in it,"
        " the last .apkg and the sources.",
    ),
) -> None:
    """Check cards/mathdeck.lock.json, or repair it with --repair.

    The lock keeps the time each card last changed (so Anki updates exactly the edited notes) and
    the last release. --repair merges both sides of a git merge conflict (each card keeps its later
    time, the newer release wins), drops entries it cannot read or trust (wrong types, times
    before 2000 or in the future), and reads the lost times back from the newest
    dist/<deck>-<version>.apkg for every card whose note there matches the sources. A card
    whose time is still missing gets the next build's time, so learners' copies of it update
    once more. Commit the repaired file.
    """
    from .identity import LOCK_FILE, read_lock

    report = Report()
    path = cards / LOCK_FILE
    with report.stopping(writes=repair):
        if not repair:
            read_lock(cards)
            report.done(f"{path} is valid.")
            return
        if not path.exists():
            report.say(f"{path} does not exist: the next build writes it.")
            return
        from .build import repair_lock_file

        repaired = repair_lock_file(build_options(cards, figures, out_dir))
    package = repaired.package
    for reason in repaired.dropped:
        err.print(f"dropped {reason}", markup=False)
    sides = " (both sides of a merge conflict)" if repaired.sides > 1 else ""
    restored = f", {repaired.restored} read back from {package}" if package is not None else ""
    report.done(
        f"Repaired {path}{sides}: {repaired.kept} note times kept{restored}, "
        f"{len(repaired.dropped)} entries dropped. Commit it."
    )
    report.finish()


def figures(cards: Path = CARDS_OPTION, figures: Path | None = FIGURES_OPTION) -> None:
    """Draw every figure (day and night) into the cache, re-running only scripts that changed."""
    from . import figures as figure_stage

    report = Report()
    with report.stopping(writes=False):
        options = build_options(cards, figures)
    results: dict[str, bool] = {}

    def done(plan, cached: bool, progress) -> None:
        results[plan.name] = cached
        progress("Drawing figures", len(results), len(plans))

    with report.stopping(), stages() as progress:
        plans = figure_stage.plan_figures(options.figures_dir)
        progress("Drawing figures", 0, len(plans))
        files = figure_stage.make_figures(
            plans.values(),
            options.cache_dir,
            on_done=lambda plan, cached: done(plan, cached, progress),
        )
    if not files:  # no empty table
        report.say(f"No figure scripts in {options.figures_dir.resolve()}.", markup=False)
        return
    table = Table("figure", "status", "day", "night", title="Figures")
    for name, (light, dark) in sorted(files.items()):
        table.add_row(
            name,
            "cached" if results.get(name) else "drawn",
            f"{light.stat().st_size:,} B",
            f"{dark.stat().st_size:,} B",
        )
    out.print(table)
    report.finish()


def coverage(
    cards: Path = CARDS_OPTION,
    show_all: bool = typer.Option(
        False, "--all", help="List every seed item, not only the uncovered ones."
    ),
) -> None:
    """List the seed's items (cards/seed/*.yaml) against the cards that cover them.

    Exits 1 if one is uncovered.
    """
    from .coverage import coverage as seed_coverage
    from .coverage import load_seed_items
    from .load import load_deck
    from .problems import SourceError

    report = Report()
    with report.stopping(writes=False):
        deck = load_deck(cards)
        result, problems = seed_coverage(deck, load_seed_items(cards))
        rows = [item for item in result.items if show_all or not result.covering[item.id]]
        if rows:  # no table at all when there is nothing to list
            table = Table("seed item", "text", "cards", title="Seed coverage")
            for item in rows:
                table.add_row(
                    item.id, item.text, ", ".join(result.covering[item.id]) or "[red]none[/]"
                )
            out.print(table)
        covered = len(result.items) - len(result.uncovered)
        report.say(
            f"{covered}/{len(result.items)} seed items covered by {plural(len(deck.cards), 'card')}"
        )
        if problems:
            raise SourceError(problems)
    report.finish()


def new(
    folder: Path = typer.Argument(
        ...,
        metavar="DIR",
        help="The new deck's folder (absent or empty); its name gives the deck's title and file"
        " names.",
    ),
    title: str | None = typer.Option(
        None,
        "--title",
        metavar="<text>",
        help="The deck's name in Anki (default: from the folder's name).",
    ),
) -> None:
    """Start a deck: deck.yaml with ids of its own, one example card of each kind, a figure
    script and a README. `mathdeck build` in the folder works at once."""
    from .scaffold import ScaffoldError, new_deck

    report = Report()
    try:
        made = new_deck(folder, title)
    except ScaffoldError as error:
        report.usage_error(str(error))
    report.done(f"Created the deck '{made.title}' in {folder}: {', '.join(map(str, made.files))}")
    report.say(
        f"  Next: cd {folder} && mathdeck build   (then import dist/{made.slug}-0.0.0+dev.apkg"
        " into Anki)",
        markup=False,
    )
    report.finish()
