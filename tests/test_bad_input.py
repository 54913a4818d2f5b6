"""Bad input, as a user meets it through the CLI: the exact message, the exit code, and the last
good build left untouched (issue 5). Each case breaks a copy of the minimal project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources

GOOD_APKG = "dist/ml-math-cheatsheet-0.1.0+dev.apkg"  # 0.1.0 is not released: the development build


@dataclass
class Case:
    name: str
    files: dict[str, str | bytes]  # path in the project -> new content
    stderr: list[str]  # the exact problem lines, in order
    exit_code: int = 1
    args: list[str] = field(default_factory=lambda: ["build"])
    replace: tuple[str, str] | None = None  # (old, new) in cards/cards.yaml


def card_file(cards: str) -> str:
    return "subdeck: S\ntags: [t]\ncards:\n" + cards


QA = "  - id: {id}\n    kind: qa\n    question: {q}\n    answer: {a}\n"

CASES = [
    Case(
        "malformed yaml",
        {"cards/bad.yaml": "subdeck: S\ncards:\n  - id: a\n    question: [unclosed\n"},
        [
            "cards/bad.yaml:5:1: MD101 malformed YAML: did not find expected ',' or ']' (a value "
            "that starts with [ is read as a list: close it with ], or quote the value)"
        ],
    ),
    Case(
        "tab indentation",
        {"cards/bad.yaml": "subdeck: S\ncards:\n\t- id: a\n"},
        [
            "cards/bad.yaml:3:1: MD101 malformed YAML: found character that cannot start any "
            "token (indent with spaces: YAML does not allow tabs)"
        ],
    ),
    Case(
        "wrong type",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="A") + "    tags: not-a-list\n")},
        ["cards/bad.yaml:8:11: MD112 'tags' must be a list, not text"],
    ),
    Case(
        "missing required field",
        {"cards/bad.yaml": card_file("  - id: a\n    kind: qa\n    question: Q?\n")},
        ["cards/bad.yaml:4:5: MD111 card 'a': missing required key 'answer'"],
    ),
    Case(
        "unknown key with suggestion",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="A") + "    folowup_question: F?\n"
            )
        },
        [
            "cards/bad.yaml:8:5: MD110 unknown key 'folowup_question' in a qa card (did you mean "
            "'followup_question'?)"
        ],
    ),
    Case(
        "duplicate id",
        {"cards/bad.yaml": card_file(QA.format(id="bayes-theorem", q="Q?", a="A"))},
        [
            "cards/bad.yaml:4: MD120 id 'bayes-theorem' is already used by the card at "
            "cards/cards.yaml:4"
        ],
    ),
    Case(
        "malformed id",
        {"cards/bad.yaml": card_file(QA.format(id="Bad_Id", q="Q?", a="A"))},
        [
            "cards/bad.yaml:4:9: MD113 id 'Bad_Id' must be a slug: lowercase letters, digits and "
            "single hyphens"
        ],
    ),
    Case(
        "empty front",
        {"cards/bad.yaml": card_file(QA.format(id="a", q='"   "', a="A"))},
        ["cards/bad.yaml:6:15: MD114 card 'a': 'question' is empty"],
    ),
    Case(
        "unknown figure",
        {
            "figures/kl-fits.py": "def draw(theme):\n    raise SystemExit\n",
            "cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="A") + "    figure: kl-fit\n"),
        },
        ["cards/bad.yaml:8: card 'a': unknown figure 'kl-fit' (did you mean 'kl-fits'?)"],
    ),
    Case(
        "undefined macro",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="|\n      $\\Ex[X] = 0$"))},
        [
            "cards/bad.yaml:8:8: MD140 card 'a', field 'answer': MathJax: Undefined control "
            "sequence \\Ex (define it under 'macros' in deck.yaml, or use \\operatorname{...}) "
            "in $\\Ex[X] = 0$"
        ],
    ),
    Case(
        "missing brace",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="|\n      $\\frac{a}{b$"))},
        [
            "cards/bad.yaml:8:8: MD140 card 'a', field 'answer': MathJax: Missing close brace in "
            "$\\frac{a}{b$"
        ],
    ),
    Case(
        "script element",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="|\n      Hi <script>alert(1)</script>")
            )
        },
        [
            "cards/bad.yaml:7: card 'a': 'answer' has raw HTML that is not allowed in a note: "
            "<script> element would be removed"
        ],
    ),
    Case(
        "event handler",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a='|\n      <img src="x.png" onerror="alert(1)">')
            )
        },
        [
            "cards/bad.yaml:7: card 'a': 'answer' has raw HTML that is not allowed in a note: "
            "'onerror' attribute on <img> would be removed"
        ],
    ),
    Case(
        "javascript link",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="|\n      [click](javascript:alert(1))")
            )
        },
        [
            "cards/bad.yaml:7: card 'a': 'answer' has raw HTML that is not allowed in a note: "
            "'javascript:' link in <a href> would be removed"
        ],
    ),
    Case(
        "alias bomb",
        {
            "cards/bad.yaml": (
                'a: &a ["x","x","x","x"]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\nsubdeck: '
                "S\ncards: [*c]\n"
            )
        },
        ["cards/bad.yaml:1:4: MD102 YAML anchors and aliases (&name / *name) are not allowed"],
    ),
    Case(
        "deep nesting",
        {"cards/bad.yaml": "subdeck: S\ncards: " + "[" * 3000 + "]" * 3000 + "\n"},
        ["cards/bad.yaml:2:1007: MD101 malformed YAML: exceeded maximum nesting depth"],
    ),
    Case(
        "huge file",
        {"cards/bad.yaml": "subdeck: S\ncards: []\n#" + "x" * (3 * 1024 * 1024) + "\n"},
        ["cards/bad.yaml: MD100 file is 3,145,751 bytes; the limit is 2,097,152"],
    ),
    Case(
        "not utf-8",
        {"cards/bad.yaml": b"subdeck: S\ncards: []\n# \xff\xfe\n"},
        ["cards/bad.yaml:3:3: MD100 not UTF-8 text (byte 0xff)"],
    ),
    Case(
        "bad version",
        {},
        ["cards/deck.yaml:6:10: MD113 version '1.0' is not semver (MAJOR.MINOR.PATCH)"],
        replace=("version: 0.1.0", "version: 1.0"),
    ),
    Case(
        "bad level and boolean",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="A")
                + (
                    "    level: L4\n  - id: b\n    kind: formula\n    concept: C\n    formula: "
                    "$x$\n    reverse: yes\n"
                )
            )
        },
        [
            "cards/bad.yaml:8:12: MD113 level 'L4' must be one of L1, L2, L3",
            "cards/bad.yaml:13:14: MD113 'reverse' must be true or false, not 'yes'",
        ],
    ),
    Case(
        "display math inside a sentence",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="|\n      It is $$x^2$$ here."))},
        [
            "cards/bad.yaml:7: card 'a': 'answer': display math $$...$$ must start on a line of "
            "its own (inline math is $...$)"
        ],
    ),
    Case(
        "missing code file",
        {
            "cards/bad.yaml": card_file(
                "  - id: a\n    kind: code\n    task: T\n    code_file: snippets/nope.py\n"
            )
        },
        [
            "cards/bad.yaml:7:16: MD116 card 'a': code_file 'snippets/nope.py' cannot be read "
            "(missing or not UTF-8 text)"
        ],
    ),
    Case(
        "several problems at once, sorted",
        {
            "cards/a.yaml": card_file(QA.format(id="x", q="Q?", a="A") + "    level: L9\n"),
            "cards/b.yaml": card_file("  - id: y\n    kind: quiz\n"),
        },
        [
            "cards/a.yaml:8:12: MD113 level 'L9' must be one of L1, L2, L3",
            "cards/b.yaml:5:11: MD113 unknown kind 'quiz'; kinds are: formula, qa, cloze, code, "
            "basic",
        ],
    ),
    Case("usage error", {}, [], exit_code=2, args=["build", "--no-such-flag"]),
    Case(
        "cloze without a deletion",
        {
            "cards/bad.yaml": card_file(
                "  - id: a\n    kind: cloze\n    text: Nothing is hidden here.\n"
            )
        },
        [
            "cards/bad.yaml:6:11: MD117 card 'a': 'text' has no cloze deletion {{c1::...}}, so "
            "Anki would make no card from it"
        ],
    ),
    Case(
        "NUL in a code_file path",
        {
            "cards/bad.yaml": card_file(
                '  - id: a\n    kind: code\n    task: T\n    code_file: "snippets/a\\0.py"\n'
            )
        },
        [
            "cards/bad.yaml:7:16: MD115 'code_file' contains U+0000 (NUL) at character 11, which "
            "an Anki note cannot hold: remove it"
        ],
    ),
    Case(
        "line too long",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="x" * 10_001))},
        [
            "cards/bad.yaml:7:13: MD115 'answer' has a line of 10,001 characters; the limit is "
            "10,000"
        ],
    ),
    Case(
        "too many [",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="|\n" + "      [a\n" * 501))},
        [
            "cards/bad.yaml:7:13: MD115 'answer' has 501 '['; the limit is 500 in one field "
            "(Markdown's link parser slows down quadratically)"
        ],
    ),
    Case(
        "list nested too deep",
        {
            "cards/bad.yaml": card_file(
                QA.format(
                    id="a",
                    q="Q?",
                    a="|\n" + "".join("      " + "    " * n + "- x\n" for n in range(34)),
                )
            )
        },
        ["cards/bad.yaml:7:13: MD115 'answer' nests lists or quotes more than 32 levels deep"],
    ),
]


# Precise errors (issue 16) and the schema's codes (README, "Problem codes"): each pairs a bad input
# with the exact lines a user sees.
SOFTMAX_CARD = QA.format(
    id="a",
    q="Q?",
    a="|\n      Logits become probabilities:\n\n      $$\n      p = \\softmax(z)\n      $$",
)
PRECISE_CASES = [
    Case(
        "TeX error inside a multi-line field: its own line and column",
        {"cards/bad.yaml": card_file(SOFTMAX_CARD)},
        [
            "cards/bad.yaml:11:11: MD140 card 'a', field 'answer': MathJax: Undefined control "
            "sequence \\softmax (define it under 'macros' in deck.yaml, or use "
            "\\operatorname{...}) in $p = \\softmax(z)$"
        ],
    ),
    Case(
        "misspelt TeX macro: did you mean",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Where is $x \\in \\mathbbb{R}$?", a="A")
            )
        },
        [
            "cards/bad.yaml:6:31: MD140 card 'a', field 'question': MathJax: Undefined control "
            "sequence \\mathbbb (did you mean \\mathbb?) in $x \\in \\mathbbb{R}$"
        ],
    ),
    Case(
        "misspelt TeX environment: did you mean",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="|\n      $\\begin{alignd} a \\end{alignd}$")
            )
        },
        [
            "cards/bad.yaml:8:8: MD140 card 'a', field 'answer': MathJax: Unknown environment "
            "'alignd' (did you mean aligned?) in $\\begin{alignd} a \\end{alignd}$"
        ],
    ),
    Case(
        "misspelt deck macro: did you mean",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="$\\Exx[X]$"))},
        [
            "cards/bad.yaml:7:14: MD140 card 'a', field 'answer': MathJax: Undefined control "
            "sequence \\Exx (did you mean \\Ex?) in $\\Exx[X]$"
        ],
        replace=("note_types:", "macros:\n  Ex: '\\mathbb{E}'\nnote_types:"),
    ),
    Case(
        "a colon in a plain value: the YAML hint",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Why: because?", a="A"))},
        [
            "cards/bad.yaml:6:18: MD101 malformed YAML: mapping values are not allowed in this "
            "context (a value that contains ': ' must be quoted ('...') or written as a block "
            "(|))"
        ],
    ),
    Case(
        "an unclosed quote: reported where it opens",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="'Q?", a="A"))},
        [
            "cards/bad.yaml:6:15: MD101 malformed YAML: found unexpected end of stream (a quote "
            "is opened and never closed)"
        ],
    ),
    Case(
        "duplicate id inside one file: at the second",
        {
            "cards/bad.yaml": card_file(
                QA.format(id="a", q="Q?", a="A") + QA.format(id="a", q="Q2?", a="B")
            )
        },
        ["cards/bad.yaml:8: MD120 id 'a' is already used by the card at cards/bad.yaml:4"],
    ),
    Case(
        "duplicate key",
        {"cards/bad.yaml": card_file(QA.format(id="a", q="Q?", a="A") + "    answer: B\n")},
        ["cards/bad.yaml:8:5: MD103 duplicate key 'answer' (first at line 7)"],
    ),
    Case(
        "unknown key in deck.yaml",
        {},
        [
            "cards/deck.yaml:2:1: MD111 missing required key 'version'",
            "cards/deck.yaml:6:1: MD110 unknown key 'verison' in deck.yaml (did you mean "
            "'version'?)",
        ],
        replace=("version: 0.1.0", "verison: 0.1.0"),
    ),
    Case(
        "unknown key in a card file",
        {"cards/bad.yaml": "subdeck: S\ntag: [t]\ncards: []\n"},
        ["cards/bad.yaml:2:1: MD110 unknown key 'tag' in a card file (did you mean 'tags'?)"],
    ),
    Case(
        "unknown key in note_types",
        {},
        [
            "cards/deck.yaml:12:3: MD110 unknown key 'formulas' in note_types (did you mean "
            "'formula'?)"
        ],
        replace=("  formula: 1764080000101", "  formulas: 1764080000101"),
    ),
    Case(
        "unknown key in the outline",
        {"cards/outline.yaml": "parts:\n  - subdeck: S\n    titel: T\n"},
        ["cards/outline.yaml:3:5: MD110 unknown key 'titel' in a part (did you mean 'title'?)"],
        args=["export", "markdown"],
    ),
    Case(
        "unknown key in a seed file",
        {"cards/seed/a.yaml": "items:\n  - id: s1\n    txt: Bayes\n"},
        [
            "cards/seed/a.yaml:2:5: MD111 missing required key 'text'",
            "cards/seed/a.yaml:3:5: MD110 unknown key 'txt' in a seed item (did you mean 'text'?)",
        ],
        args=["coverage"],
    ),
    Case(
        "a problem in deck.yaml does not hide MathJax's either",
        {"cards/b.yaml": card_file(QA.format(id="b", q="Q?", a="$\\frac{1}{2$"))},
        [
            "cards/b.yaml:7:14: MD140 card 'b', field 'answer': MathJax: Missing close brace in "
            "$\\frac{1}{2$",
            "cards/deck.yaml:2:1: MD111 missing required key 'version'",
            "cards/deck.yaml:6:1: MD110 unknown key 'verison' in deck.yaml (did you mean "
            "'version'?)",
        ],
        replace=("version: 0.1.0", "verison: 0.1.0"),
    ),
    Case(
        "line 100 and 1234 printed as digits, not as Rich's :100: and :1234: emoji",
        {
            "cards/bad.yaml": "#\n" * 92
            + card_file(QA.format(id="a", q="Q?", a="A") + "    level: L4\n"),
            "cards/bad2.yaml": "#\n" * 1226
            + card_file(QA.format(id="b", q="Q?", a="A") + "    level: L5\n"),
        },
        [
            "cards/bad.yaml:100:12: MD113 level 'L4' must be one of L1, L2, L3",
            "cards/bad2.yaml:1234:12: MD113 level 'L5' must be one of L1, L2, L3",
        ],
    ),
    Case(
        "every phase at once: a schema problem does not hide MathJax's",
        {
            "cards/a.yaml": card_file(QA.format(id="a", q="Q?", a="A") + "    levl: L1\n"),
            "cards/b.yaml": card_file(QA.format(id="b", q="Q?", a="$\\frac{1}{2$")),
        },
        [
            "cards/a.yaml:8:5: MD110 unknown key 'levl' in a qa card (did you mean 'level'?)",
            "cards/b.yaml:7:14: MD140 card 'b', field 'answer': MathJax: Missing close brace in "
            "$\\frac{1}{2$",
        ],
    ),
]
CASES += PRECISE_CASES


def run_cli(project: Path, args: list[str]):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def built_project(tmp_path_factory) -> Path:
    """A project with a good release already in dist/, built once and copied for every case."""
    project = tmp_path_factory.mktemp("good")
    copy_sources(MINIMAL, project)
    result = run_cli(project, ["build"])
    assert result.returncode == 0, result.stderr
    return project


def test_there_are_at_least_fifteen_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_exact_message_exit_code_and_loses_nothing(
    case: Case, built_project, tmp_path
):
    project = tmp_path / "project"
    shutil.copytree(built_project, project)
    good = (project / GOOD_APKG).read_bytes()
    lock = (project / "cards" / "mathdeck.lock.json").read_bytes()
    for relative, content in case.files.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.replace:
        for name in ("cards/cards.yaml", "cards/deck.yaml"):
            path = project / name
            path.write_text(path.read_text().replace(*case.replace))

    result = run_cli(project, case.args)

    assert result.returncode == case.exit_code, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    if case.exit_code == 1:
        count = len(case.stderr)
        # `check` and `coverage` never write, so they never say that they wrote nothing
        ending = "." if case.args[0] in ("check", "coverage") else "; nothing was written."
        assert lines == [*case.stderr, f"{count} problem{'s' if count > 1 else ''}{ending}"]
    assert (project / GOOD_APKG).read_bytes() == good
    assert (project / "cards" / "mathdeck.lock.json").read_bytes() == lock
    assert sorted(p.name for p in (project / "dist").iterdir()) == [Path(GOOD_APKG).name]


def test_unknown_key_in_the_lock_file_gets_a_did_you_mean(built_project, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built_project, project)
    lock = project / "cards" / "mathdeck.lock.json"
    text = lock.read_text()
    guid = next(iter(json.loads(text)["notes"]))
    lines = text.splitlines()
    guid_line = next(
        n for n, line in enumerate(lines, 1) if line.lstrip().startswith(json.dumps(guid))
    )
    key_line = next(n for n, line in enumerate(lines, 1) if line.lstrip().startswith('"modified"'))
    lock.write_text(text.replace('"modified"', '"modifed"', 1))

    result = run_cli(project, ["build"])

    assert result.returncode == 1, result.stderr
    repair = "run `mathdeck lock --repair` (or restore the file from git)"
    assert result.stderr.splitlines() == [
        f"cards/mathdeck.lock.json:{guid_line}: MD132 'notes.{guid}.modified' is missing; {repair}",
        f"cards/mathdeck.lock.json:{key_line}: MD132 'notes.{guid}.modifed' is not a key of the "
        f"lock file (did you mean 'modified'?); {repair}",
        "2 problems; nothing was written.",
    ]
