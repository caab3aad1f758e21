"""Query-set files → validated `Case`s.

Why strict: a typo in a grader name or a key would silently drop a check and inflate the pass rate, so every
unknown key, missing field or wrong type is an error that names the file and the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASE_KEYS = {"id", "source", "query", "script", "principal", "namespace", "scenario", "seed", "speed", "settle_s",
             "setup", "expect_route", "approve", "domain", "tags", "timeout_s", "graders", "reference"}
FILE_KEYS = {"domain", "defaults", "cases", "description"}
APPROVE = {"yes": "approve", "no": "reject", "none": None, True: "approve", False: "reject", None: None}
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


class CaseError(ValueError):
    """A query-set file or case that cannot be used; the message names the file and the case."""


class NotAQuerySet(CaseError):
    """A YAML file of another format (a routing set, a bench task set): skipped when a whole folder is loaded."""


@dataclass
class Turn:
    say: str
    approve: str | None  # "approve" | "reject" | None (leave pending)


@dataclass
class Case:
    """One eval case, with defaults applied (see evals/README.md for the meaning of each field)."""

    id: str
    source: str
    turns: list[Turn]
    domain: str
    file: str
    principal: dict[str, Any] | None = None
    namespace: str | None = None
    scenario: str = "demo-shop"
    seed: int | None = None
    speed: float = 100.0
    settle_s: float = 1.5
    setup: list[dict[str, Any]] = field(default_factory=list)
    expect_route: list[str] = field(default_factory=list)
    approve: str = "reject"
    tags: list[str] = field(default_factory=list)
    timeout_s: float = 120.0
    graders: list[tuple[str, Any]] = field(default_factory=list)
    reference: list[Any] = field(default_factory=list)  # what a correct assistant does (evals/harness/references.py)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, so a case can cross a process boundary and land in the report."""
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        d = dict(d)
        d["turns"] = [Turn(**t) for t in d["turns"]]
        d["graders"] = [tuple(g) for g in d["graders"]]
        return cls(**d)


def _domain_from_name(path: Path) -> str:
    stem = path.stem
    return stem[len("cases_"):] if stem.startswith("cases_") else stem


def _approve(value: Any, where: str) -> str | None:
    key = value.lower() if isinstance(value, str) else value
    if key not in APPROVE:
        raise CaseError(f"{where}: approve must be yes, no or none, got {value!r}")
    return APPROVE[key]


def _graders(raw: Any, where: str) -> list[tuple[str, Any]]:
    from evals.harness.graders import REGISTRY

    if not isinstance(raw, list) or not raw:
        raise CaseError(f"{where}: graders must be a non-empty list")
    out = []
    for i, g in enumerate(raw):
        if isinstance(g, str):
            name, params = g, None
        elif isinstance(g, dict) and len(g) == 1:
            name, params = next(iter(g.items()))
        else:
            raise CaseError(f"{where}: grader #{i + 1} must be a name or a one-key mapping {{name: params}}, got {g!r}")
        if name not in REGISTRY:
            raise CaseError(f"{where}: unknown grader {name!r} (known: {', '.join(sorted(REGISTRY))})")
        try:
            REGISTRY[name].validate(params)
        except (TypeError, ValueError) as e:
            raise CaseError(f"{where}: grader {name}: {e}") from None
        out.append((name, params))
    return out


def _reference(raw: Any, where: str) -> list[Any]:
    """`reference:` steps: kubectl argument lists, manifests (kind + metadata) or {answer: text}."""
    steps = raw or []
    if not isinstance(steps, list):
        raise CaseError(f"{where}: reference must be a list of steps")
    for i, s in enumerate(steps):
        kubectl = isinstance(s, list) and s and all(isinstance(a, str) for a in s)
        answer = isinstance(s, dict) and set(s) == {"answer"} and isinstance(s["answer"], str)
        manifest = isinstance(s, dict) and s.get("kind") and isinstance(s.get("metadata"), dict)
        if not (kubectl or answer or manifest):
            raise CaseError(f"{where}: reference step #{i + 1} must be a kubectl argument list (strings), a manifest "
                            "(kind + metadata) or {answer: text}")
    return steps


