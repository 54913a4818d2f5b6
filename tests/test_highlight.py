"""highlight: the lexers whose rules are dispatched by first character give exactly Pygments'
own tokens (so the same HTML), on real code and on generated text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_by_name

from builder.bench_decks import write_synthetic_project
from builder.highlight import first_ascii, highlight_code, lexer
from builder.load import load_sources

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["python", "bash", "javascript", "c", "json", "yaml", "text"]


def same_tokens(language: str, code: str) -> None:
    dispatched = list(lexer(language).get_tokens(code))
    assert dispatched == list(get_lexer_by_name(language).get_tokens(code)), code


def test_code_of_the_flagship_the_bench_deck_and_builder_lexes_as_in_pygments(tmp_path):
    write_synthetic_project(tmp_path / "bench", 100)
    snippets = [
        card.text["code"]
        for cards_dir in (ROOT / "cards", tmp_path / "bench" / "cards")
        for card in load_sources(cards_dir).deck.cards  # type: ignore[union-attr]
        if "code" in card.text
    ]
    sources = [path.read_text() for path in sorted((ROOT / "builder").glob("*.py"))]
    assert len(snippets) > 20
    for code in snippets + sources:
        same_tokens("python", code)
    for language in LANGUAGES:
        for code in snippets[:5] + sources[:5]:
            same_tokens(language, code)


def test_the_lexer_is_dispatched_and_the_html_unchanged():
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    assert "get_tokens_unprocessed" in vars(lexer("python"))  # the dispatching loop is in use
    code = "def f(x):\n    return x < 1  # 'note'\n"
    plain = highlight(code, get_lexer_by_name("python"), HtmlFormatter(cssclass="highlight"))
    assert highlight_code(code, "python") == plain


def test_another_pygments_keeps_its_own_loop(monkeypatch):
    """The copied loop is Pygments 2.21's: under another version the lexer is left as it is."""
    import builder.highlight as highlight_module

    monkeypatch.setattr(highlight_module, "pygments_version", lambda: "2.22.0")
    lexer.cache_clear()
    try:
        assert "get_tokens_unprocessed" not in vars(lexer("python"))
    finally:
        lexer.cache_clear()


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"#.*$", {"#"}),
        (r"(?i)(rb|br|r)(')", {"r", "R", "b", "B"}),
        (r"\d+", set("0123456789")),
        (r"[^a]", None),
        (r"\s*x", {c for c in map(chr, range(128)) if c.isspace()} | {"x"}),
        (r"(?=\w)x", {"x"}),
        (r"", None),
        (r"a?", None),
        (r"(a|)b", {"a", "b"}),
        (r"[^\W\d]x", {c for c in map(chr, range(128)) if c.isalpha() or c == "_"}),
        (r"(?i)[a-b]|\.", {"a", "b", "A", "B", "."}),
    ],
)
def test_first_characters_of_a_pattern(pattern, starts):
    found = first_ascii(re.compile(pattern, re.M).match)
    if starts is None:
        assert found is None or len(found) > 100
    else:
        assert found == frozenset(starts)


REGEX_PIECES = st.sampled_from(
    [
        "a", "B", "\\d", "\\w", "\\s", "\\W", "[a-c]", "[^x]", "[\\w.]", "[^\\W\\d]", "(?i)",
        "(?i:k)", "(?-i:k)", "|", "(", ")", "*", "+", "?", "{0,2}", "(?=a)", "(?!a)", "(?<=a)",
        "^", "$", "\\b", ".", "(?>a|b)", "\\n", "é", "[é-ü]", "K",
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(REGEX_PIECES, max_size=8).map("".join), st.text("aAbBcKk_.x1 \n\té", max_size=4))
def test_a_pattern_never_matches_at_a_character_it_was_said_not_to_start_with(pattern, text):
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    starts = first_ascii(compiled.match)
    match = compiled.match(text)
    if starts is not None and text[:1].isascii():
        assert match is None or (match.end() > 0 and text[0] in starts)


PIECES = st.sampled_from(
    [
        "def", "class", "f", "x", " ", "    ", "\n", "(", ")", ":", "'", '"', '"""', "'''", "#",
        "\\", "r", "b", "f'", "rb'", "{", "}", "[", "]", "0", "1.5e3", "0x1F", "_", "@", "=",
        "+", "*", "import", "from", "as", "lambda", "é", "\t", "$", "`", "<", ">", "&", ";", "-",
    ]
)  # fmt: skip


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=30).map("".join), st.sampled_from(LANGUAGES))
def test_generated_code_lexes_as_in_pygments(code, language):
    same_tokens(language, code)
