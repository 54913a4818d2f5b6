"""Security: no card can carry script, tracking or a broken note.

The vectors (tests/fixtures/hostile/vectors.yaml) come from a hostile-input run. Every TeX vector
sits in every Markdown field of every card kind (zh included); every HTML vector in one field.
Each is held to two walls:

1. `mathdeck check` (and `build`, `export html`, `export csv`, which run it first) refuses it
   with the exact `file:line: message`, exit 1 and nothing written;
2. what would get through if the check were skipped: the notes (packaged and imported with the
   official `anki` library), the CSV export, the preview's cards and the HTML export carry no
   payload (the nh3 sanitiser for fields; MathJax's `safe` extension for the exported SVG).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from anki_collection import fresh_collection, import_package, notes_by_card_id
from builds import REPO

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
VECTORS = yaml.safe_load((HOSTILE / "vectors.yaml").read_text(encoding="utf-8"))
TEX_VECTORS = VECTORS["tex"]
HTML_VECTORS = VECTORS["html"]
CONTROL_VECTORS = VECTORS["control"]

# Every Markdown source key of each kind, zh included: where a formula can hide.
FIELDS_BY_KIND = {
    "formula": ("concept", "formula", "explanation", "zh"),
    "qa": ("question", "answer", "followup_question", "followup_answer", "zh"),
    "code": ("task", "explanation", "zh"),
    "cloze": ("text", "extra", "zh"),
    "basic": ("front", "back", "zh"),
}


# ---------------------------------------------------------------- writing hostile card files


@dataclass(frozen=True)
class Expected:
    line: str  # the exact problem line
    card_id: str
    payload: str | None


class CardFile:
    """A card file written line by line, remembering the line of every field."""

    def __init__(self, name: str):
        self.name = name
        self.lines = ["subdeck: Hostile", "cards:"]

    def card(
        self, card_id: str, kind: str, fields: dict[str, str], raw: dict[str, str] | None = None
    ) -> dict[str, int]:
        """Block scalars for `fields`, YAML as written for `raw`; returns each key's line."""
        self.lines += [f"  - id: {card_id}", f"    kind: {kind}"]
        where = {}
        for key, text in fields.items():
            where[key] = len(self.lines) + 1
            self.lines += [f"    {key}: |-", *(f"      {line}" for line in text.splitlines())]
        for key, value in (raw or {}).items():
            where[key] = len(self.lines) + 1
            self.lines.append(f"    {key}: {value}")
        return where

    def write(self, cards_dir: Path) -> None:
        (cards_dir / self.name).write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def tex_card_fields(kind: str, tex: str) -> dict[str, str]:
    """The vector as inline math in every field of the kind (a cloze needs one deletion)."""
    math = f"${tex}$"
    fields = {key: math for key in FIELDS_BY_KIND[kind]}
    if kind == "cloze":
        fields["text"] = "{{c1::a}} " + math
    return fields


def write_tex_cards(
    cards_dir: Path, vectors=TEX_VECTORS, kinds=tuple(FIELDS_BY_KIND)
) -> list[Expected]:
    card_file, expected = CardFile("tex.yaml"), []
    for kind in kinds:
        for vector in vectors:
            card_id = f"{kind}-{vector['name']}"
            raw = {"code": "x = 1"} if kind == "code" else {}
            fields = tex_card_fields(kind, vector["tex"])
            for key, line in card_file.card(card_id, kind, fields, raw).items():
                if key in FIELDS_BY_KIND[kind]:
                    message = (
                        f"card '{card_id}', field '{key}': {vector['message']} in ${vector['tex']}$"
                    )
                    where = tex_position(line, fields[key], vector["tex"], vector["message"])
                    expected.append(
                        Expected(
                            f"cards/tex.yaml:{where}: {tex_code(vector['message'])} {message}",
                            card_id,
                            vector["payload"],
                        )
                    )
    card_file.write(cards_dir)
    return expected


def tex_position(key_line: int, text: str, tex: str, message: str) -> str:
    """Where a TeX problem is reported: in the block scalar's one line (after the key's line,
    indented 6), at the first macro the message names that the formula holds, else at the
    formula's start."""
    start = text.index(tex)
    named = [word for word in re.findall(r"\\[A-Za-z]+", message) if word in tex]
    column = text.index(named[0], start) if named else start
    return f"{key_line + 1}:{column + 7}"


