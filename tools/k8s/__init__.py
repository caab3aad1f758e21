"""The one Kubernetes vocabulary of kubesage.

- `client`: `Kube` (the official client acting as a `Principal`), raw requests, rights checks.
- `errors`: `KubeError`, what every call and approved action raises (the API's own message).
- `kinds`: the kind tuples (WORKLOADS, SCALABLE, REPLICATED, RUNS_CONTAINERS, POD_OWNERS, TARGETS) and KINDS.
- `objects`: readiness, restarts, container statuses, quantities, selectors, pod specs of plain object dicts.
- `mutations`: `Mutation`, its server dry-run preview and diff, the one restart patch, execute, rollback.
- `actions`: the closed table of approved non-Kubernetes actions (registered by name, never imported by path).
- `discovery`: the kinds an API server serves (CRDs included), found at run time.
- `health`: did an applied change hold (rolled out, ready, restarts steady).
- `goals`: does the cluster now say what the request asked (a Mutation's post-condition; the evals grade with it).

Imports run one way (errors, kinds, objects, discovery ← actions ← mutations ← client ← health);
tests/tools/k8s/test_no_cycles.py fails on any cycle in tools/.

Everything that reads or changes a cluster goes through here; no other module spells a workload-kind tuple,
a restart patch or a readiness test.
"""
