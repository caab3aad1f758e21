"""The one Kubernetes vocabulary of kubesage.

- `client`: `Kube` (the official client acting as a `Principal`), `KubeError`, raw requests, dry runs.
- `discovery`: the kinds an API server serves (CRDs included), found at run time.
- `health`: did an applied change hold (rolled out, ready, restarts steady), and how to undo it.

Everything that reads or changes a cluster goes through here; no other module spells a workload-kind tuple,
a restart patch or a readiness test.
"""
