"""Reading the tree for the layout tests: which files name a method, and the import graph."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("edge3d", "training", "tests", "bench", "scripts", "plugins", ".ci")
SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".sh", ".toml", ".txt", ".cpp", ".cu", ".h", ".cuh",
                   ".cmake", ""}
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|_|\d)|[A-Z]?[a-z]+|\d+")


def source_files() -> Iterator[Path]:
    """Code, configs and scripts of the project (docs and benchmark tables excepted)."""
    for top in SOURCE_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT)
            if not path.is_file() or any((p.startswith(".") and p != ".ci") or p == "__pycache__"
                                         or p.startswith("build") for p in rel.parts):
                continue
            if path.suffix in SOURCE_SUFFIXES and path.suffix != ".md":
                yield path


def owns(method: str, path: Path) -> bool:
    """Whether ``path`` is one of ``method``'s own files: a folder or file named for it
    (``ssen/``, ``ssen.py``, ``ssen_synthetic.yaml``, ``test_ssen.py``, ``bm_ssen.py``)."""
    for part in path.relative_to(ROOT).parts:
        stem = part.split(".")[0]
        for prefix in ("", "test_", "bm_"):
            if stem == prefix + method or stem.startswith(prefix + method + "_"):
                return True
    return False


def words(identifier: str) -> list[str]:
    """``SphericalMaskParams`` / ``spherical_mask_params`` -> spherical, mask, params."""
    return [w.lower() for part in identifier.split("_") for w in _CAMEL.findall(part)]


def _contains(seq: list[str], sub: list[str]) -> bool:
    return any(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def naming_lines(method: str, path: Path) -> list[int]:
    """Lines of ``path`` whose code names ``method``: an identifier made of its words, or a
    string holding its name (comments and docstrings are prose, and excepted)."""
    key = method.split("_")
    literal = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(method)}(?![A-Za-z0-9])")
    text = path.read_text(errors="replace")
    hits: set[int] = set()
    if path.suffix == ".py":
        prose = _docstring_lines(ast.parse(text))
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and _contains(words(tok.string), key):
                hits.add(tok.start[0])
            elif tok.type == tokenize.STRING and tok.start[0] not in prose and \
                    literal.search(tok.string):
                hits.add(tok.start[0])
        return sorted(hits)
    for number, line in enumerate(text.splitlines(), 1):
        code = line.strip()
        if code.startswith(("#", "//", "*", "/*")):
            continue
        if literal.search(code):
            hits.add(number)
    return sorted(hits)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def import_graph(package: str = "edge3d") -> dict[str, set[str]]:
    """module -> the package's modules it imports, at any depth of the file (a lazy import in
    a function is still a dependency), except imports under ``if TYPE_CHECKING``."""
    modules = {module_name(p): p for p in (ROOT / package).rglob("*.py")
               if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for a in node.names:
                    full = f"{base}.{a.name}"
                    deps.add(full if full in modules else base)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
