"""What `build` and `release` say when they are done: the summary table, the cards added,
changed and retired since the previous build (by the lock's content hashes), and the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cli_report import Report, out

if TYPE_CHECKING:
    from .build_summary import BuildSummary

SHOWN_IDS = 10  # card ids named per line of a summary; the rest are counted


def print_summary(report: Report, summary: BuildSummary, changes=None) -> None:
    """The build's warnings, its summary table, the cards it changed (none when `changes` is
    None) and the file."""
    report.problems(summary.warnings)
    rows = [(f"{kind} cards", str(count)) for kind, count in sorted(summary.cards_by_kind.items())]
    rows += [
        ("notes", str(summary.notes)),
        ("Anki cards", str(summary.anki_cards)),
        ("subdecks", str(summary.subdecks)),
        ("media files", f"{summary.media_files} ({summary.media_bytes:,} B)"),
        ("figures", f"{summary.figures_drawn} drawn, {summary.figures_cached} cached"),
        ("package size", f"{summary.size:,} B"),
        ("time", f"{summary.seconds:.2f} s"),
    ]
    out.print_table(f"{summary.title} {summary.version}", rows)
    for line in changes_lines(changes) if changes is not None else []:
        report.say(line, markup=False)
    verb = {"written": "Wrote", "replaced": "Replaced", "unchanged": "Unchanged:"}[summary.status]
    report.done(f"{verb} {summary.path}")
    if summary.development:
        base = (
            f"release {summary.released} plus your edits"
            if summary.released
            else "nothing released yet"
        )
        over = "the release or an earlier build" if summary.released else "an earlier build"
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
