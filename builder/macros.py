"""Deck TeX macros (`macros:` in deck.yaml), expanded into plain TeX at build time.

AnkiDroid and AnkiMobile cannot load a custom MathJax configuration, so a note must carry TeX
that MathJax understands with no `\\newcommand` anywhere: `\\E[X]` reaches the note as
`\\mathbb{E}[X]`. Expansion follows TeX's rules for arguments: each of a macro's #1..#9 is the
next brace group or, without braces, the next single token.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .problems import Location

NAME_PATTERN = re.compile(r"^[A-Za-z]+$")
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
MAX_EXPANSIONS = 10_000


@dataclass(frozen=True)
class Macro:
    name: str
    body: str
    args: int
    location: Location

    def __hash__(self) -> int:
        # The deck's macros are part of the key of every field's Markdown (markdown_math's caches,
        # ~150,000 lookups at 20,000 cards): hashing the location's Path each time tripled it.
        # Equal macros have equal names, bodies and argument counts, so they hash alike.
        return hash((self.name, self.body, self.args))


class MacroError(ValueError):
    pass


def expand_macros(tex: str, macros: dict[str, Macro]) -> str:
    """Expand every deck macro in a TeX string, innermost text first, until none is left."""
    if not macros or "\\" not in tex:
        return tex
    expansions = 0
    position = 0
    while True:
        match = _next_macro(tex, macros, position)
        if match is None:
            return tex
        start, end, macro = match
        arguments, end = _read_arguments(tex, end, macro)
        body = macro.body
        for number, argument in enumerate(arguments, 1):
            body = body.replace(f"#{number}", argument)
        # Braces keep an expansion one unit, as TeX would treat it (`x^\R` must stay `x^{...}`).
        replacement = "{" + body + "}" if _needs_group(tex, start) else body
        tex = tex[:start] + replacement + tex[end:]
        position = start  # the expansion may itself contain macros
        expansions += 1
        if expansions > MAX_EXPANSIONS:
            raise MacroError(f"macro \\{macro.name} expands without end (is it recursive?)")


def _next_macro(tex: str, macros: dict[str, Macro], position: int):
    for match in _uses_of(tuple(macros)).finditer(tex, position):
        if not _is_escaped(tex, match.start()):
            return match.start(), match.end(), macros[match.group(1)]
    return None


@functools.lru_cache(maxsize=64)
def _uses_of(names: tuple[str, ...]) -> re.Pattern[str]:
    """A control word naming one of the macros: the words _CONTROL_WORD finds, only those (a
    control word is a backslash and every letter after it, so each starts where one of them
    does), tried in C rather than looked up one by one."""
    longest_first = sorted(names, key=len, reverse=True)
    return re.compile(r"\\(" + "|".join(map(re.escape, longest_first)) + r")(?![A-Za-z])")


def _is_escaped(tex: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and tex[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def _needs_group(tex: str, start: int) -> bool:
    before = tex[:start].rstrip(" ")
    return before.endswith(("^", "_"))


def _read_arguments(tex: str, position: int, macro: Macro) -> tuple[list[str], int]:
    arguments = []
    for _ in range(macro.args):
        while position < len(tex) and tex[position] == " ":
            position += 1
        if position >= len(tex):
            raise MacroError(f"macro \\{macro.name} needs {macro.args} argument(s)")
        if tex[position] == "{":
            end = _closing_brace(tex, position, macro)
            arguments.append(tex[position + 1 : end])
            position = end + 1
        elif tex[position] == "\\":
            word = _CONTROL_WORD.match(tex, position)
            end = word.end() if word else position + 2
            arguments.append(tex[position:end])
            position = end
        else:
            arguments.append(tex[position])
            position += 1
    return arguments, position


def _closing_brace(tex: str, start: int, macro: Macro) -> int:
    depth = 0
    index = start
    while index < len(tex):
        char = tex[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise MacroError(f"unbalanced braces in the argument of \\{macro.name}")


def recursive_macros(macros: dict[str, Macro]) -> list[Macro]:
    """Macros whose expansion reaches themselves again (directly or through others)."""
    uses = {
        name: {word for word in _CONTROL_WORD.findall(macro.body) if word in macros}
        for name, macro in macros.items()
    }
    recursive = []
    for name in macros:
        seen, stack = set(), list(uses[name])
        while stack:
            current = stack.pop()
            if current == name:
                recursive.append(macros[name])
                break
            if current not in seen:
                seen.add(current)
                stack.extend(uses[current])
    return recursive
