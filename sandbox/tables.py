"""Server-side printing: convert API objects into ``meta.k8s.io/v1`` Tables.

Why: ``kubectl get`` does not format objects itself. It sends
``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints whatever columns and cells the
server returns, dropping priority>0 columns unless ``-o wide`` is given. For the sandbox's output to be
indistinguishable from a real cluster, this module reproduces kube-apiserver's printers:

* built-in kinds: ``k8s.io/kubernetes/pkg/printers/internalversion/printers.go`` (the server always
  generates the wide cells; kubectl hides them),
* custom resources: the CRD ``additionalPrinterColumns`` convertor
  (``apiextensions-apiserver/pkg/registry/customresource/tableconvertor``),
* everything else (Role, ClusterRole, CustomResourceDefinition, ...): the default convertor
  (``k8s.io/apiserver/pkg/registry/rest/table.go``): ``Name`` and ``Created At``.

The real printers run on objects the API server has already defaulted. Objects stored by the sandbox
may not be, so where a printed field has an API default (a Service's type, a Deployment's replicas...)
the row functions read the field with that default. Nothing here may raise on odd or partial objects:
every field is read through the tolerant accessors below, and a row that still fails is printed with
its name and empty cells.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = ["human_duration", "to_table"]

# ---------------------------------------------------------------------------------------------------------
# Tolerant accessors: wrong types read as missing, so a printer never raises on a malformed object.
# ---------------------------------------------------------------------------------------------------------


def _get(obj: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` (dict keys / list indexes), or ``default`` when any step is missing."""
    cur = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or not -len(cur) <= step < len(cur):
                return default
            cur = cur[step]
        else:
            if not isinstance(cur, dict) or step not in cur:
                return default
            cur = cur[step]
    return default if cur is None else cur


def _dict(obj: Any, *path: str | int) -> dict:
    value = _get(obj, *path)
    return value if isinstance(value, dict) else {}


def _list(obj: Any, *path: str | int) -> list:
    value = _get(obj, *path)
    return value if isinstance(value, list) else []


def _dicts(obj: Any, *path: str | int) -> list[dict]:
    """A list of objects (e.g. containers), skipping entries that are not objects."""
    return [item for item in _list(obj, *path) if isinstance(item, dict)]


def _str(obj: Any, *path: str | int, default: str = "") -> str:
    value = _get(obj, *path)
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return default
    return str(value)


def _int(obj: Any, *path: str | int, default: int = 0) -> int:
    value = _get(obj, *path)
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return default


def _bool(obj: Any, *path: str | int, default: bool = False) -> bool:
    value = _get(obj, *path)
    return value if isinstance(value, bool) else default


def _has(obj: Any, *path: str) -> bool:
    """Whether a pointer field is set (Go: ``!= nil``); ``{}`` counts as set."""
    return isinstance(_get(obj, *path), dict)


def _name(obj: Any) -> str:
    return _str(obj, "metadata", "name")