def tex_code(message: str) -> str:
    return "MD141" if message.startswith("unsafe TeX: ") else "MD140"


def write_html_cards(cards_dir: Path) -> list[Expected]:
    card_file, expected = CardFile("html.yaml"), []
    for vector in HTML_VECTORS:
        card_id = f"html-{vector['name']}"
        fields = {
            "question": "Q?",
            "answer": "A",
            "followup_question": "F?",
            "followup_answer": "B",
        }
        fields[vector["key"]] = vector["source"]
        line = card_file.card(card_id, "qa", fields)[vector["key"]]
        where, code = str(line), ""
        tex_problem = re.fullmatch(r", field '\w+': (.*) in \$(.*)\$", vector["message"])
        if (
            tex_problem
        ):  # TeX written without a dollar sign: reported where the TeX is, as any formula
            where, code = (
                tex_position(line, vector["source"], tex_problem[2], tex_problem[1]),
                f" {tex_code(tex_problem[1])}",
            )
        expected.append(
            Expected(
                f"cards/html.yaml:{where}:{code} card '{card_id}'{vector['message']}",
                card_id,
                vector["payload"],
            )
        )
    card_file.write(cards_dir)
    return expected


def write_control_cards(cards_dir: Path) -> list[Expected]:
    card_file, expected = CardFile("control.yaml"), []
    for vector in CONTROL_VECTORS:
        fields = {"question": "Q?", "answer": "A"}
        fields.pop(vector["key"], None)
        line = card_file.card(
            f"control-{vector['name']}", "qa", fields, {vector["key"]: vector["yaml"]}
        )[vector["key"]]
        column = len(f"    {vector['key']}: ") + 1  # written as `    key: value`
        expected.append(
            Expected(f"cards/control.yaml:{line}:{column}: MD115 {vector['message']}", "", None)
        )
    # A code file is text too: Anki stores it in the Code field.
    (cards_dir / "snippets").mkdir(exist_ok=True)
    (cards_dir / "snippets" / "separator.py").write_text("x = 1  # \x1f\n", encoding="utf-8")
    line = card_file.card(
        "control-code-file", "code", {"task": "T"}, {"code_file": "snippets/separator.py"}
    )["code_file"]
    expected.append(
        Expected(
            f"cards/control.yaml:{line}:{len('    code_file: ') + 1}: MD116 card "
            "'control-code-file': code_file 'snippets/separator.py' contains U+001F (Anki's "
            "field separator) at character 10, which an Anki note cannot hold: remove it",
            "",
            None,
        )
    )
    card_file.write(cards_dir)
    return expected


def new_project(root: Path, deck_extra: str = "") -> Path:
    cards = root / "cards"
    cards.mkdir(parents=True)
    (root / "figures").mkdir()
    (cards / "deck.yaml").write_text(
        (HOSTILE / "cards" / "deck.yaml").read_text(encoding="utf-8") + deck_extra, encoding="utf-8"
    )
    return root


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )


