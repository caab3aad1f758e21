"""The container behaviour model: what a container in the sandbox would do, as a pure function of its inputs.

`pull`, `run` and `exec` (in `model`) are the whole surface the sandbox kubelet needs; `images` holds the image
catalog and reference parsing, `shell` the small POSIX shell containers and `kubectl exec` run, `logs` the log
line generators. Nothing here starts threads or processes, reads the clock or uses global random state.
"""

from .images import CATALOG, Catalog, ImageRef, ImageSpec, InvalidReference, parse_reference
from .model import (
    ApiCall,
    ContainerInput,
    ExecResult,
    ImageNotPulled,
    LogLine,
    NetError,
    PullResult,
    Run,
    exec,
    expand_k8s_refs,
    pull,
    run,
)

__all__ = [
    "CATALOG", "ApiCall", "Catalog", "ContainerInput", "ExecResult", "ImageNotPulled", "ImageRef", "ImageSpec",
    "InvalidReference", "LogLine", "NetError", "PullResult", "Run", "exec", "expand_k8s_refs", "parse_reference",
    "pull", "run",
]
