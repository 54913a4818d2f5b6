"""bench: how long `mathdeck build` takes, as a whole process, on decks of every size.

`mathdeck bench` writes synthetic projects (formula, qa and code cards with several formulas
each, 200 cards per file) into a temporary folder, runs `python -m builder.cli build` in them as
separate processes (SOURCE_DATE_EPOCH set, `--force` for edits under the same version) and prints
one row per case: median, min and max seconds over the runs, the target, and the ratio to
genanki's bare `Package.write_to_file` of the same notes (timed in this process).

Cases (targets from issue 8, for this 2-core machine):
- flagship, figures cached, one card edited            ≤ 1.5 s
- N synthetic cards, cold (no .cache, no lock)         ≤ 30 s at 20,000
- N synthetic cards, one card edited                   ≤ 3 × genanki's bare write
- MathJax check of 20,000 distinct formulas            ≤ 10 s
- flagship figures, all cold                           ≤ 30 s
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
CARDS_PER_FILE = 200
EPOCH = 1764000000
DECK_YAML = """\
title: Synthetic Bench Deck
slug: bench
deck_id: 1764090000001
version: 1.0.0
description: |
  A synthetic deck of {count:,} cards for `mathdeck bench`.
macros:
  E: '\\mathbb{{E}}'
  KL: 'D_{{\\mathrm{{KL}}}}(#1 \\,\\|\\, #2)'
note_types:
  formula: 1764090000101
  qa: 1764090000102
  code: 1764090000103
  cloze: 1764090000104
paths:  # the flagship's layout: figures/, dist/ and .cache/ beside cards/
  figures: ../figures
  dist: ../dist
  cache: ../.cache
"""


# ---------------------------------------------------------------- synthetic decks


# Like real notes, each card has a few formulas of its own (a display formula, a value) among
# common notation that recurs across the deck ($p(x)$, $\sigma^2$, ...): 5.4 formulas per card,
# about 2.2 of them found on no other card.


def _formula_card(i: int) -> str:
    k = i % 20
    return f"""\
  - id: syn-{i:05d}-formula
    kind: formula
    concept: Expectation of $X_{{{k}}}$ under $\\mathcal{{N}}(\\mu, \\sigma^2)$ (case {i})
    formula: |
      $$\\E[X_{{{i}}}] = \\int x\\,\\mathcal{{N}}(x \\mid \\mu_{{{i}}}, \\sigma^2)\\,\\mathrm{{d}}x$$
    explanation: |
      Linearity gives $\\E[a X + b] = a\\,\\E[X] + b$, and the variance is $\\sigma^2 + {i}$;
      see **card {i}** and `np.mean(x[{i}])`.
    reverse: {"true" if i % 2 else "false"}
    level: L{1 + i % 3}
    tags: [synthetic, t{i % 17}]
"""


def _qa_card(i: int) -> str:
    k = i % 20
    return f"""\
  - id: syn-{i:05d}-qa
    kind: qa
    zh: 相对熵 {i}
    question: 'Why is $\\KL{{p}}{{q_{{{k}}}}} \\ge 0$ in case {i}?'
    answer: |
      By Jensen's inequality on the convex $-\\log$:

      $$\\begin{{aligned}} \\KL{{p}}{{q}} &= \\sum_x p(x)\\log\\frac{{p(x)}}{{q_{{{i}}}(x)}} \\\\ &\\ge -\\log \\sum_x q_{{{i}}}(x) = 0 \\end{{aligned}}$$

      - Equality iff $p = q$ almost everywhere.
      - Not symmetric: $\\KL{{p}}{{q}} \\ne \\KL{{q}}{{p}}$ in general (case {i}).
    followup_question: 'What is $\\KL{{\\mathcal{{N}}(\\mu, 1)}}{{\\mathcal{{N}}(0, 1)}}$ for $\\mu = {i}$?'
    followup_answer: |
      $\\frac{{1}}{{2}}\\mu^2 = {i * i / 2:g}$: half the squared distance between the means.
    level: L2
    tags: [synthetic, info, q{i % 23}]