def assert_refused(result: subprocess.CompletedProcess, expected: list[Expected]) -> None:
    """Exit 1, every problem at once as `file:line: message`, sorted, no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    wanted = [item.line for item in expected]
    assert sorted(lines[:-1]) == sorted(wanted)
    # `check` never writes, so it never says that it wrote nothing
    ending = "." if result.args[3] == "check" else "; nothing was written."
    assert lines[-1] == f"{len(wanted)} problem{'s' if len(wanted) != 1 else ''}{ending}"
    assert lines[:-1] == sorted(lines[:-1], key=_problem_order)


def _problem_order(line: str):
    file, number, rest = line.split(":", 2)
    column, message = rest.split(":", 1) if rest.split(":", 1)[0].isdigit() else ("0", rest)
    return file, int(number), int(column), message


# ---------------------------------------------------------------- wall 1: the check


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, list[Expected]]:
    """A project with every TeX vector in every field kind and every HTML vector."""
    project = new_project(tmp_path_factory.mktemp("hostile"))
    expected = write_tex_cards(project / "cards") + write_html_cards(project / "cards")
    return project, expected


def test_every_vector_is_in_every_field_kind(hostile):
    _, expected = hostile
    tex_problems = [item for item in expected if item.line.startswith("cards/tex.yaml")]
    assert len(tex_problems) == len(TEX_VECTORS) * sum(map(len, FIELDS_BY_KIND.values()))
    assert {
        "href-javascript",
        "mmltoken-href",
        "style-overlay",
        "bbox-css",
        "class-cloze",
        "cssid-answer",
        "unicode-font",
        "require-html",
        "let-alias",
        "url",
        "data",
    } <= {v["name"] for v in TEX_VECTORS}


@pytest.mark.parametrize(
    "command", [["check"], ["build"], ["export", "html"], ["export", "csv"]], ids=" ".join
)
def test_check_refuses_every_vector_with_its_exact_message(hostile, command, tmp_path):
    source, expected = hostile
    project = tmp_path / "project"
    shutil.copytree(source, project)

    assert_refused(run_cli(project, *command), expected)
    assert not (project / "dist").exists() or not any((project / "dist").iterdir())
    assert not (project / "cards" / "mathdeck.lock.json").exists()


def test_characters_anki_cannot_store_are_source_errors_at_load(tmp_path):
    project = new_project(tmp_path / "project")
    expected = write_control_cards(project / "cards")

    assert_refused(run_cli(project, "build"), expected)
    assert not (project / "dist").exists()


def test_the_safety_wall_knows_every_dangerous_macro_anki_loads():
    """The table is enumerated from the macro handlers MathJax builds for Anki's packages: when a
    MathJax upgrade adds or moves such a macro, this test says so."""
    script = (
        "import { loadMathJax } from './builder/mathjax/modules.mjs';"
        "import { dangerousMacros } from './builder/mathjax/safety.mjs';"
        "const mj = loadMathJax(); mj.RegisterHTMLHandler(mj.liteAdaptor());"
        "const tex = new mj.TeX({ packages: mj.AllPackages.filter((n) => n !== 'textmacros') });"
        "mj.mathjax.document('', { InputJax: tex, OutputJax: new mj.CHTML() });"
        "console.log(JSON.stringify([...dangerousMacros(tex).keys()].sort()));"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == [
        "bbox",
        "class",
        "cssId",
        "href",
        "mmlToken",
        "require",
        "style",
        "unicode",
    ]


# ---------------------------------------------------------------- wall 2: if the check were skipped


def unchecked_notes(project: Path):
    """load → render, skipping the check: what a note would carry without wall 1."""
    from builder.load import load_deck
    from builder.render import render_deck

    deck = load_deck(project / "cards")
    return deck, render_deck(deck, {})


@pytest.fixture(scope="module")
def html_deck(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("html"))
    expected = write_html_cards(project / "cards")
    deck, notes = unchecked_notes(project)
    return project, deck, notes, {item.card_id: item.payload for item in expected if item.payload}


def test_no_html_payload_reaches_a_note_imported_by_anki(html_deck, tmp_path):
    from builder.identity import stamp_notes
    from builder.package import package_bytes
    from builder.render import note_type_templates, render_description

    _, deck, notes, payloads = html_deck
    apkg = tmp_path / "hostile.apkg"
    apkg.write_bytes(
        package_bytes(
            deck,
            notes,
            stamp_notes(notes, _no_lock(), 1764000000),
            [],
            render_description(deck),
            note_type_templates(),
        )
    )
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, apkg)
        imported = notes_by_card_id(col)
        assert set(payloads) <= set(imported)
        for card_id, payload in payloads.items():
            fields = "\x1f".join(imported[card_id].fields)
            assert payload not in fields, card_id
    finally:
        col.close()


def test_the_zh_field_is_sanitised_like_every_other(html_deck):
    _, _, notes, _ = html_deck
    zh = {note.card.id: note_field(note, "Zh") for note in notes}
    assert zh["html-zh-img-onerror"] == '<img src="x">'
    assert zh["html-zh-script"] == "术语"
    assert zh["html-zh-javascript-link"] == "<a>术语</a>"


def test_a_comment_only_field_is_empty_in_the_note(html_deck):
    _, _, notes, _ = html_deck
    note = next(note for note in notes if note.card.id == "html-comment-only")
    assert note_field(note, "FollowupAnswer") == ""


def test_no_html_payload_reaches_the_csv_export_or_the_preview(html_deck):
    from builder.identity import stamp_notes
    from builder.notes_csv import notes_csv
    from builder.package import package_bytes
    from builder.preview import _cards_as_anki_renders_them
    from builder.render import note_type_templates, render_description

    _, deck, notes, payloads = html_deck
    rows = {
        line.split("\t")[3]: line
        for line in notes_csv(deck, notes).splitlines()
        if not line.startswith("#")
    }
    assert len(rows) == len(notes)
    cards, _ = _cards_as_anki_renders_them(
        package_bytes(
            deck,
            notes,
            stamp_notes(notes, _no_lock(), 1764000000),
            [],
            render_description(deck),
            note_type_templates(),
        )
    )
    for payload in payloads.values():
        assert not any(payload in row for row in rows.values()), payload
        assert not any(payload in card.front + card.back for card in cards), payload


def test_no_html_payload_reaches_the_html_export(html_deck):
    from builder.sheet import build_sheet
    from builder.sheet_html import sheet_html

    _, deck, notes, payloads = html_deck
    page = sheet_html(build_sheet(deck, notes, []), "", [])
    for payload in payloads.values():
        assert payload not in page, payload


def note_field(note, name: str) -> str:
    from builder.model import KINDS

    return dict(zip(KINDS[note.card.kind].note_fields, note.fields, strict=True))[name]


def _no_lock():
    from builder.identity import Lock

    return Lock()


# The vectors MathJax can typeset (the others are parse errors there too).
EXPORTABLE = [
    v for v in TEX_VECTORS if v["message"].startswith("unsafe TeX") and v["name"] != "require-html"
]


@pytest.mark.parametrize("tex_links", ["none", "https"])
def test_mathjax_safe_extension_strips_every_tex_payload_from_the_html_export(tmp_path, tex_links):
    from builder.sheet import build_sheet
    from builder.sheet_html import sheet_html

    project = new_project(tmp_path / "project")
    write_tex_cards(project / "cards", EXPORTABLE, kinds=("formula",))
    deck, notes = unchecked_notes(project)
    page = sheet_html(build_sheet(deck, notes, []), "", [], tex_links)

    svg = "".join(re.findall(r"<mjx-container.*?</mjx-container>", page, flags=re.S))
    svg = re.sub(r' aria-label="[^"]*"', "", svg)  # the TeX itself, as text for screen readers
    assert svg.count("<mjx-container") == len(EXPORTABLE) * len(FIELDS_BY_KIND["formula"])
    for vector in EXPORTABLE:
        assert vector["payload"] not in svg, vector["name"]
    assert not re.search(r'href="(?!#MJX)', svg)


# ---------------------------------------------------------------- the safe form a deck may allow


def test_tex_links_https_allows_https_links_only(tmp_path):
    project = new_project(tmp_path / "project", "tex_links: https\n")
    card_file = CardFile("links.yaml")
    card_file.card(
        "https-link", "qa", {"question": "Q?", "answer": r"$\href{https://example.org/a}{x}$"}
    )
    line = card_file.card(
        "http-link", "qa", {"question": "Q?", "answer": r"$\href{http://example.org/b}{x}$"}
    )["answer"]
    card_file.write(project / "cards")

    assert_refused(
        run_cli(project, "check"),
        [
            Expected(
                f"cards/links.yaml:{line + 1}:8: MD141 card 'http-link', field 'answer': unsafe "
                "TeX: \\href makes a link: "
                'href="http://example.org/b" (deck.yaml allows https: links only) in $\\href{http://example.org/b}{x}$',
                "",
                None,
            )
        ],
    )

    card_file.lines = card_file.lines[: line - 5]  # drop the http card (from its `- id:` line)
    card_file.write(project / "cards")
    assert run_cli(project, "build").returncode == 0
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, project / "dist" / "hostile-0.1.0+dev.apkg")
        assert r"\href{https://example.org/a}{x}" in notes_by_card_id(col)["https-link"]["Answer"]
    finally:
        col.close()
    assert run_cli(project, "export", "html").returncode == 0
    assert 'href="https://example.org/a"' in (project / "dist" / "hostile-0.1.0.html").read_text(
        encoding="utf-8"
    )


def test_without_tex_links_an_https_link_is_refused_too(tmp_path):
    project = new_project(tmp_path / "project")
    card_file = CardFile("links.yaml")
    line = card_file.card(
        "https-link", "qa", {"question": "Q?", "answer": r"$\href{https://example.org/a}{x}$"}
    )["answer"]
    card_file.write(project / "cards")

    assert_refused(
        run_cli(project, "check"),
        [
            Expected(
                f"cards/links.yaml:{line + 1}:8: MD141 card 'https-link', field 'answer': unsafe "
                "TeX: \\href makes a link: "
                'href="https://example.org/a" in $\\href{https://example.org/a}{x}$',
                "",
                None,
            )
        ],
    )


def test_mathjax_own_equation_labels_and_references_are_not_refused():
    from builder.mathjax import check_tex

    items = [
        (r"\begin{align} a \label{eq:a} \tag{1} \\ b \eqref{eq:a} \end{align}", True),
        (r"\bbox[yellow,5px]{x} \fcolorbox{red}{#00ff00}{y} \color{blue}{z}", False),
    ]
    assert check_tex(items) == [None, None]


def test_a_deck_macro_cannot_smuggle_a_dangerous_macro(tmp_path):
    """Deck macros are expanded before the check: the expansion is what is judged."""
    project = new_project(tmp_path / "project", "macros:\n  link: '\\href{#1}{#2}'\n")
    card_file = CardFile("macro.yaml")
    line = card_file.card(
        "via-macro", "qa", {"question": "Q?", "answer": r"$\link{javascript:alert(21)}{x}$"}
    )["answer"]
    card_file.write(project / "cards")

    assert_refused(
        run_cli(project, "check"),
        [
            Expected(
                # the TeX judged is the expansion, not written in the file: the field's line
                f"cards/macro.yaml:{line}: MD141 card 'via-macro', field 'answer': unsafe TeX: "
                "\\href makes a link: "
                'href="javascript:alert(21)" in $\\href{javascript:alert(21)}{x}$',
                "",
                None,
            )
        ],
    )


def test_every_field_of_every_kind_passes_the_sanitiser(monkeypatch, tmp_path):
    """By construction: whatever makes a field (Markdown, Pygments, a template), render_card
    hands it to the sanitiser, so a field added tomorrow cannot skip it."""
    from builder import render
    from builder.model import KINDS

    project = new_project(tmp_path / "project")
    card_file = CardFile("all.yaml")
    every_field = {
        "formula": {"concept": "C", "formula": "$x$", "explanation": "E"},
        "qa": {"question": "Q?", "answer": "A", "followup_question": "F?", "followup_answer": "B"},
        "code": {"task": "T", "explanation": "E"},
        "cloze": {"text": "{{c1::a}}", "extra": "X"},
        "basic": {"front": "F", "back": "B"},
    }
    for kind, fields in every_field.items():
        raw = {
            "zh": "术语",
            "figure": "fig",
            "retired": "true",
            **({"code": "x = 1"} if kind == "code" else {}),
            **({"reverse": "true"} if kind in ("formula", "basic") else {}),
        }
        card_file.card(f"all-{kind}", kind, fields, raw)
    card_file.write(project / "cards")
    from builder.load import load_deck

    deck = load_deck(project / "cards")
    monkeypatch.setattr(render, "sanitize_html", lambda html: "<sanitised>")
    notes = render.render_deck(deck, {"fig": render.FigureFiles("fig-l.png", "fig-d.png")})

    assert {note.card.kind for note in notes} == set(KINDS)
    for note in notes:
        assert all(note.fields), (note.card.id, note.fields)  # every field was filled ...
        assert set(note.fields) == {"<sanitised>"}, (
            note.card.id
        )  # ... and went through the sanitiser


def test_the_deck_description_is_audited_like_a_field(tmp_path):
    project = new_project(tmp_path / "project")
    deck_yaml = project / "cards" / "deck.yaml"
    text = deck_yaml.read_text(encoding="utf-8").replace(
        "description: Hostile input, every vector in every field kind.",
        "description: |\n  Hostile <img src=x onerror=alert(22)> and <!-- a note -->",
    )
    deck_yaml.write_text(text, encoding="utf-8")
    line = text.splitlines().index("description: |") + 1
    card_file = CardFile("one.yaml")
    card_file.card("one", "qa", {"question": "Q?", "answer": "A"})
    card_file.write(project / "cards")

    prefix = f"cards/deck.yaml:{line}: 'description' has raw HTML that is not allowed:"
    assert_refused(
        run_cli(project, "check"),
        [
            Expected(f"{prefix} 'onerror' attribute on <img> would be removed", "", None),
            Expected(f"{prefix} an HTML comment would be removed", "", None),
        ],
    )
