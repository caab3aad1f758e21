"""The registry's tags for the modelled images, expanded from `tags.yaml` (release history as data).

Why data and not code: which tags exist is a fact about the registry with a source and a date, and it goes
stale; a table that says where it came from is checked and refreshed by reading, not by debugging. The
expansion mirrors how the official images tag: every patch release (1.27.5), its line (1.27 -> newest patch),
its major (1 -> newest 1.x) where the image publishes majors, named aliases (latest, stable, lts), each with
the variants that release publishes (1.27.5-alpine, 1.27-alpine, 1-alpine, alpine, stable-alpine).

`published(repository)` answers `{tag: version}` for one repository (None when the file does not know it);
`entry(repository)` the raw entry with its `source` and `as_of`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DATA_FILE", "entry", "lines", "published", "repositories"]

DATA_FILE = Path(__file__).with_name("tags.yaml")


@cache
def _data() -> dict[str, dict[str, Any]]:
    with DATA_FILE.open(encoding="utf-8") as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    images = doc["images"]
    for repo, e in images.items():
        missing = {"source", "as_of"} - set(e)
        if missing:
            raise ValueError(f"{DATA_FILE.name}: {repo} lacks {sorted(missing)}")
    return images


def repositories() -> list[str]:
    return list(_data())


def entry(repository: str) -> dict[str, Any] | None:
    return _data().get(repository)


def _patches(spec: str | list[int], last: int | None = None) -> list[int]:
    """`"0..5"` → 0…5, `"3.."` → 3…`last`, `[1, 4]` → [1, 4]."""
    if isinstance(spec, list):
        return [int(p) for p in spec]
    m = re.fullmatch(r"(\d+)\.\.(\d*)", str(spec))
    if not m:
        raise ValueError(f"{DATA_FILE.name}: bad patch range {spec!r}")
    hi = int(m.group(2)) if m.group(2) else last
    if hi is None:
        raise ValueError(f"{DATA_FILE.name}: open range {spec!r} needs the line's patches")
    return list(range(int(m.group(1)), hi + 1))


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version))


def lines(repository: str) -> dict[str, list[str]]:
    """{line: its versions, oldest first} (`"1.27": ["1.27.0", …, "1.27.5"]`; a line with no patch: [line])."""
    e = entry(repository) or {}
    out: dict[str, list[str]] = {}
    for line, spec in (e.get("lines") or {}).items():
        _check_str(repository, line)
        out[line] = [f"{line}.{p}" for p in _patches(spec)] or [line]
    return out


def _check_str(repository: str, value: object) -> None:
    if not isinstance(value, str):  # an unquoted 3.10 in YAML is the float 3.1
        raise ValueError(f"{DATA_FILE.name}: {repository}: quote {value!r} (tags and versions are strings)")


@cache
def published(repository: str) -> dict[str, str] | None:
    """Every tag the registry has for `repository` → the version it carries; None when the data has no entry."""
    e = entry(repository)
    if e is None:
        return None
    by_line = lines(repository)
    versions = sorted((v for vs in by_line.values() for v in vs), key=_vkey)
    # which versions publish each variant
    has: dict[str, set[str]] = {}
    for variant, where in (e.get("variants") or {}).items():
        if where == "all":
            has[variant] = set(versions)
            continue
        chosen: set[str] = set()
        for line, spec in where.items():
            known = by_line.get(line)
            if known is None:
                raise ValueError(f"{DATA_FILE.name}: {repository}: variant {variant} names unknown line {line}")
            last = max(_patches(e["lines"][line]), default=0)
            chosen |= {f"{line}.{p}" for p in _patches(spec, last)} & set(known)
        has[variant] = chosen

    out: dict[str, str] = {}

    def add(tag: str, version: str) -> None:
        out[tag] = version
        for variant, vs in has.items():
            if version in vs:
                out[f"{tag}-{variant}"] = version

    for line, vs in by_line.items():
        for v in vs:
            add(v, v)
        add(line, vs[-1])
    if e.get("majors"):
        newest: dict[str, str] = {}
        for v in versions:
            newest[v.split(".")[0]] = v
        for major, v in newest.items():
            add(major, v)
    aliases = e.get("aliases") or {}
    for alias, v in aliases.items():
        _check_str(repository, v)
        out[alias] = v
    latest = aliases.get("latest")
    for variant, vs in has.items():
        if latest in vs:
            out[variant] = latest
    for alias in e.get("variant_aliases") or []:
        for variant, vs in has.items():
            if aliases[alias] in vs:
                out[f"{alias}-{variant}"] = aliases[alias]
    for tag, v in (e.get("tags") or {}).items():
        _check_str(repository, tag)
        _check_str(repository, v)
        out[tag] = v
    return out