def _quantity(value: Any) -> str:
    """A resource.Quantity as text (the zero Quantity prints "0"); stored strings are kept as written."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _go_float(float(value)) if isinstance(value, float) else str(value)
    return "0"


def _int_or_string(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    return str(value) if isinstance(value, (int, str)) else ""


# ---------------------------------------------------------------------------------------------------------
# Time: RFC3339 parsing and apimachinery's duration.HumanDuration.
# ---------------------------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|z|[+-]\d{2}:?\d{2})?$"
)
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def _parse_time(value: Any) -> datetime | None:
    """An RFC3339 timestamp (or datetime) as an aware datetime; None when unset, zero or unparsable."""
    parsed = _parse_any_time(value)
    return None if parsed is None or parsed == _ZERO_TIME else parsed  # metav1.Time.IsZero(): unset


def _parse_any_time(value: Any) -> datetime | None:
    """Like _parse_time, but the zero time (0001-01-01T00:00:00Z) is returned rather than dropped."""
    if isinstance(value, datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, str):
        m = _RFC3339.match(value.strip())
        if not m:
            return None
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        micros = int(((m.group(7) or "") + "000000")[:6])
        zone = m.group(8) or "Z"
        if zone in ("Z", "z"):
            tz = UTC
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = timezone(-offset if zone[0] == "-" else offset)
        try:
            parsed = datetime(year, month, day, hour, minute, min(second, 59), micros, tzinfo=tz)
        except ValueError:
            return None
    else:
        return None
    return parsed


def human_duration(d: timedelta) -> str:
    """Kubernetes' ``duration.HumanDuration``: ~2-3 significant figures ("45s", "3m20s", "5h", "12d")."""
    us = d // timedelta(microseconds=1)
    seconds = int(us / 1_000_000)  # Go's int(d.Seconds()) truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = us // 60_000_000
    if minutes < 10:
        s = (us // 1_000_000) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = us // 3_600_000_000
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _age(timestamp: Any, now: datetime) -> str:
    """printers.go translateTimestampSince: "<unknown>" for an unset timestamp."""
    parsed = _parse_time(timestamp)
    return "<unknown>" if parsed is None else human_duration(now - parsed)


def _rfc3339(timestamp: Any) -> str:
    """A timestamp re-rendered in UTC as Go's time.RFC3339 (the zero time when unset)."""
    parsed = _parse_time(timestamp) or _ZERO_TIME
    utc = parsed.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"  # strftime's %Y does not zero-pad year 1


# ---------------------------------------------------------------------------------------------------------
# Go formatting helpers shared by several printers.
# ---------------------------------------------------------------------------------------------------------


def _format_labels(labels: Any) -> str:
    """labels.FormatLabels: sorted "k=v" pairs, "<none>" when empty."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={_str(labels, k)}" for k in sorted(labels, key=str))


class _BadSelector(ValueError):
    pass


def _selector_string(selector: Any) -> str:
    """metav1.LabelSelectorAsSelector(selector).String(); raises _BadSelector like the Go error path."""
    if not isinstance(selector, dict):
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in _dict(selector, "matchLabels").items():
        requirements.append((str(key), f"{key}={value if isinstance(value, str) else ''}"))
    for expr in _list(selector, "matchExpressions"):
        if not isinstance(expr, dict):
            raise _BadSelector("invalid expression")
        key = _str(expr, "key")
        values = [str(v) for v in _list(expr, "values")]
        operator = _str(expr, "operator")
        if operator in ("In", "NotIn"):
            if not values:
                raise _BadSelector("values required")
            word = " in " if operator == "In" else " notin "
            shown = values[0] if len(values) == 1 else ",".join(sorted(values))
            requirements.append((key, f"{key}{word}({shown})"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                raise _BadSelector("values forbidden")
            requirements.append((key, key if operator == "Exists" else f"!{key}"))
        else:
            raise _BadSelector(f"{operator!r} is not a valid label selector operator")
    requirements.sort(key=lambda r: r[0])
    return ",".join(text for _, text in requirements)


def _format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid."""
    try:
        text = _selector_string(selector)
    except _BadSelector:
        return "<error>"
    return text or "<none>"


def _containers_cells(containers: list[dict]) -> tuple[str, str]:
    """printers.go layoutContainerCells: comma-joined container names and images."""
    return (
        ",".join(_str(c, "name") for c in containers),
        ",".join(_str(c, "image") for c in containers),
    )


def _template_containers(obj: dict, *template_path: str) -> list[str]:
    """Wide CONTAINERS and IMAGES cells of a workload's pod template."""
    names, images = _containers_cells(_dicts(obj, *template_path, "spec", "containers"))
    return [names, images]


def _with_more(items: list[str], count: int, limit: int, empty: str) -> str:
    """printers.go listWithMoreString: "a,b,c + N more..." once ``limit`` items are shown."""
    text = ",".join(items)
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or empty


def _go_float(value: float) -> str:
    """A float64 as Go's fmt %v prints it (shortest digits, %e from exponent 6 up or below -4)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    point = len(digits) + int(exponent)  # digits before the decimal point
    neg = "-" if sign else ""
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{neg}{digits}{'0' * (point - len(digits))}"
    return f"{neg}{digits[:point]}.{digits[point:]}"


def _go_json(value: Any) -> str:
    """Compact JSON as Go's json.Marshal writes it (sorted keys, HTML characters escaped)."""

    def integral(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
            return int(v)
        if isinstance(v, dict):
            return {str(k): integral(x) for k, x in v.items()}
        if isinstance(v, list):
            return [integral(x) for x in v]
        return v

    text = json.dumps(integral(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# ---------------------------------------------------------------------------------------------------------
# Column definitions.
# ---------------------------------------------------------------------------------------------------------

_NAME_DESC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DESC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for "
    "lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DESC = "Names of each container in the template."
_IMAGES_DESC = "Images referenced by each container in the template."


def _col(
    name: str, type_: str = "string", description: str = "", *, priority: int = 0, format_: str = ""
) -> dict:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


NAME = _col("Name", description=_NAME_DESC, format_="name")
AGE = _col("Age", description=_AGE_DESC)
CONTAINERS = _col("Containers", description=_CONTAINERS_DESC, priority=1)
IMAGES = _col("Images", description=_IMAGES_DESC, priority=1)


def _selector_col(description: str = "A label query over pods.") -> dict:
    return _col("Selector", description=description, priority=1)


# ---------------------------------------------------------------------------------------------------------
# Row functions, one per kind (named after the printers.go function they mirror).
# ---------------------------------------------------------------------------------------------------------

Row = list[Any]


def _pod_row(pod: dict, now: datetime) -> Row:
    """printPod: READY x/y, STATUS with the kubelet's reason precedence, RESTARTS with "(5m ago)"."""
    spec, status = _dict(pod, "spec"), _dict(pod, "status")
    restarts = restartable_restarts = 0
    last_restart: datetime | None = None
    last_restartable_restart: datetime | None = None
    total = len(_dicts(spec, "containers"))
    ready = 0

    phase = _str(status, "phase", default="Pending")  # set by the pod strategy on create
    reason = _str(status, "reason") or phase
    for condition in _dicts(status, "conditions"):
        if _str(condition, "type") == "PodScheduled" and _str(condition, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    def later(current: datetime | None, state: dict) -> datetime | None:
        finished = _parse_time(_get(state, "lastState", "terminated", "finishedAt"))
        if finished is not None and (current is None or finished > current):
            return finished
        return current

    init_specs = _dicts(spec, "initContainers")
    restartable = {_str(c, "name") for c in init_specs if _str(c, "restartPolicy") == "Always"}
    total += sum(1 for c in init_specs if _str(c, "restartPolicy") == "Always")

    initializing = False
    for i, cs in enumerate(_dicts(status, "initContainerStatuses")):
        restarts += _int(cs, "restartCount")
        last_restart = later(last_restart, cs)
        is_restartable = _str(cs, "name") in restartable
        if is_restartable:
            restartable_restarts += _int(cs, "restartCount")
            last_restartable_restart = later(last_restartable_restart, cs)
        terminated, waiting = _dict(cs, "state", "terminated"), _dict(cs, "state", "waiting")
        if _has(cs, "state", "terminated") and _int(terminated, "exitCode") == 0:
            continue
        if is_restartable and _bool(cs, "started"):
            ready += 1 if _bool(cs, "ready") else 0
            continue
        if _has(cs, "state", "terminated"):
            if _str(terminated, "reason"):
                reason = "Init:" + _str(terminated, "reason")
            elif _int(terminated, "signal"):
                reason = f"Init:Signal:{_int(terminated, 'signal')}"
            else:
                reason = f"Init:ExitCode:{_int(terminated, 'exitCode')}"
        elif _str(waiting, "reason") and _str(waiting, "reason") != "PodInitializing":
            reason = "Init:" + _str(waiting, "reason")
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _pod_condition_true(status, "Initialized", first_only=True):
        restarts, last_restart = restartable_restarts, last_restartable_restart
        has_running = False
        for cs in reversed(_dicts(status, "containerStatuses")):
            restarts += _int(cs, "restartCount")
            last_restart = later(last_restart, cs)
            terminated, waiting = _dict(cs, "state", "terminated"), _dict(cs, "state", "waiting")
            if _str(waiting, "reason"):
                reason = _str(waiting, "reason")
            elif _str(terminated, "reason"):
                reason = _str(terminated, "reason")
            elif _has(cs, "state", "terminated"):
                signal = _int(terminated, "signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{_int(terminated, 'exitCode')}"
            elif _bool(cs, "ready") and _has(cs, "state", "running"):
                has_running = True
                ready += 1
        # a "Completed" container next to a still-running one: the pod as a whole is still running
        if reason == "Completed" and has_running:
            reason = "Running" if _pod_condition_true(status, "Ready") else "NotReady"

    if _get(pod, "metadata", "deletionTimestamp") is not None:
        if _str(status, "reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"

    pod_ip = _str(status, "podIPs", 0, "ip") or _str(status, "podIP") or "<none>"
    gates = [_str(g, "conditionType") for g in _dicts(spec, "readinessGates")]
    readiness_gates = "<none>"
    if gates:
        conditions = _dicts(status, "conditions")
        true_count = 0
        for gate in gates:
            match = next((c for c in conditions if _str(c, "type") == gate), None)
            true_count += 1 if match is not None and _str(match, "status") == "True" else 0
        readiness_gates = f"{true_count}/{len(gates)}"
    return [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        _age(_get(pod, "metadata", "creationTimestamp"), now),
        pod_ip,
        _str(spec, "nodeName") or "<none>",
        _str(status, "nominatedNodeName") or "<none>",
        readiness_gates,
    ]


def _pod_condition_true(status: dict, type_: str, *, first_only: bool = False) -> bool:
    """hasPodReadyCondition (any matching condition) / isPodInitializedConditionTrue (the first one)."""
    for condition in _dicts(status, "conditions"):
        if _str(condition, "type") != type_:
            continue
        if _str(condition, "status") == "True":
            return True
        if first_only:
            return False
    return False


def _pod_conditions(pod: dict) -> list[dict] | None:
    """Row conditions printPod attaches to finished pods (kubectl uses them to de-emphasise rows)."""
    phase = _str(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


def _pod_template_row(obj: dict, now: datetime) -> Row:
    names, images = _containers_cells(_dicts(obj, "template", "spec", "containers"))
    return [_name(obj), names, images, _format_labels(_get(obj, "template", "metadata", "labels"))]


def _pdb_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    min_available = _int_or_string(spec["minAvailable"]) if "minAvailable" in spec else ""
    max_unavailable = _int_or_string(spec["maxUnavailable"]) if "maxUnavailable" in spec else ""
    return [
        _name(obj),
        min_available or "N/A",
        max_unavailable or "N/A",
        _int(obj, "status", "disruptionsAllowed"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _replication_controller_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        _int(obj, "spec", "replicas", default=1),
        _int(obj, "status", "replicas"),
        _int(obj, "status", "readyReplicas"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
        _format_labels(_get(obj, "spec", "selector")),
    ]


def _replica_set_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        _int(obj, "spec", "replicas", default=1),
        _int(obj, "status", "replicas"),
        _int(obj, "status", "readyReplicas"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
        _format_label_selector(_get(obj, "spec", "selector")),
    ]


def _deployment_row(obj: dict, now: datetime) -> Row:
    try:
        selector = _selector_string(_get(obj, "spec", "selector"))
    except _BadSelector:
        selector = "<invalid>"
    return [
        _name(obj),
        f"{_int(obj, 'status', 'readyReplicas')}/{_int(obj, 'spec', 'replicas', default=1)}",
        _int(obj, "status", "updatedReplicas"),
        _int(obj, "status", "availableReplicas"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
        selector,
    ]


def _stateful_set_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        f"{_int(obj, 'status', 'readyReplicas')}/{_int(obj, 'spec', 'replicas', default=1)}",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
    ]


def _daemon_set_row(obj: dict, now: datetime) -> Row:
    status = _dict(obj, "status")
    return [
        _name(obj),
        _int(status, "desiredNumberScheduled"),
        _int(status, "currentNumberScheduled"),
        _int(status, "numberReady"),
        _int(status, "updatedNumberScheduled"),
        _int(status, "numberAvailable"),
        _format_labels(_get(obj, "spec", "template", "spec", "nodeSelector")),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
        _format_label_selector(_get(obj, "spec", "selector")),
    ]


def _controller_revision_row(obj: dict, now: datetime) -> Row:
    controller = "<none>"
    for ref in _dicts(obj, "metadata", "ownerReferences"):
        if _bool(ref, "controller"):
            api_version = _str(ref, "apiVersion")
            group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
            kind = _str(ref, "kind")
            group_kind = f"{kind}.{group}" if group else kind
            controller = f"{group_kind.lower()}/{_str(ref, 'name')}" if group_kind else _str(ref, "name")
            break
    return [
        _name(obj),
        controller,
        _int(obj, "revision"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _job_condition(obj: dict, type_: str) -> bool:
    """hasJobCondition: the first condition of that type decides."""
    for condition in _dicts(obj, "status", "conditions"):
        if _str(condition, "type") == type_:
            return _str(condition, "status") == "True"
    return False


def _job_row(obj: dict, now: datetime) -> Row:
    spec, status = _dict(obj, "spec"), _dict(obj, "status")
    succeeded = _int(status, "succeeded")
    if isinstance(_get(spec, "completions"), int) and not isinstance(spec["completions"], bool):
        completions = f"{succeeded}/{spec['completions']}"
    elif _int(spec, "parallelism") > 1:
        completions = f"{succeeded}/1 of {_int(spec, 'parallelism')}"
    else:
        completions = f"{succeeded}/1"
    start, end = _parse_time(_get(status, "startTime")), _parse_time(_get(status, "completionTime"))
    if start is None:
        job_duration = ""
    else:
        job_duration = human_duration((end or now) - start)
    if _job_condition(obj, "Complete"):
        job_status = "Complete"
    elif _job_condition(obj, "Failed"):
        job_status = "Failed"
    elif _get(obj, "metadata", "deletionTimestamp") is not None:
        job_status = "Terminating"
    elif _job_condition(obj, "Suspended"):
        job_status = "Suspended"
    elif _job_condition(obj, "FailureTarget"):
        job_status = "FailureTarget"
    else:
        job_status = "Running"
    return [
        _name(obj),
        job_status,
        completions,
        job_duration,
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(obj, "spec", "template"),
        _format_label_selector(_get(spec, "selector")),
    ]


def _cron_job_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    last_schedule = _get(obj, "status", "lastScheduleTime")
    suspend = _get(spec, "suspend", default=False)  # defaulted to false by the API server
    return [
        _name(obj),
        _str(spec, "schedule"),
        _str(spec, "timeZone") or "<none>",
        ("True" if suspend else "False") if isinstance(suspend, bool) else "<unset>",
        len(_list(obj, "status", "active")),
        "<none>" if last_schedule is None else _age(last_schedule, now),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        *_template_containers(spec, "jobTemplate", "spec", "template"),
        _format_label_selector(_get(spec, "jobTemplate", "spec", "selector")),
    ]


def _load_balancer_addresses(status: Any) -> str:
    """loadBalancerStatusStringer (wide): sorted unique ingress IPs, else hostnames."""
    found = set()
    for ingress in _dicts(status, "ingress"):
        address = _str(ingress, "ip") or _str(ingress, "hostname")
        if address:
            found.add(address)
    return ",".join(sorted(found))


def _service_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    svc_type = _str(spec, "type", default="ClusterIP")  # API default
    cluster_ip = _str(spec, "clusterIPs", 0) or _str(spec, "clusterIP") or "<none>"
    external_ips = [str(ip) for ip in _list(spec, "externalIPs")]
    if svc_type in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif svc_type == "LoadBalancer":
        lb = _load_balancer_addresses(_get(obj, "status", "loadBalancer"))
        if external_ips:
            external = ",".join(([*lb.split(",")] if lb else []) + external_ips)
        else:
            external = lb or "<pending>"
    elif svc_type == "ExternalName":
        external = _str(spec, "externalName")
    else:
        external = "<unknown>"
    pieces = []
    for port in _dicts(spec, "ports"):
        protocol = _str(port, "protocol", default="TCP")  # API default
        node_port = _int(port, "nodePort")
        if node_port > 0:
            pieces.append(f"{_int(port, 'port')}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int(port, 'port')}/{protocol}")
    return [
        _name(obj),
        svc_type,
        cluster_ip,
        external,
        ",".join(pieces) or "<none>",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        _format_labels(_get(spec, "selector")),
    ]


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints_row(obj: dict, now: datetime) -> Row:
    """formatEndpoints: up to three "ip:port" entries, then "+ N more..."."""
    subsets = _dicts(obj, "subsets")
    if not subsets:
        text = "<none>"
    else:
        shown: list[str] = []
        limit, count, more = 3, 0, False
        for subset in subsets:
            addresses = [_str(a, "ip") for a in _dicts(subset, "addresses")]
            ports = _dicts(subset, "ports")
            if not ports:  # headless service without ports
                count += len(addresses)
                for ip in addresses:
                    if len(shown) == limit:
                        more = True
                        break
                    shown.append(ip)
                continue
            for port in ports:
                count += len(addresses)
                for ip in addresses:
                    if len(shown) == limit:
                        more = True
                        break
                    shown.append(_join_host_port(ip, _int(port, "port")))
        text = ",".join(shown)
        if more:
            text = f"{text} + {count - limit} more..."
    return [_name(obj), text, _age(_get(obj, "metadata", "creationTimestamp"), now)]


def _endpoint_slice_row(obj: dict, now: datetime) -> Row:
    ports = []
    for port in _dicts(obj, "ports"):
        number = _get(port, "port")
        if isinstance(number, int) and not isinstance(number, bool):
            ports.append(str(number))
        elif isinstance(_get(port, "name"), str):
            ports.append(port["name"])
        else:
            ports.append("*")
    addresses = [str(a) for e in _dicts(obj, "endpoints") for a in _list(e, "addresses")]
    return [
        _name(obj),
        _str(obj, "addressType"),
        _with_more(ports[:3], len(ports), 3, "<unset>"),
        _with_more(addresses[:3], len(addresses), 3, "<unset>"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _node_row(obj: dict, now: datetime) -> Row:
    conditions = {_str(c, "type"): c for c in _dicts(obj, "status", "conditions")}
    status = []
    if "Ready" in conditions:
        status.append("Ready" if _str(conditions["Ready"], "status") == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if _bool(obj, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    roles = set()
    for key, value in _dict(obj, "metadata", "labels").items():
        if isinstance(key, str) and key.startswith("node-role.kubernetes.io/"):
            if role := key[len("node-role.kubernetes.io/") :]:
                roles.add(role)
        elif key == "kubernetes.io/role" and isinstance(value, str) and value:
            roles.add(value)
    info = _dict(obj, "status", "nodeInfo")

    def address(type_: str) -> str:
        for entry in _dicts(obj, "status", "addresses"):
            if _str(entry, "type") == type_:
                return _str(entry, "address")
        return "<none>"

    return [
        _name(obj),
        ",".join(status),
        ",".join(sorted(roles)) or "<none>",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        _str(info, "kubeletVersion"),
        address("InternalIP"),
        address("ExternalIP"),
        _str(info, "osImage") or "<unknown>",
        _str(info, "kernelVersion") or "<unknown>",
        _str(info, "containerRuntimeVersion") or "<unknown>",
    ]


def _core_event(obj: dict) -> dict:
    """An events.k8s.io/v1 Event in core/v1 field names: both APIs share storage and the printer.

    Fields already in core/v1 form are kept, so a core-shaped object served under events.k8s.io works too.
    """
    renamed = {
        "involvedObject": "regarding",
        "message": "note",
        "firstTimestamp": "deprecatedFirstTimestamp",
        "lastTimestamp": "deprecatedLastTimestamp",
        "count": "deprecatedCount",
        "source": "deprecatedSource",
    }
    event = dict(obj)
    for core, events_v1 in renamed.items():
        if _get(event, core) is None and _get(obj, events_v1) is not None:
            event[core] = obj[events_v1]
    return event


def _events_v1_row(obj: dict, now: datetime) -> Row:
    return _event_row(_core_event(obj), now)


def _event_row(event: dict, now: datetime) -> Row:
    """printEvent: LAST SEEN falls back to FIRST SEEN, which falls back to eventTime; series win."""
    if _parse_time(_get(event, "firstTimestamp")) is not None:
        first_seen = _age(event["firstTimestamp"], now)
    else:
        first_seen = _age(_get(event, "eventTime"), now)
    if _parse_time(_get(event, "lastTimestamp")) is not None:
        last_seen = _age(event["lastTimestamp"], now)
    else:
        last_seen = first_seen
    count = _int(event, "count")
    if _has(event, "series"):
        last_seen = _age(_get(event, "series", "lastObservedTime"), now)
        count = _int(event, "series", "count")
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = _dict(event, "involvedObject")
    kind = _str(involved, "kind").lower()
    target = f"{kind}/{_str(involved, 'name')}" if _str(involved, "name") else kind
    component = _str(event, "source", "component") or _str(event, "reportingController")
    instance = _str(event, "source", "host") or _str(event, "reportingInstance")
    source = f"{component}, {instance}" if instance else component
    return [
        last_seen,
        _str(event, "type"),
        _str(event, "reason"),
        target,
        _str(involved, "fieldPath"),
        source,
        _str(event, "message").strip(),
        first_seen,
        count,
        _name(event),
    ]


def _namespace_row(obj: dict, now: datetime) -> Row:
    phase = _str(obj, "status", "phase", default="Active")  # set by the namespace strategy
    return [_name(obj), phase, _age(_get(obj, "metadata", "creationTimestamp"), now)]


def _secret_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        _str(obj, "type", default="Opaque"),  # API default
        len(_dict(obj, "data")),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _service_account_row(obj: dict, now: datetime) -> Row:
    return [_name(obj), len(_list(obj, "secrets")), _age(_get(obj, "metadata", "creationTimestamp"), now)]


def _access_modes(modes: list) -> str:
    """helper.GetAccessModesAsString: fixed order, duplicates dropped."""
    short = (
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    )
    return ",".join(abbrev for mode, abbrev in short if mode in modes)


_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def _storage_class_of(obj: dict) -> str:
    """GetPersistentVolume(Claim)Class: the beta annotation wins over spec.storageClassName."""
    annotations = _dict(obj, "metadata", "annotations")
    if _BETA_STORAGE_CLASS in annotations:
        return _str(annotations, _BETA_STORAGE_CLASS)
    return _str(obj, "spec", "storageClassName")


def _persistent_volume_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    claim = ""
    if _has(spec, "claimRef"):
        claim = f"{_str(spec, 'claimRef', 'namespace')}/{_str(spec, 'claimRef', 'name')}"
    phase = _str(obj, "status", "phase", default="Pending")  # set by the PV strategy on create
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    return [
        _name(obj),
        _quantity(_get(spec, "capacity", "storage")),
        _access_modes(_list(spec, "accessModes")),
        _str(spec, "persistentVolumeReclaimPolicy", default="Retain"),  # API default
        phase,
        claim,
        _storage_class_of(obj),
        _str(spec, "volumeAttributesClassName") or "<unset>",
        _str(obj, "status", "reason"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        _str(spec, "volumeMode", default="Filesystem"),  # API default
    ]


def _persistent_volume_claim_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    phase = _str(obj, "status", "phase", default="Pending")  # set by the PVC strategy on create
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = access_modes = ""
    if _str(spec, "volumeName"):  # only a bound claim shows what it got
        access_modes = _access_modes(_list(obj, "status", "accessModes"))
        capacity = _quantity(_get(obj, "status", "capacity", "storage"))
    return [
        _name(obj),
        phase,
        _str(spec, "volumeName"),
        capacity,
        access_modes,
        _storage_class_of(obj),
        _str(spec, "volumeAttributesClassName") or "<unset>",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        _str(spec, "volumeMode", default="Filesystem"),  # API default
    ]


def _resource_quota_row(obj: dict, now: datetime) -> Row:
    hard, used = _dict(obj, "status", "hard"), _dict(obj, "status", "used")
    requests, limits = [], []
    for resource in sorted(hard, key=str):
        text = f"{resource}: {_quantity(used.get(resource))}/{_quantity(hard[resource])}"
        pieces = str(resource).split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [
        _name(obj),
        ", ".join(requests),
        ", ".join(limits),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _metric_value(source: dict, key: str) -> str:
    return _quantity(_get(source, key))


def _hpa_metrics(obj: dict) -> tuple[list[dict], list[dict]]:
    """The HPA's metric specs and statuses in autoscaling/v2 shape (v1 objects and defaults folded in)."""
    spec, status = _dict(obj, "spec"), _dict(obj, "status")
    specs, statuses = _dicts(spec, "metrics"), _list(status, "currentMetrics")
    if not specs and isinstance(_get(spec, "targetCPUUtilizationPercentage"), int):  # autoscaling/v1
        target = {"type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}
        specs = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
        if isinstance(_get(status, "currentCPUUtilizationPercentage"), int):
            current = {"averageUtilization": status["currentCPUUtilizationPercentage"]}
            statuses = [{"type": "Resource", "resource": {"name": "cpu", "current": current}}]
    if not specs:  # SetDefaults_HorizontalPodAutoscaler: 80% average CPU utilization
        target = {"type": "Utilization", "averageUtilization": 80}
        specs = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    return specs, [s if isinstance(s, dict) else {} for s in statuses]


def _hpa_targets(obj: dict) -> str:
    """formatHPAMetrics: "cpu: 40%/80%" per metric, at most two, then "+ N more..."."""
    specs, statuses = _hpa_metrics(obj)
    shown = []
    for i, spec in enumerate(specs):
        current_status = statuses[i] if i < len(statuses) else {}
        metric_type = _str(spec, "type")
        if metric_type in ("External", "Object"):
            field = metric_type.lower()
            target = _dict(spec, field, "target")
            current = _dict(current_status, field, "current") if _has(current_status, field) else None
            if "averageValue" in target:
                value = (
                    _metric_value(current, "averageValue")
                    if current and "averageValue" in current
                    else "<unknown>"
                )
                shown.append(f"{value}/{_metric_value(target, 'averageValue')} (avg)")
            else:
                value = _metric_value(current, "value") if current is not None else "<unknown>"
                shown.append(f"{value}/{_metric_value(target, 'value')}")
        elif metric_type == "Pods":
            current = _dict(current_status, "pods", "current") if _has(current_status, "pods") else None
            value = _metric_value(current, "averageValue") if current is not None else "<unknown>"
            shown.append(f"{value}/{_metric_value(_dict(spec, 'pods', 'target'), 'averageValue')}")
        elif metric_type in ("Resource", "ContainerResource"):
            field = "resource" if metric_type == "Resource" else "containerResource"
            resource_name = _str(spec, field, "name")
            target = _dict(spec, field, "target")
            current = _dict(current_status, field, "current") if _has(current_status, field) else None
            if "averageValue" in target:
                value = _metric_value(current, "averageValue") if current is not None else "<unknown>"
                shown.append(f"{resource_name}: {value}/{_metric_value(target, 'averageValue')}")
            else:
                value = "<unknown>"
                if current is not None and isinstance(_get(current, "averageUtilization"), int):
                    value = f"{current['averageUtilization']}%"
                goal = "<auto>"
                if isinstance(_get(target, "averageUtilization"), int):
                    goal = f"{target['averageUtilization']}%"
                shown.append(f"{resource_name}: {value}/{goal}")
        else:
            shown.append("<unknown type>")
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


def _hpa_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    min_replicas = _get(spec, "minReplicas", default=1)  # API default
    return [
        _name(obj),
        f"{_str(spec, 'scaleTargetRef', 'kind')}/{_str(spec, 'scaleTargetRef', 'name')}",
        _hpa_targets(obj),
        str(min_replicas)
        if isinstance(min_replicas, int) and not isinstance(min_replicas, bool)
        else "<unset>",
        _int(spec, "maxReplicas"),
        _int(obj, "status", "currentReplicas"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _config_map_row(obj: dict, now: datetime) -> Row:
    count = len(_dict(obj, "data")) + len(_dict(obj, "binaryData"))
    return [_name(obj), count, _age(_get(obj, "metadata", "creationTimestamp"), now)]


def _network_policy_row(obj: dict, now: datetime) -> Row:
    selector = _get(obj, "spec", "podSelector", default={})
    return [
        _name(obj),
        _format_label_selector(selector),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _ingress_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    rules = _dicts(spec, "rules")
    hosts: list[str] = []
    more = False
    for rule in rules:  # formatHosts, quirks included
        if len(hosts) == 3:
            more = True
        if not more and _str(rule, "host"):
            hosts.append(_str(rule, "host"))
    host_text = ",".join(hosts) if hosts else "*"
    if hosts and more:
        host_text = f"{host_text} + {len(rules) - 3} more..."
    return [
        _name(obj),
        _str(spec, "ingressClassName") or "<none>",
        host_text,
        _load_balancer_addresses(_get(obj, "status", "loadBalancer")),
        "80, 443" if _list(spec, "tls") else "80",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _ingress_class_row(obj: dict, now: datetime) -> Row:
    parameters = "<none>"
    if _has(obj, "spec", "parameters"):
        params = _dict(obj, "spec", "parameters")
        parameters = _str(params, "kind")
        if isinstance(_get(params, "apiGroup"), str):
            parameters += "." + params["apiGroup"]
        parameters += "/" + _str(params, "name")
    return [
        _name(obj),
        _str(obj, "spec", "controller"),
        parameters,
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _binding_row(obj: dict, now: datetime) -> Row:
    """printRoleBinding / printClusterRoleBinding; rbac.SubjectsStrings splits the subjects."""
    users, groups, service_accounts = [], [], []
    for subject in _dicts(obj, "subjects"):
        kind, name = _str(subject, "kind"), _str(subject, "name")
        if kind == "ServiceAccount":
            service_accounts.append(f"{_str(subject, 'namespace')}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [
        _name(obj),
        f"{_str(obj, 'roleRef', 'kind')}/{_str(obj, 'roleRef', 'name')}",
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


def _lease_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        _str(obj, "spec", "holderIdentity"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _storage_class_row(obj: dict, now: datetime) -> Row:
    annotations = _dict(obj, "metadata", "annotations")
    is_default = any(
        _str(annotations, key) == "true"
        for key in (
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        )
    )
    return [
        _name(obj) + (" (default)" if is_default else ""),
        _str(obj, "provisioner"),
        _str(obj, "reclaimPolicy", default="Delete"),
        _str(obj, "volumeBindingMode", default="Immediate"),
        _bool(obj, "allowVolumeExpansion"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _volume_attachment_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    return [
        _name(obj),
        _str(spec, "attacher"),
        _str(spec, "source", "persistentVolumeName"),
        _str(spec, "nodeName"),
        _bool(obj, "status", "attached"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _csi_driver_row(obj: dict, now: datetime) -> Row:
    spec = _dict(obj, "spec")
    token_requests = "<unset>"
    if isinstance(_get(spec, "tokenRequests"), list):
        token_requests = ",".join(_str(t, "audience") for t in _dicts(spec, "tokenRequests"))
    modes = [str(m) for m in _list(spec, "volumeLifecycleModes")] or ["Persistent"]  # API default
    return [
        _name(obj),
        _bool(spec, "attachRequired", default=True),
        _bool(spec, "podInfoOnMount"),
        _bool(spec, "storageCapacity"),
        token_requests,
        _bool(spec, "requiresRepublish"),
        ",".join(modes),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _csi_node_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        len(_list(obj, "spec", "drivers")),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _webhook_configuration_row(obj: dict, now: datetime) -> Row:
    return [_name(obj), len(_list(obj, "webhooks")), _age(_get(obj, "metadata", "creationTimestamp"), now)]


def _priority_class_row(obj: dict, now: datetime) -> Row:
    return [
        _name(obj),
        _int(obj, "value"),
        _bool(obj, "globalDefault"),
        _age(_get(obj, "metadata", "creationTimestamp"), now),
        _str(obj, "preemptionPolicy", default="PreemptLowerPriority"),  # API default
    ]


def _runtime_class_row(obj: dict, now: datetime) -> Row:
    return [_name(obj), _str(obj, "handler"), _age(_get(obj, "metadata", "creationTimestamp"), now)]


# ---------------------------------------------------------------------------------------------------------
# The printer table: (kind, group) -> columns and row function.
# ---------------------------------------------------------------------------------------------------------


class Printer(NamedTuple):
    """One kind's server-side printer: its column definitions and the function producing a row's cells."""

    columns: list[dict]
    row: Callable[[dict, datetime], Row]
    conditions: Callable[[dict], list[dict] | None] | None = None


_RS_COLUMNS = [
    NAME,
    _col("Desired", "integer", "Replicas is the number of desired replicas."),
    _col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", "The number of ready replicas for this replica set."),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_col(),
]
_BINDING_COLUMNS = [
    NAME,
    _col("Role", description="RoleRef can reference a Role in the current namespace or a ClusterRole."),
    AGE,
    _col("Users", description="Users in the roleBinding", priority=1),
    _col("Groups", description="Groups in the roleBinding", priority=1),
    _col("ServiceAccounts", description="ServiceAccounts in the roleBinding", priority=1),
]
_EVENT_COLUMNS = [
    _col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    _col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    _col(
        "Reason",
        description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    _col("Object", description="The object that this event is about."),
    _col("Subobject", description="The field of the involved object the event is about.", priority=1),
    _col("Source", description="The component reporting this event.", priority=1),
    _col("Message", description="A human-readable description of the status of this operation."),
    _col("First Seen", description="The time at which the event was first recorded.", priority=1),
    _col("Count", description="The number of times this event has occurred.", priority=1),
    _col("Name", description=_NAME_DESC, priority=1, format_="name"),
]
_WEBHOOK_COLUMNS = [
    NAME,
    _col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
    AGE,
]

PRINTERS: dict[tuple[str, str], Printer] = {
    ("Pod", ""): Printer(
        [
            NAME,
            _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
            _col("Status", description="The aggregate status of the containers in this pod."),
            _col(
                "Restarts",
                description="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            _col("IP", description="IP address allocated to the pod.", priority=1),
            _col("Node", description="The node this pod is scheduled onto.", priority=1),
            _col(
                "Nominated Node", description="The node the scheduler nominated for preemption.", priority=1
            ),
            _col("Readiness Gates", description="Pod readiness gates that are true, out of all.", priority=1),
        ],
        _pod_row,
        _pod_conditions,
    ),
    ("PodTemplate", ""): Printer(
        [
            NAME,
            _col("Containers", description=_CONTAINERS_DESC),
            _col("Images", description=_IMAGES_DESC),
            _col("Pod Labels", description="The labels for the pod template."),
        ],
        _pod_template_row,
    ),
    ("ReplicationController", ""): Printer(_RS_COLUMNS, _replication_controller_row),
    ("Service", ""): Printer(
        [
            NAME,
            _col("Type", description="How the Service is exposed."),
            _col(
                "Cluster-IP",
                description="The IP address of the service, usually assigned by the control plane.",
            ),
            _col(
                "External-IP",
                description="IP addresses for which nodes in the cluster will also accept traffic.",
            ),
            _col("Port(s)", description="The list of ports that are exposed by this service."),
            AGE,
            _col(
                "Selector",
                description="Route service traffic to pods with label keys and values matching this selector.",
                priority=1,
            ),
        ],
        _service_row,
    ),
    ("Endpoints", ""): Printer(
        [NAME, _col("Endpoints", description="The set of all endpoints is the union of all subsets."), AGE],
        _endpoints_row,
    ),
    ("Node", ""): Printer(
        [
            NAME,
            _col("Status", description="The status of the node"),
            _col("Roles", description="The roles of the node"),
            AGE,
            _col("Version", description="Kubelet Version reported by the node."),
            _col("Internal-IP", description="List of addresses reachable to the node.", priority=1),
            _col("External-IP", description="List of addresses reachable to the node.", priority=1),
            _col("OS-Image", description="OS Image reported by the node from /etc/os-release.", priority=1),
            _col(
                "Kernel-Version",
                description="Kernel Version reported by the node from 'uname -r'.",
                priority=1,
            ),
            _col(
                "Container-Runtime", description="ContainerRuntime Version reported by the node.", priority=1
            ),
        ],
        _node_row,
    ),
    ("Event", ""): Printer(_EVENT_COLUMNS, _event_row),
    ("Event", "events.k8s.io"): Printer(_EVENT_COLUMNS, _events_v1_row),
    ("Namespace", ""): Printer(
        [NAME, _col("Status", description="The status of the namespace"), AGE], _namespace_row
    ),
    ("Secret", ""): Printer(
        [
            NAME,
            _col("Type", description="Used to facilitate programmatic handling of secret data."),
            _col("Data", description="The number of keys in the secret's data."),
            AGE,
        ],
        _secret_row,
    ),
    ("ServiceAccount", ""): Printer(
        [NAME, _col("Secrets", description="Secrets is a list of the secrets in the same namespace."), AGE],
        _service_account_row,
    ),
    ("PersistentVolume", ""): Printer(
        [
            NAME,
            _col("Capacity", description="The actual resources of the volume."),
            _col("Access Modes", description="All ways the volume can be mounted."),
            _col(
                "Reclaim Policy",
                description="What happens to a persistent volume when released from its claim.",
            ),
            _col(
                "Status",
                description="Phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            _col(
                "Claim",
                description="Part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
            ),
            _col("StorageClass", description="StorageClass of the pv"),
            _col("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
            _col("Reason", description="A brief CamelCase string that describes any failure."),
            AGE,
            _col(
                "VolumeMode",
                description="Whether the volume is a formatted filesystem or a raw block device.",
                priority=1,
            ),
        ],
        _persistent_volume_row,
    ),
    ("PersistentVolumeClaim", ""): Printer(
        [
            NAME,
            _col("Status", description="The current phase of PersistentVolumeClaim."),
            _col("Volume", description="The binding reference to the PersistentVolume backing this claim."),
            _col("Capacity", description="The actual resources of the underlying volume."),
            _col("Access Modes", description="The actual access modes the volume backing the PVC has."),
            _col("StorageClass", description="StorageClass of the pvc"),
            _col("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
            AGE,
            _col("VolumeMode", description="What type of volume is required by the claim.", priority=1),
        ],
        _persistent_volume_claim_row,
    ),
    ("ConfigMap", ""): Printer(
        [NAME, _col("Data", description="The number of keys in data and binaryData."), AGE], _config_map_row
    ),
    ("ResourceQuota", ""): Printer(
        [
            NAME,
            _col(
                "Request",
                description="Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            _col(
                "Limit",
                description="Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
            AGE,
        ],
        _resource_quota_row,
    ),
    ("Deployment", "apps"): Printer(
        [
            NAME,
            _col("Ready", description="Number of the pod with ready state"),
            _col(
                "Up-to-date",
                description="Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            _col("Available", description="Total number of available pods targeted by this deployment."),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_col("Label selector for pods."),
        ],
        _deployment_row,
    ),
    ("ReplicaSet", "apps"): Printer(_RS_COLUMNS, _replica_set_row),
    ("StatefulSet", "apps"): Printer(
        [NAME, _col("Ready", description="Number of the pod with ready state"), AGE, CONTAINERS, IMAGES],
        _stateful_set_row,
    ),
    ("DaemonSet", "apps"): Printer(
        [
            NAME,
            _col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
            _col(
                "Current",
                "integer",
                "The number of nodes running at least one daemon pod that are supposed to.",
            ),
            _col("Ready", "integer", "The number of nodes running the daemon pod with a Ready condition."),
            _col("Up-to-date", "integer", "The number of nodes running the updated daemon pod."),
            _col("Available", "integer", "The number of nodes running the daemon pod that are available."),
            _col(
                "Node Selector",
                description="NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_col(),
        ],
        _daemon_set_row,
    ),
    ("ControllerRevision", "apps"): Printer(
        [
            NAME,
            _col("Controller", description="Controller of the object"),
            _col("Revision", description="Revision indicates the revision of the state represented by Data."),
            AGE,
        ],
        _controller_revision_row,
    ),
    ("Job", "batch"): Printer(
        [
            NAME,
            _col("Status", description="Status of the job."),
            _col("Completions", description="The number of pods which reached phase Succeeded."),
            _col("Duration", description="Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_col(),
        ],
        _job_row,
    ),
    ("CronJob", "batch"): Printer(
        [
            NAME,
            _col("Schedule", description="The schedule in Cron format."),
            _col("Timezone", description="The time zone name for the given schedule."),
            _col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
            _col("Active", "integer", "A list of pointers to currently running jobs."),
            _col(
                "Last Schedule",
                description="Information when was the last time the job was successfully scheduled.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_col(),
        ],
        _cron_job_row,
    ),
    ("HorizontalPodAutoscaler", "autoscaling"): Printer(
        [
            NAME,
            _col("Reference", description="The target resource to scale."),
            _col("Targets", description="The metrics used to calculate the desired replica count."),
            _col("MinPods", description="The lower limit for the number of replicas."),
            _col("MaxPods", description="The upper limit for the number of replicas."),
            _col("Replicas", description="Current number of replicas of pods managed by this autoscaler."),
            AGE,
        ],
        _hpa_row,
    ),
    ("Ingress", "networking.k8s.io"): Printer(
        [
            NAME,
            _col(
                "Class",
                description="The name of the IngressClass resource that should be used for additional configuration",
            ),
            _col(
                "Hosts",
                description="Hosts that incoming requests are matched against before the ingress rule",
            ),
            _col("Address", description="Address is a list containing ingress points for the load-balancer"),
            _col("Ports", description="Ports of TLS configurations that open"),
            AGE,
        ],
        _ingress_row,
    ),
    ("IngressClass", "networking.k8s.io"): Printer(
        [
            NAME,
            _col("Controller", description="Controller that is responsible for handling this class"),
            _col("Parameters", description="A reference to a resource with additional parameters"),
            AGE,
        ],
        _ingress_class_row,
    ),
    ("NetworkPolicy", "networking.k8s.io"): Printer(
        [
            NAME,
            _col("Pod-Selector", description="Selects the pods to which this NetworkPolicy object applies."),
            AGE,
        ],
        _network_policy_row,
    ),
    ("EndpointSlice", "discovery.k8s.io"): Printer(
        [
            NAME,
            _col("AddressType", description="The type of address carried by this EndpointSlice."),
            _col("Ports", description="The network ports exposed by each endpoint in this slice."),
            _col("Endpoints", description="A list of unique endpoints in this slice."),
            AGE,
        ],
        _endpoint_slice_row,
    ),
    ("RoleBinding", "rbac.authorization.k8s.io"): Printer(_BINDING_COLUMNS, _binding_row),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io"): Printer(
        [
            {**c, "description": c["description"].replace("roleBinding", "clusterRoleBinding")}
            for c in _BINDING_COLUMNS
        ],
        _binding_row,
    ),
    ("Lease", "coordination.k8s.io"): Printer(
        [NAME, _col("Holder", description="The identity of the holder of a current lease."), AGE], _lease_row
    ),
    ("StorageClass", "storage.k8s.io"): Printer(
        [
            NAME,
            _col("Provisioner", description="Provisioner indicates the type of the provisioner."),
            _col(
                "ReclaimPolicy", description="Reclaim policy for dynamically provisioned PersistentVolumes."
            ),
            _col(
                "VolumeBindingMode", description="How PersistentVolumeClaims should be provisioned and bound."
            ),
            _col("AllowVolumeExpansion", description="Whether the storage class allow volume expand."),
            AGE,
        ],
        _storage_class_row,
    ),
    ("VolumeAttachment", "storage.k8s.io"): Printer(
        [
            NAME,
            _col(
                "Attacher",
                description="The name of the volume driver that MUST handle this request.",
                format_="name",
            ),
            _col("PV", description="Name of the persistent volume to attach."),
            _col("Node", description="The node that the volume should be attached to."),
            _col("Attached", "boolean", "Indicates the volume is successfully attached."),
            AGE,
        ],
        _volume_attachment_row,
    ),
    ("CSIDriver", "storage.k8s.io"): Printer(
        [
            NAME,
            _col("AttachRequired", "boolean", "Whether this CSI volume driver requires an attach operation."),
            _col(
                "PodInfoOnMount",
                "boolean",
                "Whether this CSI volume driver requires pod information during mount.",
            ),
            _col("StorageCapacity", "boolean", "Whether the driver reports storage capacity."),
            _col(
                "TokenRequests", description="Audiences of the service account tokens passed to the driver."
            ),
            _col("RequiresRepublish", "boolean", "Whether NodePublishVolume is called periodically."),
            _col("Modes", description="The volume lifecycle modes this driver supports."),
            AGE,
        ],
        _csi_driver_row,
    ),
    ("CSINode", "storage.k8s.io"): Printer(
        [
            NAME,
            _col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
            AGE,
        ],
        _csi_node_row,
    ),
    ("PodDisruptionBudget", "policy"): Printer(
        [
            NAME,
            _col("Min Available", description="The minimum number of pods that must be available."),
            _col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
            _col(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ],
        _pdb_row,
    ),
    ("PriorityClass", "scheduling.k8s.io"): Printer(
        [
            NAME,
            _col("Value", "integer", "The value of this priority class."),
            _col(
                "Global-Default",
                "boolean",
                "Whether this priority class is the default for pods without one.",
            ),
            AGE,
            _col("PreemptionPolicy", description="The Policy for preempting pods with lower priority."),
        ],
        _priority_class_row,
    ),
    ("RuntimeClass", "node.k8s.io"): Printer(
        [NAME, _col("Handler", description="The underlying runtime and configuration."), AGE],
        _runtime_class_row,
    ),
    ("MutatingWebhookConfiguration", "admissionregistration.k8s.io"): Printer(
        _WEBHOOK_COLUMNS, _webhook_configuration_row
    ),
    ("ValidatingWebhookConfiguration", "admissionregistration.k8s.io"): Printer(
        _WEBHOOK_COLUMNS, _webhook_configuration_row
    ),
}

_DEFAULT_COLUMNS = [NAME, _col("Created At", "date", _AGE_DESC)]


def _default_row(obj: dict, now: datetime) -> Row:
    """rest.defaultTableConvertor: the name and the creation time as UTC RFC3339."""
    return [_name(obj), _rfc3339(_get(obj, "metadata", "creationTimestamp"))]


def _find_printer(kind: str, group: str) -> Printer | None:
    group = group.split("/", 1)[0] if "/" in group else group  # tolerate "apps/v1"
    if group in ("core", "v1"):
        group = ""
    printer = PRINTERS.get((kind, group))
    if printer is None:  # tolerate "pod" for "Pod"
        printer = next(
            (p for (k, g), p in PRINTERS.items() if g == group and k.lower() == kind.lower()), None
        )
    return printer


# ---------------------------------------------------------------------------------------------------------
# Custom resources: CRD additionalPrinterColumns with a small client-go style JSONPath evaluator.
# ---------------------------------------------------------------------------------------------------------

_Step = (
    tuple  # ("field", name) | ("index", i) | ("slice", a, b) | ("all",) | ("filter", ...) | ("descend", name)
)


def _parse_jsonpath(path: str) -> list[_Step] | None:
    """Parse the "simple JSONPath" CRDs allow (".spec.x", "[0]", "[*]", "['a.b']", "[?(@.k==\"v\")]")."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[_Step] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == ".":
            descend = text.startswith("..", i)
            i += 2 if descend else 1
            name = []
            while i < n and text[i] not in ".[":
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                name.append(text[i])
                i += 1
            field = "".join(name)
            if descend:
                if not field:
                    return None
                steps.append(("descend", field))
            elif field == "*":
                steps.append(("all",))
            elif field:
                steps.append(("field", field))
        elif char == "[":
            end, quote, depth = i + 1, "", 0
            while end < n:
                c = text[end]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                elif c == "]" and depth == 0:
                    break
                end += 1
            if end >= n:
                return None
            step = _parse_bracket(text[i + 1 : end].strip())
            if step is None:
                return None
            steps.append(step)
            i = end + 1
        else:
            return None
    return steps


_FILTER = re.compile(r"^\?\(\s*(@[^=!<>]*?)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$")


def _parse_bracket(content: str) -> _Step | None:
    if content == "*":
        return ("all",)
    if len(content) >= 2 and content[0] == content[-1] and content[0] in "'\"":
        return ("field", content[1:-1])
    if content.startswith("?"):
        m = _FILTER.match(content)
        if not m:
            return None
        left = _parse_jsonpath(m.group(1)[1:])
        if left is None:
            return None
        right: Any = None
        if m.group(2):
            literal = m.group(3).strip()
            if len(literal) >= 2 and literal[0] == literal[-1] and literal[0] in "'\"":
                right = literal[1:-1]
            elif literal in ("true", "false"):
                right = literal == "true"
            else:
                try:
                    right = float(literal) if any(c in literal for c in ".eE") else int(literal)
                except ValueError:
                    return None
        return ("filter", left, m.group(2), right)
    if ":" in content:
        parts = content.split(":")
        try:
            bounds = [int(p) if p.strip() else None for p in parts[:2]]
        except ValueError:
            return None
        return ("slice", bounds[0], bounds[1] if len(bounds) > 1 else None)
    try:
        return ("index", int(content))
    except ValueError:
        return None


def _compare(left: Any, op: str | None, right: Any) -> bool:
    if op is None:
        return True  # existence test
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if op in ("==", "!="):
        equal = left == right if numbers or type(left) is type(right) else False
        return equal if op == "==" else not equal
    if not numbers and not (isinstance(left, str) and isinstance(right, str)):
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _descend(value: Any, name: str) -> list[Any]:
    found = []
    if isinstance(value, dict):
        if name in value:
            found.append(value[name])
        for child in value.values():
            found.extend(_descend(child, name))
    elif isinstance(value, list):
        for child in value:
            found.extend(_descend(child, name))
    return found


def _evaluate(steps: list[_Step], root: Any) -> list[Any]:
    values = [root]
    for step in steps:
        out: list[Any] = []
        for value in values:
            kind = step[0]
            if kind == "field" and isinstance(value, dict) and step[1] in value:
                out.append(value[step[1]])
            elif kind == "index" and isinstance(value, list) and -len(value) <= step[1] < len(value):
                out.append(value[step[1]])
            elif kind == "slice" and isinstance(value, list):
                out.extend(value[step[1] : step[2]])
            elif kind == "all" and isinstance(value, dict):
                out.extend(value[k] for k in sorted(value, key=str))
            elif kind == "all" and isinstance(value, list):
                out.extend(value)
            elif kind == "descend":
                out.extend(_descend(value, step[1]))
            elif kind == "filter" and isinstance(value, list):
                for item in value:
                    left = _evaluate(step[1], item)
                    if left and _compare(left[0], step[2], step[3]):
                        out.append(item)
        values = out
    return values


def _jsonpath_text(value: Any) -> str:
    """client-go JSONPath PrintResults: strings raw, numbers/bools as Go prints them, objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, (dict, list)):
        return _go_json(value)
    return str(value)


def _custom_cell(column_type: str, value: Any, now: datetime) -> Any:
    """tableconvertor cellForJSONValue: typed cells; "date" becomes an age; mismatches become null."""
    if value is None:
        return None
    if column_type == "string":
        return _jsonpath_text(value)
    if isinstance(value, bool):
        return value if column_type == "boolean" else None
    if column_type == "integer" and isinstance(value, (int, float)):
        return int(value) if math.isfinite(value) else None
    if column_type == "number" and isinstance(value, (int, float)):
        return float(value)
    if column_type == "date" and isinstance(value, str):
        if not value:  # an empty query parameter parses as the zero time
            return "<unknown>"
        parsed = _parse_any_time(value)
        if parsed is None:
            return "<invalid>"
        return _age(parsed, now)
    return None


def _custom_printer(printer_columns: list[dict]) -> Printer:
    """The CRD table convertor: NAME, then each additionalPrinterColumn (an empty list serves "Age")."""
    columns = [c for c in printer_columns if isinstance(c, dict)] or [
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp", "description": _AGE_DESC}
    ]
    definitions = [NAME]
    parsed: list[tuple[str, list[_Step] | None]] = []
    for column in columns:
        json_path = _str(column, "jsonPath")
        priority = _get(column, "priority", default=0)
        definitions.append(
            _col(
                _str(column, "name"),
                _str(column, "type"),
                _str(column, "description")
                or f"Custom resource definition column (in JSONPath format): {json_path}",
                priority=priority if isinstance(priority, int) and not isinstance(priority, bool) else 0,
                format_=_str(column, "format"),
            )
        )
        parsed.append((_str(column, "type"), _parse_jsonpath(json_path)))

    def row(obj: dict, now: datetime) -> Row:
        cells: Row = [_name(obj)]
        for column_type, steps in parsed:
            results = _evaluate(steps, obj) if steps is not None else []
            cells.append(_custom_cell(column_type, results[0], now) if results else None)
        return cells

    return Printer(definitions, row)


# ---------------------------------------------------------------------------------------------------------
# Public entry point.
# ---------------------------------------------------------------------------------------------------------


def _row_object(obj: dict, include_object: str) -> dict | None:
    """What a row carries back, per the request's includeObject (metav1.IncludeObjectPolicy)."""
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    metadata = obj.get("metadata")
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


def to_table(
    objects: list[dict],
    kind: str,
    group: str,
    *,
    list_meta: dict | None = None,
    include_object: str = "Metadata",
    now: datetime | None = None,
    additional_printer_columns: list[dict] | None = None,
) -> dict:
    """Render ``objects`` as the ``meta.k8s.io/v1`` Table kube-apiserver would return for them.

    ``kind``/``group`` pick the built-in printer (``group`` is "" for the core API). Passing
    ``additional_printer_columns`` (a list, possibly empty, taken from the served CRD version) selects the
    custom-resource convertor instead; kinds with neither get the default Name / Created At table. All
    columns, wide ones included, are always filled in: kubectl hides priority>0 columns itself. ``now``
    is the clock for AGE-style cells (default: the current UTC time). Never raises on malformed objects.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if additional_printer_columns is not None:
        printer = _custom_printer(
            additional_printer_columns if isinstance(additional_printer_columns, list) else []
        )
    else:
        printer = _find_printer(
            kind if isinstance(kind, str) else "", group if isinstance(group, str) else ""
        )
        printer = printer or Printer(_DEFAULT_COLUMNS, _default_row)
    width = len(printer.columns)

    rows = []
    for item in objects if isinstance(objects, list) else []:
        obj = item if isinstance(item, dict) else {}
        try:
            cells = printer.row(obj, now)
        except Exception:  # a malformed object must not break the whole listing
            cells = [_name(obj)]
        cells = (list(cells) + [None] * width)[:width]
        row: dict[str, Any] = {"cells": cells}
        if printer.conditions is not None:
            try:
                conditions = printer.conditions(obj)
            except Exception:
                conditions = None
            if conditions:
                row["conditions"] = conditions
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)

    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta) if isinstance(list_meta, dict) else {},
        "columnDefinitions": [dict(c) for c in printer.columns],
        "rows": rows,
    }
