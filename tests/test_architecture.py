"""Data flows one way: every `builder/*.py` module sits in one layer of LAYERS, imports only from
its own layer or the ones below, and no import cycle exists. Read from the sources with `ast`
(imports inside functions count: a lazy import is still a dependency).

An import under `if TYPE_CHECKING:` never runs: it must respect the layers too, but takes no
part in cycles (a kind's functions name `model.Card` in their annotations while model holds
the kinds).
"""

from __future__ import annotations

import ast
from pathlib import Path

BUILDER = Path(__file__).resolve().parent.parent / "builder"

# The one declaration of the layers, lowest first. A module may import from its own layer and
# the layers below it, never from one above. docs/architecture.md explains each layer.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "foundation",
        frozenset(
            {
                "__init__",
                "ankiconnect",
                "atomic",
                "bounds",
                "cache",
                "content_hash",
                "figure_server",
                "forked",
                "lockfile",
                "lock_repair",
                "macros",
                "fields",
                "value_types",
                "image_formats",
                "mathjax",
                "mathjax_install",
                "mathjax_snapshot",
                "mathjax_typeset",
                "phone_budget",
                "problems",
                "source_position",
                "versions",
                "yamlsource",
                "yaml_loader",
                "anki_notes",
                "card_yaml",
                "user_cache",
                "records",
            }
        ),
    ),
    (
        "markdown_math",
        frozenset(
            {
                "markdown_math",
                "cloze",
                "markdown_extensions",
                "markdown_paragraph",
                "markdown_arithmatex",
                "sanitize",
                "html_to_markdown",
                "field_edits",
            }
        ),
    ),
    ("domain", frozenset({"kinds", "model", "card_kind"})),
    ("load", frozenset({"load", "card_file", "schema", "project"})),
    (
        "check",
        frozenset(
            {
                "check_math",
                "html_audit",
                "check",
                "coverage",
                "lint",
                "lint_rules",
                "lint_duplicates",
                "lint_text",
                "near_duplicates",
                "token_sets",
                "prose_stems",
                "sorted_arrays",
                "tex_tokens",
            }
        ),
    ),
    ("render", frozenset({"render", "highlight"})),
    ("figures", frozenset({"figure_drawing", "figures"})),
    (
        "package",
        frozenset(
            {
                "identity",
                "release",
                "package",
                "package_collection",
                "package_zip",
                "genanki_layout",
            }
        ),
    ),
    (
        "build",
        frozenset(
            {
                "options",
                "commit",
                "memo",
                "memo_check",
                "memo_package",
                "parsed_cards",
                "stages",
                "stages_check",
                "build",
                "build_stamp",
                "build_stamp_record",
                "lock_file_repair",
                "build_summary",
                "prepare",
                "changes",
                "watch",
                "bench",
                "bench_decks",
                "bench_halves",
                "bench_floor",
                "bench_runs",
                "bench_table",
                "lint_bench",
                "lint_memo",
                "scaffold",
            }
        ),
    ),
    (
        "outputs",
        frozenset(
            {
                "sheet",
                "sheet_markdown",
                "sheet_html",
                "preview",
                "notes_csv",
                "push_match",
                "push_plan",
                "push_notes",
                "export",
                "push",
                "pull_report",
                "pull_match",
                "pull",
            }
        ),
    ),
    (
        "cli",
        frozenset(
            {
                "cli_report",
                "cli_options",
                "cli_summary",
                "cli_build",
                "cli_sources",
                "cli_outputs",
                "cli_pull",
                "cli_bench",
                "cli_app",
                "cli_replay",
                "cli_build_run",
                "cli_console",
                "cli_plain",
                "cli",
            }
        ),
    ),
)


def layer_of(layers=LAYERS) -> dict[str, int]:
    return {module: index for index, (_, modules) in enumerate(layers) for module in modules}


def builder_imports(
    folder: Path = BUILDER,
) -> dict[str, dict[str, list[tuple[int, bool, tuple[str, ...]]]]]:
    """module → imported builder module → [(line, type_checking_only, names imported)]."""
    modules = {path.stem for path in folder.glob("*.py")}
    graph = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, list] = {}
        for node, type_checking in _imports(tree):
            for target, names in _targets(node, modules):
                if target != path.stem:
                    edges.setdefault(target, []).append((node.lineno, type_checking, names))
        graph[path.stem] = edges
    return graph


def _imports(tree: ast.AST, type_checking: bool = False):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, type_checking
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), True)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), type_checking)
        else:
            yield from _imports(node, type_checking)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, modules: set[str]):
    """(builder module, names taken from it) for one import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == "builder" and len(parts) > 1 and parts[1] in modules:
                yield parts[1], ()
        return
    package = node.level == 1 or (
        node.level == 0 and (node.module or "").split(".")[0] == "builder"
    )
    if not package:
        return
    path = node.module.split(".") if node.module else []
    if node.level == 0:
        path = path[1:]
    if path and path[0] in modules:
        yield path[0], tuple(alias.name for alias in node.names)
    elif not path:  # from . import figures
        for alias in node.names:
            if alias.name in modules:
                yield alias.name, ()


def back_edges(graph, layers=LAYERS) -> list[str]:
    rank = layer_of(layers)
    names = [name for name, _ in layers]
    return [
        f"builder/{module}.py:{line}: imports {target} ({names[rank[target]]}), a layer above "
        f"{module} ({names[rank[module]]})"
        for module, edges in sorted(graph.items())
        for target, uses in sorted(edges.items())
        for line, _, _ in uses
        if rank[target] > rank[module]
    ]


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over runtime imports."""
    runtime = {
        module: sorted(t for t, uses in edges.items() if any(not tc for _, tc, _ in uses))
        for module, edges in graph.items()
    }
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in runtime.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in runtime.get(module, ()):
                found.append(sorted(component))

    for module in sorted(runtime):
        if module not in index:
            visit(module)
    return found