"""


def _code_card(i: int) -> str:
    return f"""\
  - id: syn-{i:05d}-code
    kind: code
    task: Write a numerically stable log-sum-exp over `dim={i % 4}` (case {i}).
    code: |
      import torch


      def logsumexp_{i}(x: torch.Tensor, dim: int = {i % 4}) -> torch.Tensor:
          m = x.amax(dim=dim, keepdim=True)
          return (m + (x - m).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim)
    explanation: |
      $\\log\\sum_j e^{{x_j}} = m + \\log\\sum_j e^{{x_j - m}}$ with $m = \\max_j x_j$, so no
      exponent exceeds $0$ (case {i}, $x \\in \\mathbb{{R}}^{{{i}}}$).
    level: L1
    tags: [synthetic, pytorch]
"""


CARD_MAKERS = (_formula_card, _qa_card, _formula_card, _qa_card, _code_card)


def write_synthetic_project(root: Path, count: int, per_file: int = CARDS_PER_FILE) -> Path:
    """A project with `count` cards in files of `per_file`; returns its cards folder."""
    cards = root / "cards"
    cards.mkdir(parents=True)
    (root / "figures").mkdir()
    (cards / "deck.yaml").write_text(DECK_YAML.format(count=count), encoding="utf-8")
    for start in range(0, count, per_file):
        body = "".join(CARD_MAKERS[i % len(CARD_MAKERS)](i) for i in range(start, min(count, start + per_file)))
        text = f'subdeck: "Synthetic {start // per_file:03d}"\ntags: [bench]\ncards:\n{body}'
        (cards / f"synthetic-{start // per_file:03d}.yaml").write_text(text, encoding="utf-8")
    return cards


def edit_one_card(cards: Path, serial: int) -> None:
    """Change one card's text and one of its formulas, as an author does between two builds."""
    files = sorted(p for p in cards.glob("*.yaml") if p.name != "deck.yaml")
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    edited, count = re.subn(r"(\n    explanation: \|\n      )", rf"\1Edit {serial}: $e^{{{serial}}} > 0$. ", text, count=1)
    if not count:
        raise RuntimeError(f"no explanation to edit in {path}")
    path.write_text(edited, encoding="utf-8")


def distinct_formulas(count: int) -> list[tuple[str, bool]]:
    """`count` different formulas in the shapes cards use (fractions, sums, matrices, aligned)."""
    shapes = [
        r"\frac{{x_{{{i}}}}}{{\sqrt{{{i} + y}}}} + \sum_{{k=1}}^{{{i}}} a_k",
        r"\mathbb{{E}}[X_{{{i}}}] = \int_0^{{{i}}} x\,p(x)\,\mathrm{{d}}x",
        r"\begin{{aligned}} f_{{{i}}}(x) &= \lVert W x - b \rVert_2^2 \\ &\coloneqq \operatorname{{Var}}(x) + {i} \end{{aligned}}",
        r"\begin{{pmatrix}} {i} & \boldsymbol\mu \\ \mathcal{{N}}(0, \sigma^2) & \tfrac{{1}}{{{i}}} \end{{pmatrix}}",
        r"\underbrace{{a_1 + \dots + a_{{{i}}}}}_{{n}} \leq \log \frac{{p(x)}}{{q_{{{i}}}(x)}}",
    ]
    return [(shapes[i % len(shapes)].format(i=i), i % 2 == 0) for i in range(count)]


# ---------------------------------------------------------------- running the cases


@dataclass
class Row:
    case: str
    seconds: list[float]
    target: str = ""  # e.g. "≤ 1.5 s", "≤ 3 × genanki"
    limit: float | None = None  # seconds, when the target is absolute
    genanki: float | None = None  # genanki's bare write of the same notes, median seconds
    ratio_limit: float | None = None  # a target as a multiple of `genanki`
    note: str = ""
    cards: int | None = None  # deck size, for the cold synthetic rows

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def ratio(self) -> float | None:
        return self.median / self.genanki if self.genanki else None

    @property
    def within_target(self) -> bool | None:
        if self.limit is not None:
            return self.median <= self.limit
        if self.ratio_limit is not None and self.ratio is not None:
            return self.ratio <= self.ratio_limit
        return None


@dataclass
class BenchOptions:
    sizes: tuple[int, ...] = (200, 2_000, 20_000)
    runs: int = 3
    formulas: int = 20_000  # for the MathJax case; 0 skips it
    flagship: bool = True
    figures: bool = True
    work_dir: Path | None = None  # kept afterwards when given; a temporary folder otherwise


