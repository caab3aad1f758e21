"""The first gate for synthesized code: an AST allowlist, run before anything executes.

Why an allowlist and not a sandbox alone: most escapes from Python need a recognisable step — importing `os`,
calling `eval`, walking dunder attributes (`().__class__.__base__.__subclasses__()`), reaching a frame
(`gi_frame.f_back.f_globals`) or asking `str.format` to do the walk. Refusing those shapes up front gives the
person (and the synthesizing model) a precise reason with a line number, and the run-time layers in
`child.py` (restricted builtins, module proxies, an audit hook, resource limits) stay as the defence in depth
for whatever this gate misses.
"""

from __future__ import annotations

import ast

# Pure-computation standard modules a tool may import. Each is preloaded in the child and handed to the tool as a
# proxy holding only its public, non-module attributes (so `statistics.sys` or `json.codecs` do not exist there).
ALLOWED_IMPORTS: frozenset[str] = frozenset({
    "re", "json", "math", "datetime", "collections", "collections.abc", "itertools", "functools", "statistics",
    "fnmatch", "ipaddress", "typing", "heapq", "bisect", "textwrap", "decimal", "fractions",
})

# Builtins that give a way out of the allowlist (code execution, files, introspection of scopes, interaction).
BANNED_NAMES: frozenset[str] = frozenset({
    "__import__", "eval", "exec", "compile", "open", "input", "breakpoint", "globals", "locals", "vars", "help",
    "exit", "quit", "memoryview", "copyright", "credits", "license",
})

# Attribute-by-name builtins: allowed only as a direct call with a literal, public attribute name.
ATTR_FUNCS: frozenset[str] = frozenset({"getattr", "setattr", "delattr", "hasattr"})

# Attributes that reach frames, code objects or scopes without a dunder in their name.
FRAME_ATTRS: frozenset[str] = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "gi_running", "cr_frame", "cr_code", "cr_await", "cr_origin",
    "ag_frame", "ag_code", "ag_await", "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "f_trace",
    "f_lasti", "tb_frame", "tb_next", "co_code", "co_consts", "co_names", "mro",
})

# str.format / format_map evaluate `{0.attr[key]}` fields: an attribute walk hidden inside a string.
FORMAT_ATTRS: frozenset[str] = frozenset({"format", "format_map"})

# Dunder names whose mention inside a string literal signals an attribute walk being assembled.
SUSPICIOUS_DUNDERS: tuple[str, ...] = (
    "__class__", "__base__", "__bases__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__dict__",
    "__code__", "__import__", "__closure__", "__getattribute__", "__reduce__", "__loader__", "__spec__",
    "__self__", "__func__", "__traceback__",
)

# namedtuple's documented public API starts with an underscore (to stay clear of field names).
NAMEDTUPLE_ATTRS: frozenset[str] = frozenset({"_asdict", "_replace", "_fields", "_make", "_field_defaults"})

MAX_CODE_CHARS = 100_000


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