def private_imports(graph) -> list[str]:
    return [
        f"builder/{module}.py:{line}: imports the private name {name} from {target}"
        for module, edges in sorted(graph.items())
        for target, uses in sorted(edges.items())
        for line, _, names in uses
        for name in names
        if name.startswith("_")
    ]


def import_path(graph, start: str, goal: str) -> list[str]:
    """The modules from `start` to `goal` over runtime imports (lazy ones included), or []."""
    came_from, todo = {start: start}, [start]
    while todo:
        module = todo.pop(0)
        if module == goal:
            path = [module]
            while path[-1] != start:
                path.append(came_from[path[-1]])
            return path[::-1]
        for target, uses in sorted(graph.get(module, {}).items()):
            if target not in came_from and any(not type_checking for _, type_checking, _ in uses):
                came_from[target] = module
                todo.append(target)
    return []


# The stages are pure functions of their inputs: the build memoises them (builder/memo.py), as
# Black keeps its cache outside the formatter.
STAGES = (
    "load",
    "check",
    "check_math",
    "render",
    "figures",
    "figure_drawing",
    "package",
    "package_collection",
)


# ---------------------------------------------------------------- the rules, on builder/


def test_every_module_is_in_exactly_one_layer():
    declared = [module for _, modules in LAYERS for module in modules]
    assert len(declared) == len(set(declared)), "a module is declared in two layers"
    actual = {path.stem for path in BUILDER.glob("*.py")}
    assert actual - set(declared) == set(), "declare the new module's layer in LAYERS"
    assert set(declared) - actual == set(), "LAYERS names a module that no longer exists"


def test_no_module_imports_a_layer_above_it():
    assert back_edges(builder_imports()) == []


def test_no_import_cycles():
    assert cycles(builder_imports()) == []


def test_no_private_name_is_imported_across_modules():
    assert private_imports(builder_imports()) == []


def test_no_stage_reaches_the_build_cache():
    graph = builder_imports()
    assert {
        stage: " -> ".join(import_path(graph, stage, "cache"))
        for stage in STAGES
        if import_path(graph, stage, "cache")
    } == {}


def test_only_cli_uses_the_console():
    """Rich and Typer (the console, exit codes) belong to the cli layer alone."""
    cli_layer = dict(LAYERS)["cli"]
    printing = sorted(
        path.stem
        for path in BUILDER.glob("*.py")
        if path.stem not in cli_layer and _third_party(path.stem) & {"rich", "typer"}
    )
    assert printing == []


def _third_party(module: str) -> set[str]:
    tree = ast.parse((BUILDER / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# ---------------------------------------------------------------- negative controls


def _write(folder: Path, sources: dict[str, str]) -> Path:
    for name, text in sources.items():
        (folder / f"{name}.py").write_text(text, encoding="utf-8")
    return folder


def test_a_cycle_is_caught(tmp_path):
    graph = builder_imports(
        _write(
            tmp_path,
            {
                "a": "from .b import x\n",
                "b": "def f():\n    from . import c\n",  # a lazy import counts
                "c": "import builder.a\n",
                "d": "from .a import y\n",
            },
        )
    )
    assert cycles(graph) == [["a", "b", "c"]]


def test_a_type_checking_import_takes_no_part_in_cycles(tmp_path):
    graph = builder_imports(
        _write(
            tmp_path,
            {
                "a": "from .b import x\n",
                "b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n",
            },
        )
    )
    assert cycles(graph) == []
    assert graph["b"]["a"] == [(3, True, ("A",))]


def test_a_back_edge_and_a_private_import_are_caught(tmp_path):
    graph = builder_imports(
        _write(
            tmp_path,
            {
                "low": "def f():\n    from .high import _helper\n",
                "high": "from .low import f\n",
            },
        )
    )
    layers = (("bottom", frozenset({"low"})), ("top", frozenset({"high"})))
    assert back_edges(graph, layers) == [
        "builder/low.py:2: imports high (top), a layer above low (bottom)"
    ]
    assert private_imports(graph) == [
        "builder/low.py:2: imports the private name _helper from high"
    ]
    assert cycles(graph) == [["high", "low"]]


def test_a_stage_reaching_the_cache_through_another_module_is_caught(tmp_path):
    graph = builder_imports(
        _write(
            tmp_path,
            {
                "render": "from .typing_only import x\nfrom .helper import y\n",
                "typing_only": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .cache import "
                    "BuildCache\n"
                ),
                "helper": "def f():\n    from . import cache\n",
                "cache": "",
            },
        )
    )
    assert import_path(graph, "render", "cache") == ["render", "helper", "cache"]
    assert import_path(graph, "typing_only", "cache") == []