Report = Callable[[str], None]


def run_bench(options: BenchOptions, report: Report = lambda line: None) -> list[Row]:
    """Every case, `options.runs` times each, as whole `python -m builder.cli` processes."""
    work = Path(tempfile.mkdtemp(prefix="mathdeck-bench-", dir=options.work_dir)) if options.work_dir else None
    with tempfile.TemporaryDirectory(prefix="mathdeck-bench-") as scratch:
        root = work or Path(scratch)
        rows: list[Row] = []
        if options.flagship:
            rows += _flagship_rows(root / "flagship", options, report)
        for count in options.sizes:
            rows += _synthetic_rows(root / f"synthetic-{count}", count, options, report)
        if options.formulas:
            rows.append(_mathjax_row(options, report))
        if options.figures:
            rows.append(_figures_row(root / "figures-cold", options, report))
        return rows


def _flagship_rows(project: Path, options: BenchOptions, report: Report) -> list[Row]:
    report("flagship: copying the sources and drawing (or copying) its figures once")
    shutil.copytree(REPO / "cards", project / "cards", ignore=shutil.ignore_patterns("mathdeck.lock.json"))
    shutil.copytree(REPO / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__"))
    if (REPO / "cards" / "mathdeck.lock.json").exists():  # released cards must stay: keep the lock
        shutil.copy2(REPO / "cards" / "mathdeck.lock.json", project / "cards" / "mathdeck.lock.json")
    if (REPO / ".cache" / "figures").is_dir():
        shutil.copytree(REPO / ".cache" / "figures", project / ".cache" / "figures")
    _build(project, EPOCH, force=True)  # warm: figures drawn if missing, caches filled
    seconds = []
    for run in range(options.runs):
        edit_one_card(project / "cards", run)
        seconds.append(_build(project, EPOCH + 1 + run, force=True))
        report(f"flagship, one card edited: {seconds[-1]:.2f} s")
    cards = _card_count(project / "cards")
    genanki = _genanki_seconds(project, options.runs)
    return [Row(f"flagship ({cards} cards), figures cached, 1 card edited", seconds, "≤ 1.5 s", 1.5, genanki)]


def _synthetic_rows(project: Path, count: int, options: BenchOptions, report: Report) -> list[Row]:
    report(f"{count:,} cards: writing the sources")
    cards = write_synthetic_project(project, count)
    cold = []
    for run in range(options.runs):
        shutil.rmtree(project / ".cache", ignore_errors=True)
        shutil.rmtree(project / "dist", ignore_errors=True)
        (cards / "mathdeck.lock.json").unlink(missing_ok=True)
        cold.append(_build(project, EPOCH, force=True))
        report(f"{count:,} cards, cold: {cold[-1]:.2f} s")
    edited = []
    for run in range(options.runs):
        edit_one_card(cards, run)
        edited.append(_build(project, EPOCH + 1 + run, force=True))
        report(f"{count:,} cards, one card edited: {edited[-1]:.2f} s")
    genanki = _genanki_seconds(project, options.runs)
    big = count >= 20_000
    return [
        Row(f"{count:,} cards, cold (no caches), no figures", cold, "≤ 30 s" if big else "linear", 30.0 if big else None, genanki, cards=count),
        Row(f"{count:,} cards, 1 card edited", edited, "≤ 3 × genanki" if big else "", None, genanki, ratio_limit=3.0 if big else None),
    ]


def _mathjax_row(options: BenchOptions, report: Report) -> Row:
    from .mathjax import check_tex

    items = distinct_formulas(options.formulas)
    seconds = []
    for _ in range(options.runs):
        started = time.perf_counter()
        verdicts = check_tex(items)  # one node process for the batch, no cache
        seconds.append(time.perf_counter() - started)
        report(f"MathJax, {options.formulas:,} formulas: {seconds[-1]:.2f} s")
    if any(verdicts):
        raise RuntimeError("the benchmark's formulas should all be valid TeX")
    big = options.formulas >= 20_000
    return Row(f"MathJax check of {options.formulas:,} distinct formulas (1 node process)", seconds,
               "≤ 10 s" if big else "", 10.0 if big else None)


def _figures_row(project: Path, options: BenchOptions, report: Report) -> Row:
    shutil.copytree(REPO / "cards", project / "cards")
    shutil.copytree(REPO / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__"))
    seconds = []
    for _ in range(options.runs):
        shutil.rmtree(project / ".cache", ignore_errors=True)
        seconds.append(_run_cli(project, ["figures"], EPOCH))
        report(f"figures, cold: {seconds[-1]:.2f} s")
    count = len([p for p in (project / "figures").glob("*.py") if not p.name.startswith("_")])
    return Row(f"all {count} figures cold, {os.cpu_count()} cores", seconds, "≤ 30 s", 30.0)


def _build(project: Path, epoch: int, force: bool) -> float:
    return _run_cli(project, ["build", *(["--force"] if force else [])], epoch)


def _run_cli(project: Path, args: list[str], epoch: int) -> float:
    """Seconds for one whole `python -m builder.cli ...` process in `project`."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PYTHONPATH": _python_path()}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "builder.cli", *args], cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"mathdeck {' '.join(args)} failed in {project}:\n{result.stdout}\n{result.stderr}")
    return seconds


def _python_path() -> str:
    # the builder package being measured, whatever the current directory
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))


def _card_count(cards: Path) -> int:
    from .load import load_deck

    return len(load_deck(cards).cards)


def _genanki_seconds(project: Path, runs: int) -> float:
    """Median seconds of genanki's bare Package.write_to_file for the notes this project builds:
    the same fields, tags, GUIDs, note types and subdecks, the notes made beforehand."""
    import genanki

    from .build import BuildCaches, BuildOptions, render_and_draw, load_and_check
    from .identity import guid_for_card
    from .package import note_models, subdeck_id, subdeck_name
    from .render import note_type_templates

    options = BuildOptions(cards_dir=project / "cards", out_dir=project / "dist", figures_dir=project / "figures",
                           cache_dir=project / ".cache" / "figures")
    deck, plans, _ = load_and_check(options)
    notes, media, _ = render_and_draw(deck, plans, options, lambda stage: None, {})
    models = note_models(deck, note_type_templates())
    decks: dict[str, genanki.Deck] = {"": genanki.Deck(deck.config.deck_id, deck.config.title)}
    for note in notes:
        if note.subdeck not in decks:
            decks[note.subdeck] = genanki.Deck(subdeck_id(deck, note.subdeck), subdeck_name(deck, note.subdeck))
        decks[note.subdeck].add_note(genanki.Note(model=models[note.card.kind], fields=list(note.fields),
                                                  tags=list(note.tags), guid=guid_for_card(note.card)))
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(max(runs, 3)):
            for genanki_deck in decks.values():
                for genanki_note in genanki_deck.notes:
                    genanki_note.__dict__.pop("cards", None)  # genanki caches a note's cards
            package = genanki.Package(list(decks.values()), media_files=[str(p) for p in media])
            started = time.perf_counter()
            package.write_to_file(str(Path(scratch) / f"bare-{run}.apkg"), timestamp=EPOCH)
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


# ---------------------------------------------------------------- the table


def linearity(rows: list[Row]) -> str:
    """Seconds per 1,000 more cards between the cold synthetic sizes: constant if time is linear."""
    cold = sorted((row.cards, row.median) for row in rows if row.cards)
    steps = [
        f"{small:,} → {large:,}: {(t_large - t_small) / (large - small) * 1000:.2f} s"
        for (small, t_small), (large, t_large) in zip(cold, cold[1:])
    ]
    return "cold build, marginal time per 1,000 cards: " + ("; ".join(steps) if steps else "(needs two sizes)")


def format_table(rows: list[Row]) -> str:
    header = ("case", "runs", "median", "min", "max", "genanki", "ratio", "target", "")
    lines = [header]
    for row in rows:
        verdict = {True: "ok", False: "MISSED", None: ""}[row.within_target]
        lines.append((
            row.case, str(len(row.seconds)), f"{row.median:.2f} s", f"{min(row.seconds):.2f} s", f"{max(row.seconds):.2f} s",
            f"{row.genanki:.2f} s" if row.genanki else "", f"{row.ratio:.1f}×" if row.ratio else "", row.target,
            verdict + (f" ({row.note})" if row.note else ""),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(text)
