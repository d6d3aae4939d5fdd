"""The environment variables the app reads, collected from the source with `ast`.

Counted: calls of assistant/config.py's readers (env_str, env_int, env_bool, env_float, env_list,
env_url, env_secret, env_choice, env_proxy_ssl_header) and reads of os.environ (`.get`, `[...]`,
`os.getenv`). A name built from a parameter (`env_str(f"{prefix}_MODEL")`, `env_str(variable)`)
is expanded with the string constants passed for that parameter in the same module.
Writes (`os.environ[...] = `, `setdefault`) are not reads and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("assistant", "memory", "connectors", "inference")
# Benchmarks and their helpers are developer tools, not the deployed app.
SKIPPED_PARTS = {"bench", "migrations_bench"}
READERS = {
    "env_str",
    "env_int",
    "env_bool",
    "env_float",
    "env_list",
    "env_url",
    "env_secret",
    "env_choice",
    "env_proxy_ssl_header",
}


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _name_argument(call: ast.Call) -> ast.expr | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name in READERS and call.args:
        return call.args[0]
    if isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value):
        return call.args[0] if call.args else None
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "getenv"
        and isinstance(func.value, ast.Name)
        and func.value.id == "os"
    ):
        return call.args[0] if call.args else None
    return None


def _constants_for(tree: ast.AST, function: str, index: int, parameter: str) -> list[str]:
    """String constants passed as `parameter` (position `index`) to `function` in this module."""
    values = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function:
            args = list(node.args)
            candidates = [args[index]] if index < len(args) else []
            candidates += [kw.value for kw in node.keywords if kw.arg == parameter]
            values += [
                c.value
                for c in candidates
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            ]
    return values


def _expand(tree: ast.AST, func: ast.FunctionDef | None, expr: ast.expr) -> list[str]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if func is None:
        raise AssertionError(f"cannot resolve the variable name {ast.unparse(expr)}")
    params = [a.arg for a in func.args.posonlyargs + func.args.args]

    def values_of(name: str) -> list[str]:
        if name not in params:
            raise AssertionError(f"cannot resolve {name} in {func.name}()")
        return _constants_for(tree, func.name, params.index(name), name)

    if isinstance(expr, ast.Name):
        return values_of(expr.id)
    if isinstance(expr, ast.JoinedStr):
        names = [""]
        for part in expr.values:
            if isinstance(part, ast.Constant):
                names = [n + str(part.value) for n in names]
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                names = [n + v for n in names for v in values_of(part.value.id)]
            else:
                raise AssertionError(f"cannot resolve {ast.unparse(expr)}")
        return names
    raise AssertionError(f"cannot resolve the variable name {ast.unparse(expr)}")


def _reads(tree: ast.AST) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, func: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else func
            if isinstance(child, ast.Call):
                argument = _name_argument(child)
                if argument is not None:
                    found.update(_expand(tree, func, argument))
            elif (
                isinstance(child, ast.Subscript)
                and isinstance(child.ctx, ast.Load)
                and _is_os_environ(child.value)
            ):
                found.update(_expand(tree, func, child.slice))
            visit(child, inner)

    visit(tree, None)
    return found


def app_env_names() -> dict[str, list[str]]:
    """{variable: [files reading it]} over the shipped packages."""
    names: dict[str, list[str]] = {}
    for part in SHIPPED:
        for path in sorted((ROOT / part).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if SKIPPED_PARTS & set(relative.parts) or relative.name == "config.py":
                continue
            for name in _reads(ast.parse(path.read_text(), filename=str(path))):
                names.setdefault(name, []).append(str(relative))
    return names
