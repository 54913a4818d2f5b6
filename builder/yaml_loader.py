"""PyYAML, imported as cheaply as a build can: its regular expressions compiled when first used,
and a safe loader that types no scalar but null (yamlsource.py turns its nodes into Nodes)."""

from __future__ import annotations

import functools
import re
import sys
import types

NULL_TAG = "tag:yaml.org,2002:null"
NULL_FORMS = ("", "~", "null", "Null", "NULL")  # YAML's null when written plain (unquoted)


@functools.cache
def pyyaml() -> types.ModuleType:
    """`yaml`, its modules' regular expressions compiled when first used: PyYAML's took ~10 ms of
    the ~15 of `import yaml` (Python compiles a pattern in Python; Reader.NON_PRINTABLE, a class
    of Unicode ranges, ~7 ms), and libyaml's parser with text_loader's resolver uses none of
    them (they are the pure-Python reader's and scanner's, the resolver's, a constructor's)."""
    compile_now = re.compile

    def compile_pyyaml_when_used(pattern, flags=0):
        if sys._getframe(1).f_globals.get("__name__", "").partition(".")[0] != "yaml":
            return compile_now(pattern, flags)  # anyone else's, as ever
        return _PatternWhenUsed(functools.partial(compile_now, pattern, flags))

    re.compile = compile_pyyaml_when_used
    try:
        import yaml
    finally:
        re.compile = compile_now
    return yaml


class _PatternWhenUsed:
    """Stands for a compiled pattern in PyYAML's classes, which only call its methods."""

    __slots__ = ("_compile", "_compiled")

    def __init__(self, compile_pattern) -> None:
        self._compile, self._compiled = compile_pattern, None

    def __getattr__(self, name: str):
        if self._compiled is None:
            self._compiled = self._compile()
        return getattr(self._compiled, name)


@functools.cache
def text_loader():
    """PyYAML's safe loader (libyaml's when PyYAML has it) typing no scalar but null: every other
    value is read as the text written anyway (yamlsource.py), and PyYAML's resolver, called in
    Python for every scalar to find its YAML 1.1 type, took a fifth of composing a card file."""
    yaml = pyyaml()

    tags = {
        yaml.ScalarNode: "tag:yaml.org,2002:str",
        yaml.SequenceNode: "tag:yaml.org,2002:seq",
        yaml.MappingNode: "tag:yaml.org,2002:map",
    }

    class TextLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def resolve(self, kind, value, implicit):
            if kind is yaml.ScalarNode and implicit[0] and value in NULL_FORMS:
                return NULL_TAG
            return tags[kind]

    return TextLoader
