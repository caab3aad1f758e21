"""The toolsmith: tools synthesized on demand, checked, run in a locked-down child process, and kept in a registry.

Why a package of small modules: each layer of defence has one job and can be read and tested alone —
`validate` (the AST allowlist), `runner` + `child` (the separate process with resource limits, an audit hook and
a Kubernetes proxy as the only door out), `registry` (SQLite + embeddings). Nothing is imported here eagerly, so
`import tools.toolsmith.validate` stays cheap.
"""
