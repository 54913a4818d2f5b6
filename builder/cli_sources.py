"""The commands that tend a deck's sources rather than build it: lock, figures, coverage, new.

Each is a plain function whose parameters are its options; cli.py registers it. Each makes a
Report, runs its stage inside `report.stopping()` (and `stages()` for a progress bar), prints its
result through the report and ends with `report.finish()`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .cli_options import CARDS_OPTION, FIGURES_OPTION, OUT_OPTION, build_options
from .cli_report import Report, err, out, plural, stages


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
        from .lock_file_repair import repair_lock_file

        repaired = repair_lock_file(build_options(cards, figures, out_dir))
    package = repaired.package
    for reason in repaired.dropped:
        err.print(f"dropped {reason}", markup=False)
    sides = " (both sides of a merge conflict)" if repaired.sides > 1 else ""
    restored = f", {repaired.restored} read back from {package}" if package is not None else ""
    report.done(
        f"Repaired {path}{sides}: {plural(repaired.kept, 'note time')} kept{restored}, "
        f"{plural(len(repaired.dropped), 'entry', 'entries')} dropped. Commit it."
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
    with report.stopping():  # an OS error (a file where a folder should be): one line
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
