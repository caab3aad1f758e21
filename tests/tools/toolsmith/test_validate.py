"""The AST gate: realistic tools pass; each refusal names the construct and its line."""

from __future__ import annotations

import pytest

from tools.toolsmith.validate import ALLOWED_IMPORTS, check

LEGIT = {
    "list_and_filter": '''
import re
from datetime import datetime, timezone

def main(kube, namespace="shop", pattern="web-.*"):
    """Pods whose name matches a pattern, with their age in hours."""
    now = datetime.now(timezone.utc)
    out = []
    for p in kube.list("Pod", namespace):
        name = p["metadata"]["name"]
        if re.match(pattern, name):
            born = datetime.fromisoformat(p["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
            out.append({"name": name, "age_h": round((now - born).total_seconds() / 3600, 1)})
    return sorted(out, key=lambda d: d["name"])
''',
    "counter_and_class": '''
from collections import Counter, namedtuple
import collections.abc

Row = namedtuple("Row", "kind count")

class Tally:
    def __init__(self):
        self.seen = Counter()

    def add(self, kind):
        self.seen[kind] += 1

def main(kube, **args):
    t = Tally()
    for e in kube.list("Event", args.get("namespace")):
        t.add(e.get("reason", "?"))
    rows = [Row(k, n)._asdict() for k, n in t.seen.most_common()]
    return {"rows": rows, "mapping": isinstance(args, collections.abc.Mapping)}
''',
    "kube_error_and_getattr": '''
def main(kube, name):
    try:
        d = kube.get("Deployment", "shop", name)
    except KubeError as e:
        return {"error": e.message, "status": e.status}
    spec = d.get("spec") or {}
    return {"replicas": spec.get("replicas"), "has_get": hasattr(kube, "get"), "x": getattr(kube, "list") is not None}
''',
    "match_and_fstring": '''
import math

def main(kube, values=(1, 2, 3)):
    match list(values):
        case [first, *rest]:
            head = first
        case _:
            head = None
    return f"{head} then {len(values) - 1} more; ceil={math.ceil(2.5)}; pct={'%d%%' % 50}"
''',
}


@pytest.mark.parametrize("name", sorted(LEGIT))
def test_realistic_tools_are_accepted(name):
    assert check(LEGIT[name]) == []


REFUSED = [
    ("import os\ndef main(kube):\n    return 1\n", "line 1: import of 'os' is not allowed"),
    ("from subprocess import run\ndef main(kube):\n    return 1\n", "line 1: import from 'subprocess' is not allowed"),
    ("import os.path\ndef main(kube):\n    return 1\n", "import of 'os.path' is not allowed"),
    ("from . import x\ndef main(kube):\n    return 1\n", "relative imports are not allowed"),
    ("from math import *\ndef main(kube):\n    return 1\n", "`from math import *` is not allowed"),
    ("from collections import _chain\ndef main(kube):\n    return 1\n", "private name '_chain'"),
    ("def main(kube):\n    return open('/etc/passwd').read()\n", "line 2: `open` is not allowed"),
    ("def main(kube):\n    x = 1\n    return eval('x')\n", "line 3: `eval` is not allowed"),
    ("def main(kube):\n    return ().__class__\n", "line 2: dunder attribute access `.__class__`"),
    ("def main(kube):\n    return kube._rpc\n", "private attribute access `._rpc`"),
    ("def main(kube):\n    return getattr(kube, 'g' + 'et')\n", "`getattr` needs a literal attribute name"),
    ("def main(kube):\n    return getattr(kube, '_x')\n", "`getattr` of '_x' is not allowed"),
    ("def main(kube):\n    f = getattr\n    return f(kube, 'x')\n", "`getattr` may only be called directly"),
    ("def main(kube):\n    return type('X', (), {})\n", "building classes with `type(name, bases, dict)`"),
    ("def main(kube):\n    return '{0}'.format(1)\n", "`.format()` can read attributes"),
    ("def main(kube):\n    return '__globals__'\n", "a string mentioning '__globals__'"),
    ("def main(kube):\n    return __builtins__\n", "the dunder name `__builtins__`"),
    ("def g():\n    yield 1\ndef main(kube):\n    return g().gi_frame\n", "line 4: attribute `.gi_frame` reaches frames"),
    ("def main(kube):\n    match kube:\n        case object(__class__=c):\n            return c\n",
     "line 3: dunder attribute access `.__class__`"),
    ("def main(kube):\n    global __name__\n    return 1\n", "`global __name__` is not allowed"),
    ("def helper(kube):\n    return 1\n", "must define `def main(kube, **args)`"),
    ("async def main(kube):\n    return 1\n", "not async"),
    ("def main():\n    return 1\n", "first parameter"),
    ("def main(kube)\n    return 1\n", "line 1: syntax error"),
    ("", "the tool has no code"),
]


@pytest.mark.parametrize(("code", "reason"), REFUSED, ids=[r[1][:40] for r in REFUSED])
def test_refusals_name_the_construct_and_line(code, reason):
    reasons = check(code)
    assert reasons, "the code was accepted"
    assert any(reason in r for r in reasons), reasons


def test_every_problem_is_reported_at_once():
    code = "import os\nimport socket\ndef main(kube):\n    return eval(os.__name__)\n"
    reasons = check(code)
    assert len(reasons) == 4, reasons
    assert [r.split(":")[0] for r in reasons] == ["line 1", "line 2", "line 4", "line 4"]


def test_the_allowlist_holds_no_module_that_reaches_the_system():
    dangerous = {"os", "sys", "subprocess", "socket", "importlib", "ctypes", "pickle", "marshal", "builtins", "io",
                 "pathlib", "shutil", "threading", "multiprocessing", "inspect", "gc", "operator", "string", "types",
                 "code", "codecs", "urllib", "http", "signal", "resource", "dataclasses", "copy", "time"}
    assert not dangerous & {m.split(".")[0] for m in ALLOWED_IMPORTS}


def test_oversized_code_is_refused():
    assert "limit" in check("def main(kube):\n    return 1\n" + "#" * 200_000)[0]
