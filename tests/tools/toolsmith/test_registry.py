"""The registry: tools survive restarts, are found again by a paraphrase of the request that made them (the real
MiniLM embedder), and keep their success/failure counts."""

from __future__ import annotations

import numpy as np
import pytest

from tools.toolsmith.registry import Registry, ToolRecord

TOOLS = {
    "pods_not_ready": ("List the pods in a namespace whose containers are not ready",
                       "which pods in shop aren't ready?"),
    "stale_cronjobs": ("CronJobs whose last schedule time is more than a day ago",
                       "cronjobs in batch that have not run for a day"),
    "deployment_images": ("The container images each deployment runs, with their tags",
                          "what image versions are my deployments using"),
    "services_without_endpoints": ("Services whose selector matches no ready pod, so they have no endpoints",
                                   "which services have no endpoints"),
    "restart_leaders": ("Containers ranked by restart count, highest first",
                        "top restarting containers in the cluster"),
    "pvc_unbound": ("PersistentVolumeClaims that are not bound to a volume", "pending volume claims"),
}

PARAPHRASES = [
    ("show me every pod that is not in a ready state", "pods_not_ready"),
    ("scheduled jobs that haven't fired in the last 24 hours", "stale_cronjobs"),
    ("what docker images and tags are my deployments running", "deployment_images"),
    ("which services are not backed by any pods", "services_without_endpoints"),
    ("which containers keep restarting the most", "restart_leaders"),
    ("storage claims still waiting for a volume", "pvc_unbound"),
]


def record(name: str, **kw) -> ToolRecord:
    desc, request = TOOLS[name]
    return ToolRecord(name=name, description=desc, code="def main(kube, **args):\n    return []\n",
                      params={"type": "object", "properties": {"namespace": {"type": "string"}}},
                      result_schema={"type": "array"}, provenance={"how": "plan", "request": request}, **kw)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    reg = Registry(tmp_path_factory.mktemp("registry"))
    for name in TOOLS:
        reg.add(record(name))
    return reg


@pytest.mark.parametrize(("query", "expected"), PARAPHRASES)
def test_search_finds_the_tool_by_paraphrase(filled: Registry, query: str, expected: str):
    hits = filled.search(query, k=3)
    assert len(hits) == 3
    assert hits[0][0].name == expected, [(r.name, round(s, 3)) for r, s in hits]
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0
    assert scores[0] - scores[1] > 0.02  # the right tool wins clearly, not by rounding


def test_the_exact_request_scores_near_one(filled: Registry):
    rec, score = filled.search("cronjobs in batch that have not run for a day", k=1)[0]
    assert rec.name == "stale_cronjobs" and score > 0.99


def test_add_get_replace_list_remove(tmp_path):
    reg = Registry(tmp_path)
    rec = record("pods_not_ready", mutates=False, test={"args": {"namespace": "shop"}, "expect": "list"},
                 plan={"call": "list", "kind": "Pod"})
    reg.add(rec)
    got = reg.get("pods_not_ready")
    assert got == rec
    assert reg.get("nope") is None
    reg.add(record("stale_cronjobs"))
    assert [r.name for r in reg.list()] == ["pods_not_ready", "stale_cronjobs"]
    changed = record("pods_not_ready")
    changed.code = "def main(kube, **args):\n    return ['changed']\n"
    reg.add(changed)  # same name: replaces
    assert reg.get("pods_not_ready").code == changed.code and len(reg.list()) == 2
    assert reg.remove("stale_cronjobs") is True
    assert reg.remove("stale_cronjobs") is False
    assert [r.name for r in reg.list()] == ["pods_not_ready"]
    assert (tmp_path / "tools.sqlite").exists()


def test_outcomes_are_counted_and_survive_a_restart(tmp_path):
    reg = Registry(tmp_path)
    reg.add(record("restart_leaders"))
    for ok in (True, True, False, True):
        reg.record_outcome("restart_leaders", ok)
    reg.record_outcome("not_registered", True)  # ignored, not an error
    reg.close()
    again = Registry(tmp_path)
    rec = again.get("restart_leaders")
    assert (rec.successes, rec.failures) == (3, 1)
    assert again.search("containers that restart a lot", k=1)[0][0].name == "restart_leaders"


def test_bad_names_are_refused_clearly(tmp_path):
    reg = Registry(tmp_path)
    for bad in ("", "1abc", "has space", "x" * 81, "../escape"):
        with pytest.raises(ValueError, match="invalid tool name"):
            reg.add(ToolRecord(name=bad, description="d", code="c"))
    assert reg.list() == []


class _Hashing:
    """A stand-in embedder of another name: proves stored vectors from a different model are re-embedded."""

    name = "hashing-test"
    dim = 8

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, hash(t) % self.dim] = 1.0
        return out


def test_vectors_from_another_embedder_are_refreshed(tmp_path):
    old = Registry(tmp_path, embedder=_Hashing())
    old.add(record("pvc_unbound"))
    old.add(record("deployment_images"))
    old.close()
    new = Registry(tmp_path)  # the real MiniLM embedder
    assert new.search("storage claims still waiting for a volume", k=1)[0][0].name == "pvc_unbound"
    row = new._db.execute("SELECT embed_model, dim FROM tools WHERE name = 'pvc_unbound'").fetchone()
    assert row == (new.embedder.name, new.embedder.dim)


def test_empty_registry_and_empty_query(tmp_path):
    reg = Registry(tmp_path, embedder=_Hashing())
    assert reg.search("anything") == []
    reg.add(ToolRecord(name="t", description="d", code="c"))
    assert reg.search("   ") == [] and reg.search("d", k=0) == []