class _Checker(ast.NodeVisitor):
    """Collects every refusal (not just the first), each with its line, so one round of repair can fix them all."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def refuse(self, node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", None)
        msg = f"line {line}: {why}" if line else why
        if msg not in self.reasons:
            self.reasons.append(msg)

    # -- imports ---------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                self.refuse(node, f"import of {alias.name!r} is not allowed (tools may import only: "
                                  f"{', '.join(sorted(ALLOWED_IMPORTS))})")
            if alias.asname and _dunder(alias.asname):
                self.refuse(node, f"importing as the dunder name {alias.asname!r} is not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.refuse(node, "relative imports are not allowed")
            return
        mod = node.module or ""
        if mod not in ALLOWED_IMPORTS:
            self.refuse(node, f"import from {mod!r} is not allowed (tools may import only: "
                              f"{', '.join(sorted(ALLOWED_IMPORTS))})")
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"`from {mod} import *` is not allowed: name what you use")
            elif alias.name.startswith("_"):
                self.refuse(node, f"importing the private name {alias.name!r} from {mod!r} is not allowed")
            if alias.asname and _dunder(alias.asname):
                self.refuse(node, f"importing as the dunder name {alias.asname!r} is not allowed")

    # -- names and attributes --------------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in BANNED_NAMES:
            self.refuse(node, f"`{node.id}` is not allowed in tools (no code execution, files, scope "
                              "introspection or interaction)")
        elif _dunder(node.id):
            self.refuse(node, f"the dunder name `{node.id}` is not allowed")
        elif node.id in ATTR_FUNCS:
            # direct calls are judged in visit_Call; anything else passes the function around unchecked
            self.refuse(node, f"`{node.id}` may only be called directly with a literal attribute name")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._attr(node, node.attr)
        self.generic_visit(node)

    def _attr(self, node: ast.AST, attr: str) -> None:
        if _dunder(attr):
            self.refuse(node, f"dunder attribute access `.{attr}` is not allowed (it reaches Python internals)")
        elif attr.startswith("_") and attr not in NAMEDTUPLE_ATTRS:
            self.refuse(node, f"private attribute access `.{attr}` is not allowed")
        elif attr in FRAME_ATTRS:
            self.refuse(node, f"attribute `.{attr}` reaches frames or code objects and is not allowed")
        elif attr in FORMAT_ATTRS:
            self.refuse(node, f"`.{attr}()` can read attributes through its format fields; use an f-string")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTR_FUNCS:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.refuse(node, f"`{func.id}` needs a literal attribute name (a computed name could be a dunder)")
            elif name.value.startswith("_") or name.value in FRAME_ATTRS or name.value in FORMAT_ATTRS:
                self.refuse(node, f"`{func.id}` of {name.value!r} is not allowed (private, dunder or frame "
                                  "attribute)")
            for arg in node.args:
                self.visit(arg)
            for kw in node.keywords:
                self.visit(kw)
            return
        if isinstance(func, ast.Name) and func.id == "type" and len(node.args) + len(node.keywords) > 1:
            self.refuse(node, "building classes with `type(name, bases, dict)` is not allowed; use a class statement")
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:
            self._attr(node, attr)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            hit = next((d for d in SUSPICIOUS_DUNDERS if d in node.value), None)
            if hit:
                self.refuse(node, f"a string mentioning {hit!r} looks like an attribute walk and is not allowed")

    # -- definitions -------------------------------------------------------------------------------
    def visit_Global(self, node: ast.Global) -> None:
        self._scope_names(node, node.names, "global")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._scope_names(node, node.names, "nonlocal")

    def _scope_names(self, node: ast.AST, names: list[str], kw: str) -> None:
        for n in names:
            if _dunder(n) or n in BANNED_NAMES:
                self.refuse(node, f"`{kw} {n}` is not allowed")

    def visit_arg(self, node: ast.arg) -> None:
        if _dunder(node.arg):
            self.refuse(node, f"the dunder parameter name `{node.arg}` is not allowed")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name and _dunder(node.name):
            self.refuse(node, f"binding an exception to the dunder name `{node.name}` is not allowed")
        self.generic_visit(node)


def _main_reason(tree: ast.Module) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "main":
            return "`main` must be a plain `def main(kube, **args)`, not async"
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            if not (node.args.posonlyargs or node.args.args):
                return "`main` must take the Kubernetes handle as its first parameter: `def main(kube, **args)`"
            return None
    return "the code must define `def main(kube, **args)` at the top level"


def check(code: str) -> list[str]:
    """Human-readable reasons `code` is refused as a tool; an empty list means accepted."""
    if not isinstance(code, str) or not code.strip():
        return ["the tool has no code"]
    if len(code) > MAX_CODE_CHARS:
        return [f"the tool's code is {len(code)} characters; the limit is {MAX_CODE_CHARS}"]
    try:
        tree = ast.parse(code, filename="<tool>", mode="exec")
    except SyntaxError as e:
        return [f"line {e.lineno}: syntax error: {e.msg}"]
    except (ValueError, RecursionError, MemoryError) as e:
        return [f"the code cannot be parsed: {e}"]
    checker = _Checker()
    try:
        checker.visit(tree)
    except RecursionError:
        return ["the code is nested too deeply to check"]
    main = _main_reason(tree)
    return checker.reasons + ([main] if main else [])
