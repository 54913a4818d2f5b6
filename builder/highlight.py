"""Code cards' static highlighting: Pygments, with its regex lexers' rules tried only where they
can match.

Pygments' RegexLexer tries a state's rules one by one at every token until one matches: ~38
`re.match` calls a token for Python (its root state has 56 rules), ~0.7 ms a snippet, the largest
share of rendering a cold build. Most rules can only start with a few characters (`#`, a quote,
a digit); `_Dispatch` works out from each rule's parsed pattern which ASCII characters can start
a match and skips the rules that cannot start with the character at hand. The rules it keeps are
tried in Pygments' order, so the first that matches (and every token) is the one Pygments finds:
the loop below is RegexLexer.get_tokens_unprocessed with that one change. A rule it cannot read is
always tried. tests/test_render.py holds the tokens to Pygments' own.
"""

from __future__ import annotations

import functools

# Pygments is imported where it is used: a rebuild whose notes all come from the build's cache
# (builder/memo.py) never loads it.


def highlight_code(code: str, language: str) -> str:
    """Static Pygments highlighting: coloured by CSS classes, no JavaScript in the card."""
    from pygments import highlight

    return highlight(code.rstrip("\n") + "\n", lexer(language), _code_formatter())


@functools.lru_cache(maxsize=64)
def lexer(language: str):
    """Pygments' lexer for the language (plain text if it has none), its rules dispatched by
    first character when it is a plain RegexLexer."""
    # Pygments lexers and formatters keep no state between calls to highlight(): reuse them.
    from pygments.lexer import RegexLexer
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        found = get_lexer_by_name(language)
    except ClassNotFound:
        found = get_lexer_by_name("text")
    if type(
        found
    ).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed and pygments_version().startswith(
        DISPATCH_CHECKED_ON
    ):
        found.get_tokens_unprocessed = _Dispatch(found).tokens  # type: ignore[method-assign]
    return found


# _Dispatch.tokens copies RegexLexer's loop as Pygments 2.21 has it: another Pygments (pyproject
# allows >=2.17) keeps its own loop until tests/test_highlight.py has held it to this one.
DISPATCH_CHECKED_ON = "2.21."


def pygments_version() -> str:
    import pygments

    return pygments.__version__


@functools.cache
def _code_formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight")


_ASCII = [chr(code) for code in range(128)]


class _Dispatch:
    """A RegexLexer's rules by state and by the character a token starts with."""

    def __init__(self, lexer):
        self.lexer = lexer
        self.states: dict[str, dict[str, list]] = {}  # state -> character -> rules to try
        self.starts: dict[str, list] = {}  # state -> (rule, first_ascii of its pattern)

    def of_state(self, state: str) -> dict[str, list]:
        if state not in self.states:
            self.states[state] = {}
            self.starts[state] = [
                (rule, first_ascii(rule[0])) for rule in self.lexer._tokens[state]
            ]
        return self.states[state]

    def rules(self, state: str, char: str) -> list:
        """The state's rules that can match at `char`, in order (found once per character)."""
        by_char = self.of_state(state)
        if char not in by_char:
            by_char[char] = [
                rule
                for rule, starts in self.starts[state]
                if starts is None or not char.isascii() or char in starts
            ]
        return by_char[char]

    def tokens(self, text: str, stack=("root",)):
        """RegexLexer.get_tokens_unprocessed (Pygments 2.21) trying only `rules`."""
        from pygments.token import Error, Whitespace, _TokenType

        lexer, pos, end = self.lexer, 0, len(text)
        tokendefs = lexer._tokens
        statestack = list(stack)
        statetokens = tokendefs[statestack[-1]]
        by_char = self.of_state(statestack[-1])
        while 1:
            if pos < end:
                rules = by_char.get(text[pos]) or self.rules(statestack[-1], text[pos])
            else:
                rules = statetokens
            for rexmatch, action, new_state in rules:
                m = rexmatch(text, pos)
                if m:
                    if action is not None:
                        if type(action) is _TokenType:
                            yield pos, action, m.group()
                        else:
                            yield from action(lexer, m)
                    pos = m.end()
                    if new_state is not None:
                        _change_state(statestack, new_state)
                        statetokens = tokendefs[statestack[-1]]
                        by_char = self.of_state(statestack[-1])
                    break
            else:
                # no rule matched: a newline resets to root, anything else is an error token
                try:
                    if text[pos] == "\n":
                        statestack = ["root"]
                        statetokens = tokendefs["root"]
                        by_char = self.of_state("root")
                        yield pos, Whitespace, "\n"
                        pos += 1
                        continue
                    yield pos, Error, text[pos]
                    pos += 1
                except IndexError:
                    break


