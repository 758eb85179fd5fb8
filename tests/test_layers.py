"""The layout's rules (docs/architecture.md), checked on the source: imports only point down the layers,
gradio lives only in the page's package, and `LIIF_*` variables are read only in liif/settings.py."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "liif"

# Lowest first: a module may import its own layer and the layers before it, never one after it.
LAYERS = ["settings", "core", "render", "evaluation", "training", "lessons", "page", "api", "cli"]


def layer_of(module: str) -> str:
    """'liif.render.engine' -> 'render'; 'liif' itself (for `from liif import settings`) -> 'settings'."""
    parts = module.split(".")
    if parts[0] != "liif":
        raise ValueError(module)
    if len(parts) == 1:
        return "settings"
    return "cli" if parts[1] == "__main__" else parts[1]


def _module_name(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list:
    """(line, imported module) for every import in the file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "liif":  # `from liif import settings`: the names are the modules
                found += [(node.lineno, f"liif.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _sources() -> list:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    assert {layer_of(_module_name(path)) for path in _sources()} - {"liif"} <= set(LAYERS)


def test_imports_only_point_down_the_layers():
    wrong = []
    for path in _sources():
        own = LAYERS.index(layer_of(_module_name(path)))
        for line, module in imports_of(path):
            if module.split(".")[0] == "liif" and LAYERS.index(layer_of(module)) > own:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module} (a higher layer)")
    assert not wrong, "\n".join(wrong)


def test_gradio_is_imported_only_by_the_page():
    wrong = [f"{path.relative_to(REPO)}:{line} imports {module}" for path in _sources()
             for line, module in imports_of(path)
             if module.split(".")[0] in ("gradio", "gradio_client") and layer_of(_module_name(path)) != "page"]
    assert not wrong, "\n".join(wrong)


def test_liif_variables_are_read_only_in_settings():
    """No `LIIF_` name outside liif/settings.py: every other module asks settings for its value."""
    wrong = []
    for path in _sources():
        if path.name == "settings.py" and path.parent == PACKAGE:
            continue
        for number, text in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""["']LIIF_[A-Z_]+["']|environ[^\n]*LIIF_""", text):
                wrong.append(f"{path.relative_to(REPO)}:{number}: {text.strip()}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_checker_catches_an_upward_import(tmp_path):
    """The checker itself: an import from a higher layer in a core module is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from liif.page import session\n")
    assert [module for _, module in imports_of(bad)] == ["liif.page"]
    assert LAYERS.index(layer_of("liif.page.session")) > LAYERS.index(layer_of("liif.core.model"))


def _liif_imports(path: Path) -> set:
    """The liif modules a file imports (`from liif.lessons import probe_words` -> liif.lessons.probe_words)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("liif.")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("liif"):
            for alias in node.names:
                named = f"{node.module}.{alias.name}"
                module = PACKAGE.parent / Path(*named.split("."))
                found.add(named if module.with_suffix(".py").is_file() or module.is_dir() else node.module)
    return found


def test_no_modules_import_each_other_in_a_circle():
    """A circle (probe_results -> probe_words -> probe_results) works only through imports hidden in functions
    and makes each module unreadable without the others."""
    graph = {_module_name(path): _liif_imports(path) for path in _sources()}
    circles = []

    def visit(module, trail):
        for imported in sorted(graph.get(module, ())):
            if imported in trail:
                circles.append(" -> ".join(trail[trail.index(imported):] + [imported]))
            elif imported not in done:
                visit(imported, trail + [imported])
        done.add(module)

    done = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not circles, "\n".join(sorted(set(circles)))
