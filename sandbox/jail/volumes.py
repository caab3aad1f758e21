"""A pod's volumes as real files: one host directory per volume, bound into each container at its mount paths.

Why directories per volume (not per container): an emptyDir is shared by a pod's containers, so a sidecar reads
what another container writes, and a PVC's directory outlives the pod (kept per claim while the sandbox runs).
ConfigMap, Secret, downwardAPI and projected volumes are written once when the pod starts, with Kubernetes'
default mode 0644 (or `defaultMode`/`items[].mode`), and are bound read-only as the kubelet does. hostPath is
never the host's: it becomes an empty directory, so a pod cannot name its way out of its view.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

Lookup = Callable[[str, str], "dict[str, Any] | None"]  # (kind plural, name) → object in the pod's namespace
FieldRef = Callable[[str], str]


class MissingSource(Exception):
    """A volume's ConfigMap or Secret does not exist (the kubelet's FailedMount)."""


def _data(obj: dict[str, Any]) -> dict[str, bytes]:
    if obj.get("kind") == "Secret":
        out = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        out.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
        return out
    out = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    out.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return out


def _source_files(src: dict[str, Any], kind: str, lookup: Lookup, vol: str) -> dict[str, tuple[bytes, int]]:
    name = src.get("name") or src.get("secretName") or ""
    obj = lookup(kind, name)
    if obj is None:
        if src.get("optional"):
            return {}
        raise MissingSource(f'MountVolume.SetUp failed for volume "{vol}" : {kind[:-1]} "{name}" not found')
    data = _data(obj)
    mode = int(src.get("defaultMode", 0o644))
    items = src.get("items")
    pairs = [(i.get("key"), i.get("path"), int(i.get("mode", mode))) for i in items] if items else \
        [(k, k, mode) for k in data]
    return {path: (data[key], m) for key, path, m in pairs if key in data}


def _downward_files(src: dict[str, Any], field_ref: FieldRef) -> dict[str, tuple[bytes, int]]:
    mode = int(src.get("defaultMode", 0o644))
    out = {}
    for item in src.get("items") or []:
        if "fieldRef" in item:
            out[item["path"]] = (field_ref(item["fieldRef"].get("fieldPath", "")).encode(), int(item.get("mode", mode)))
    return out


def _files_of(v: dict[str, Any], lookup: Lookup, field_ref: FieldRef) -> dict[str, tuple[bytes, int]] | None:
    """path → (content, mode) for the file-backed kinds; None for directory kinds."""
    name = v.get("name", "")
    if "configMap" in v:
        return _source_files(v["configMap"] or {}, "configmaps", lookup, name)
    if "secret" in v:
        return _source_files(v["secret"] or {}, "secrets", lookup, name)
    if "downwardAPI" in v:
        return _downward_files(v["downwardAPI"] or {}, field_ref)
    if "projected" in v:
        out: dict[str, tuple[bytes, int]] = {}
        for s in (v["projected"] or {}).get("sources") or []:
            if "configMap" in s:
                out.update(_source_files(s["configMap"] or {}, "configmaps", lookup, name))
            elif "secret" in s:
                out.update(_source_files(s["secret"] or {}, "secrets", lookup, name))
            elif "downwardAPI" in s:
                out.update(_downward_files(s["downwardAPI"] or {}, field_ref))
            elif "serviceAccountToken" in s:
                out[(s["serviceAccountToken"] or {}).get("path", "token")] = (b"sandbox-projected-token", 0o644)
        return out
    return None


def materialize(pod: dict[str, Any], pod_dir: Path, claims_dir: Path, uid: int, lookup: Lookup,
                field_ref: FieldRef) -> dict[str, tuple[Path, bool]]:
    """Write every volume of `pod` under `pod_dir`; volume name → (host directory, read-only by nature)."""
    out: dict[str, tuple[Path, bool]] = {}
    for v in (pod.get("spec") or {}).get("volumes") or []:
        name = v.get("name", "")
        files = _files_of(v, lookup, field_ref)
        if files is not None:
            d = pod_dir / "volumes" / name
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
            for rel, (content, mode) in files.items():
                p = d / rel.lstrip("/")
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(content)
                os.chmod(p, mode & 0o777)
            out[name] = (d, True)
            continue
        if "persistentVolumeClaim" in v:
            d = claims_dir / str((v["persistentVolumeClaim"] or {}).get("claimName", name))
        else:  # emptyDir, hostPath (never the host's), ephemeral, anything else: a fresh directory of the pod's
            d = pod_dir / "volumes" / name
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, uid, uid)
        os.chmod(d, 0o777)
        out[name] = (d, False)
    return out