def _change_state(statestack: list[str], new_state) -> None:
    """A rule's state transition, as RegexLexer makes it."""
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(statestack) > 1:
                    statestack.pop()
            elif state == "#push":
                statestack.append(statestack[-1])
            else:
                statestack.append(state)
    elif isinstance(new_state, int):
        # pop, but keep at least one state on the stack
        if abs(new_state) >= len(statestack):
            del statestack[1:]
        else:
            del statestack[new_state:]
    elif new_state == "#push":
        statestack.append(statestack[-1])
    else:
        raise AssertionError(f"wrong state def: {new_state!r}")


def first_ascii(rexmatch) -> frozenset[str] | None:
    """The ASCII characters a match of a rule's `rexmatch` (a compiled pattern's `match`) can start
    with (any other character may start one too), or None when it may start with anything or
    match no character at all."""
    pattern = getattr(rexmatch, "__self__", None)
    return _first_ascii(pattern.pattern, pattern.flags) if pattern is not None else None


@functools.lru_cache(maxsize=1024)  # a lexer's states share many patterns (identifiers, numbers)
def _first_ascii(pattern: str, flags: int) -> frozenset[str] | None:
    from re import _parser  # type: ignore[attr-defined]

    try:
        parsed = _parser.parse(pattern, flags)
        starts, empty = _sequence(list(parsed), parsed.state, flags)
    except Exception:  # a pattern this reading does not know: try the rule everywhere
        return None
    return None if starts is None or empty else frozenset(starts)


def _sequence(items: list, state, flags: int) -> tuple[set[str] | None, bool]:
    """(the first characters of a sequence of parsed items or None for any, can it be empty)."""
    starts: set[str] = set()
    for op, argument in items:
        first, empty = _item(op, argument, state, flags)
        if first is None:
            return None, False
        starts |= first
        if not empty:
            return starts, False
    return starts, True


def _item(op, argument, state, flags: int) -> tuple[set[str] | None, bool]:
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    class_items = (sre.LITERAL, sre.RANGE, sre.CATEGORY, sre.NEGATE)
    plain_class = op is sre.IN and all(item in class_items for item, _ in argument)
    if not flags & sre.SRE_FLAG_IGNORECASE and (op is sre.LITERAL or plain_class):
        return _class_ascii([(op, argument)] if op is sre.LITERAL else argument, flags), False
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
        # One character: which ASCII ones it takes, asked of the regex engine itself.
        return _engine_ascii(_parser.SubPattern(state, [(op, argument)]), flags), False
    if op is sre.SUBPATTERN:
        _group, add, remove, items = argument
        return (None, False) if remove else _sequence(list(items), state, flags | add)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(argument), state, flags)
    if op is sre.BRANCH:
        starts: set[str] = set()
        empty = False
        for items in argument[1]:
            first, can_be_empty = _sequence(list(items), state, flags)
            if first is None:
                return None, False
            starts |= first
            empty = empty or can_be_empty
        return starts, empty
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _high, items = argument
        first, can_be_empty = _sequence(list(items), state, flags)
        return first, can_be_empty or low == 0
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return set(), True  # matches no character: what follows starts the match
    return None, False


def _class_ascii(items: list, flags: int) -> set[str]:
    """The ASCII characters a character class (the items of a parsed `[...]`) takes, read
    directly: Pygments' identifier classes list hundreds of ranges, slow to compile."""
    from re import _constants as sre  # type: ignore[attr-defined]

    chars: set[str] = set()
    for item, value in items:
        if item is sre.LITERAL:
            chars |= {chr(value)} & set(_ASCII)
        elif item is sre.RANGE:
            chars |= set(_ASCII[value[0] : min(value[1], len(_ASCII) - 1) + 1])
        elif item is sre.CATEGORY:  # \d, \w, \s and their opposites, as the flags read them
            chars |= _category_ascii(str(value), flags)
    return set(_ASCII) - chars if items and items[0][0] is sre.NEGATE else chars


_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


@functools.lru_cache(maxsize=64)
def _category_ascii(category: str, flags: int) -> frozenset[str]:
    """An unknown category raises KeyError: its rule is then tried everywhere."""
    import re

    matches = re.compile(_CATEGORIES[category], flags).match
    return frozenset(char for char in _ASCII if matches(char))


def _engine_ascii(parsed, flags: int) -> set[str]:
    """The ASCII characters one parsed character item matches, asked of the regex engine."""
    from re import _compiler  # type: ignore[attr-defined]

    matches = _compiler.compile(parsed, flags).match
    return {char for char in _ASCII if matches(char)}