def parse_case(raw: Any, file: Path, index: int, file_domain: str, defaults: dict[str, Any]) -> Case:
    """One case mapping → Case; raises CaseError naming the file and the case."""
    label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"
    where = f"{file}: case {label}"
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: a case must be a mapping, got {type(raw).__name__}")
    d = {**defaults, **raw}
    unknown = set(d) - CASE_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (known: {', '.join(sorted(CASE_KEYS))})")
    for key in ("id", "source"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise CaseError(f"{where}: `{key}` is required (a non-empty string)")
    if not _ID.match(d["id"]):
        raise CaseError(f"{where}: id may only use letters, digits, '_', '.', '-'")
    if ("query" in d) == ("script" in d):
        raise CaseError(f"{where}: give exactly one of `query` or `script`")
    case_approve = _approve(d.get("approve", "no"), where)
    if case_approve is None:
        raise CaseError(f"{where}: a case's approve must be yes or no (none is for script turns)")
    if "query" in d:
        if not isinstance(d["query"], str) or not d["query"].strip():
            raise CaseError(f"{where}: query must be a non-empty string")
        turns = [Turn(d["query"], case_approve)]
    else:
        if not isinstance(d["script"], list) or not d["script"]:
            raise CaseError(f"{where}: script must be a non-empty list of {{say, approve}}")
        turns = []
        for j, t in enumerate(d["script"]):
            if not isinstance(t, dict) or not isinstance(t.get("say"), str) or set(t) - {"say", "approve"}:
                raise CaseError(f"{where}: script turn #{j + 1} must be {{say: text, approve: yes|no|none}}")
            turns.append(Turn(t["say"], _approve(t.get("approve", d.get("approve", "no")), f"{where} turn #{j + 1}")))
    principal = d.get("principal")
    if principal is not None:
        if not isinstance(principal, dict) or not isinstance(principal.get("user"), str) or \
                set(principal) - {"user", "groups"} or not isinstance(principal.get("groups", []), list):
            raise CaseError(f"{where}: principal must be {{user: name, groups: [..]}} (or omitted for admin)")
    setup = d.get("setup") or []
    if not isinstance(setup, list) or not all(isinstance(m, dict) and m.get("kind") and
                                              isinstance(m.get("metadata"), dict) for m in setup):
        raise CaseError(f"{where}: setup must be a list of manifests (each with kind and metadata)")
    route = d.get("expect_route") or []
    if isinstance(route, str):
        route = [route]
    if not isinstance(route, list) or not all(isinstance(a, str) for a in route):
        raise CaseError(f"{where}: expect_route must be a list of agent labels")
    try:
        speed, settle, timeout = float(d.get("speed", 100.0)), float(d.get("settle_s", 1.5)), float(d.get("timeout_s", 120))
        seed = None if d.get("seed") is None else int(d["seed"])
    except (TypeError, ValueError):
        raise CaseError(f"{where}: speed, settle_s, timeout_s and seed must be numbers") from None
    tags = d.get("tags") or []
    if not isinstance(tags, list):
        raise CaseError(f"{where}: tags must be a list")
    scenario = str(d.get("scenario", "demo-shop"))
    if scenario.endswith((".yaml", ".yml")) and not Path(scenario).is_absolute() and (file.parent / scenario).exists():
        scenario = str((file.parent / scenario).resolve())
    return Case(id=d["id"], source=d["source"], turns=turns,
                domain=str(d.get("domain") or file_domain or (route[0] if route else "other")), file=str(file),
                principal=principal, namespace=d.get("namespace"), scenario=scenario, seed=seed, speed=speed,
                settle_s=settle, setup=setup, expect_route=route, approve=case_approve, tags=[str(t) for t in tags],
                timeout_s=timeout, graders=_graders(d.get("graders"), where),
                reference=_reference(d.get("reference"), where))


def load_file(path: str | Path) -> list[Case]:
    """Every case of one query-set file."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as e:
        raise CaseError(f"{path}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise CaseError(f"{path}: not valid YAML: {e}") from None
    domain, defaults = _domain_from_name(path), {}
    if isinstance(doc, dict) and "tasks" in doc and "cases" not in doc:
        raise NotAQuerySet(f"{path}: this is a task set in the toolsmith bench's format (`tasks:`, run by "
                           "evals/bench_toolsmith.py), not an eval query set (`cases:`, see evals/README.md)")
    if isinstance(doc, dict) and "cases" not in doc:
        raise NotAQuerySet(f"{path}: not an eval query set (no `cases:`; see evals/README.md)")
    if isinstance(doc, dict):
        unknown = set(doc) - FILE_KEYS
        if unknown:
            raise CaseError(f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))} "
                            f"(a query set is a list of cases or {{domain, defaults, cases}})")
        domain = str(doc.get("domain") or domain)
        defaults = doc.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise CaseError(f"{path}: defaults must be a mapping")
        doc = doc.get("cases")
    if not isinstance(doc, list):
        raise CaseError(f"{path}: expected a list of cases")
    if doc and isinstance(doc[0], dict) and "expect" in doc[0] and "graders" not in doc[0]:
        raise NotAQuerySet(f"{path}: this looks like a routing set (query + expect), not an eval query set")
    return [parse_case(raw, path, i, domain, defaults) for i, raw in enumerate(doc)]


def load_sets(paths: list[str | Path], skipped: list[str] | None = None) -> list[Case]:
    """All cases of several files (a folder: every *.yaml inside that is a query set; files of another format
    are listed in `skipped` with the reason); ids must be unique across them."""
    files: list[tuple[Path, bool]] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [(q, True) for q in sorted(p.glob("*.yaml"))]
        else:
            files.append((p, False))
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for f, from_folder in files:
        try:
            loaded = load_file(f)
        except NotAQuerySet as e:
            if not from_folder:
                raise
            if skipped is not None:
                skipped.append(str(e))
            continue
        for c in loaded:
            if c.id in seen:
                raise CaseError(f"{f}: case {c.id}: duplicate id (also in {seen[c.id]})")
            seen[c.id] = str(f)
            cases.append(c)
    return cases
