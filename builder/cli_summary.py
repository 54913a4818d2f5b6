"""What `build` and `release` say when they are done: the summary table, the cards added,
changed and retired since the previous build (by the lock's content hashes), and the file."""

from __future__ import annotations

from rich.table import Table

from .cli_report import Report, out

SHOWN_IDS = 10  # card ids named per line of a summary; the rest are counted


def print_summary(report: Report, result, changes) -> None:
    report.problems(result.warnings)
    table = Table(
        title=f"{result.deck.config.title} {result.deck.config.version}", show_header=False
    )
    for kind, count in sorted(result.cards_by_kind.items()):
        table.add_row(f"{kind} cards", str(count))
    table.add_row("notes", str(len(result.notes)))
    table.add_row("Anki cards", str(result.anki_cards))
    table.add_row("subdecks", str(len({n.subdeck for n in result.notes})))
    table.add_row(
        "media files", f"{len(result.media)} ({sum(p.stat().st_size for p in result.media):,} B)"
    )
    table.add_row("figures", f"{result.figures_drawn} drawn, {result.figures_cached} cached")
    table.add_row("package size", f"{result.size:,} B")
    table.add_row("time", f"{result.seconds:.2f} s")
    out.print(table)
    for line in changes_lines(changes):
        report.say(line, markup=False)
    verb = {"written": "Wrote", "replaced": "Replaced", "unchanged": "Unchanged:"}[result.status]
    report.done(f"{verb} {result.path}")
    from .commit import DEV_SUFFIX

    if result.path.name.endswith(f"{DEV_SUFFIX}.apkg"):
        base = (
            f"release {result.released} plus your edits"
            if result.released
            else "nothing released yet"
        )
        over = "the release or an earlier build" if result.released else "an earlier build"
        report.say(
            f"  A development build ({base}): import it over {over}, and the edited notes update"
            " in place. `mathdeck release` makes a version.",
            markup=False,
        )


def changes_lines(changes) -> list[str]:
    """ "changed: a, b, c" per kind of change, at most SHOWN_IDS ids each, then "and N more"."""
    lines = []
    for label, ids in (
        ("added", changes.added),
        ("changed", changes.changed),
        ("retired", changes.retired),
        ("removed", changes.removed),
    ):
        if ids:
            more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
            lines.append(f"{label}: {', '.join(ids[:SHOWN_IDS])}{more}")
    return lines


def changes_since(result):
    """The cards whose notes this build added or changed, by the lock's content hashes."""
    from .changes import card_changes, lock_hashes

    retired = {card.id for card in result.deck.cards if card.retired}
    return card_changes(lock_hashes(result.lock_before), lock_hashes(result.lock), retired)
