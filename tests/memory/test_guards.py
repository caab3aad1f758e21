"""Negation and entity guards: close wording, different answer → mismatch; paraphrase → compatible."""

from __future__ import annotations

import pytest

from memory.guards import Signature, mismatch, signature


def _why(a: str, b: str) -> str | None:
    return mismatch(signature(a), signature(b))


@pytest.mark.parametrize("a,b", [
    ("Why is checkout crashing in shop?", "Why does checkout keep crashing in the shop namespace?"),
    ("can alice read the reports bucket?", "is alice allowed to read the reports bucket?"),
    ("Why isn't my pod ready?", "why is my pod not ready"),
    ("Why can't the frontend pod pull its image?", "why is the frontend pod failing to pull its image"),
    ("How does the HPA work?", "how does the horizontal pod autoscaler work"),
    ("What is a Kubernetes pod?", "explain kubernetes pods"),
])
def test_paraphrases_are_compatible(a, b):
    assert _why(a, b) is None


@pytest.mark.parametrize("a,b,reason", [
    ("can alice read the reports bucket?", "can alice not read the reports bucket?", "negation"),
    ("Why did job nightly-backup fail?", "Why did job nightly-backup succeed?", "negation"),
    ("why is pod web-1 pending?", "why is pod web-2 pending?", "named things"),
    ("list pods in namespace shop", "list pods in namespace payments", "named things"),
    ("what is in the logs bucket?", "what is in the audit bucket?", "named things"),
    ("can alice read the reports bucket?", "can bob read the reports bucket?", "named things"),
    ("scale deployment web to 3 replicas", "scale deployment web to 5 replicas", "named things"),
    ("delete pod web-1", "describe pod web-1", "actions"),
    ("allow ingress from shop", "deny ingress from shop", "actions"),
    ("What is a Kubernetes pod?", "What is a Kubernetes service?", "kinds"),
    ("How does RBAC work in Kubernetes?", "How does RBAC work in AWS?", "platforms"),
])
def test_hard_negatives_mismatch(a, b, reason):
    why = _why(a, b)
    assert why is not None and why.startswith(reason), why


def test_signature_round_trips_through_json():
    s = signature('can ci-bot delete "prod-db" secrets in prod?')
    assert Signature.from_json(s.to_json()) == s
    assert "q:prod-db" in s.entities and "ci-bot" in s.entities and "delete" in s.actions
