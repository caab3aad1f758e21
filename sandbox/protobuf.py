"""Decode ``application/vnd.kubernetes.protobuf`` request bodies into the dicts a JSON body would give.

Why: the real kubectl (v1.37) sends typed-client requests (``create namespace``, ``auth can-i``, ``drain``
...) as Kubernetes protobuf, with no switch to turn that off. The sandbox keeps JSON everywhere else, so
bodies are turned into exactly the JSON-shaped dict the client would have sent and handled as usual.

The field numbers come from ``sandbox/data/proto_fields.json``, extracted from the kubectl binary by
``python -m sandbox.protogen`` (see there for the table format). A body is the magic ``k8s\\0`` followed
by a ``runtime.Unknown`` message {TypeMeta typeMeta = 1 {apiVersion = 1; kind = 2}; bytes raw = 2;
string contentEncoding = 3; string contentType = 4}; ``raw`` is the object's own message.

JSON shaping (gogo-generated Kubernetes marshalers always write non-pointer scalars, even when zero):
a zero/empty scalar is dropped when its Go json tag has ``omitempty`` (``omitzero`` for Time); pointer
fields keep whatever is on the wire; empty nested structs stay as ``{}`` just as encoding/json writes
them. Hand-written wire types are rendered as their JSON forms: Time/MicroTime -> RFC 3339 strings,
Duration -> Go duration string, Quantity -> string, IntOrString -> int or str, RawExtension / FieldsV1 /
apiextensions JSON -> the parsed JSON they carry.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import struct
from pathlib import Path
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
DATA_FILE = Path(__file__).resolve().parent / "data" / "proto_fields.json"
MAX_DEPTH = 64

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
DURATION = META + "Duration"
FIELDS_V1 = META + "FieldsV1"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
APIEXT_JSON = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"

WT_VARINT, WT_FIXED64, WT_LEN, WT_FIXED32 = 0, 1, 2, 5
VARINT_TYPES = {"bool", "int32", "int64", "uint32", "uint64"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ProtobufError(ValueError):
    """The body is not valid Kubernetes protobuf (the server answers 400)."""


Row = tuple[str, str, bool, bool, str]  # json name, wire kind, repeated, omit zero, type


@functools.cache
def tables() -> dict[str, dict[int, Row]]:
    """The field tables, by definition name, with integer field numbers."""
    with open(DATA_FILE, encoding="utf-8") as fh:
        raw = json.load(fh)
    return {name: {int(num): tuple(row) for num, row in fields.items()} for name, fields in raw.items()}


# ------------------------------------------------------------------------------------------ wire format

def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def _fields(buf: memoryview) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples; value is an int, or a memoryview for length-delimited."""
    out: list[tuple[int, int, Any]] = []
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ProtobufError("field number 0")
        if wt == WT_VARINT:
            value, pos = _varint(buf, pos)
        elif wt == WT_LEN:
            length, pos = _varint(buf, pos)
            if length > end - pos:
                raise ProtobufError(f"field {num}: length {length} runs past the end of the message")
            value, pos = buf[pos:pos + length], pos + length
        elif wt == WT_FIXED64:
            if pos + 8 > end:
                raise ProtobufError(f"field {num}: truncated fixed64")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wt == WT_FIXED32:
            if pos + 4 > end:
                raise ProtobufError(f"field {num}: truncated fixed32")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ProtobufError(f"field {num}: unsupported wire type {wt}")
        out.append((num, wt, value))
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, memoryview):
        raise ProtobufError(f"{what}: expected a length-delimited string")
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"{what}: invalid UTF-8") from exc


def _scalar(typ: str, wt: int, value: Any, what: str) -> Any:
    if typ == "string":
        return _text(value, what)
    if typ == "bytes":
        if not isinstance(value, memoryview):
            raise ProtobufError(f"{what}: expected bytes")
        return base64.b64encode(value).decode("ascii")
    if typ in VARINT_TYPES:
        if wt != WT_VARINT:
            raise ProtobufError(f"{what}: expected a varint, got wire type {wt}")
        if typ == "bool":
            return value != 0
        if typ == "int32":
            value = _signed(value)
            return value - (1 << 32) if (1 << 31) <= value < (1 << 32) else value  # 32-bit sign form
        if typ == "int64":
            return _signed(value)
        if typ == "uint32":
            return value & 0xFFFFFFFF
        return value
    if typ == "float64":
        if wt != WT_FIXED64:
            raise ProtobufError(f"{what}: expected a fixed64 double")
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if typ == "float32":
        if wt != WT_FIXED32:
            raise ProtobufError(f"{what}: expected a fixed32 float")
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    raise ProtobufError(f"{what}: unknown type {typ!r} in the field table")


def _packed(typ: str, value: memoryview, what: str) -> list[Any]:
    """The elements of a packed repeated scalar field."""
    out: list[Any] = []
    pos, end = 0, len(value)
    if typ in VARINT_TYPES:
        while pos < end:
            v, pos = _varint(value, pos)
            out.append(_scalar(typ, WT_VARINT, v, what))
    elif typ in ("float64", "float32"):
        size, wt = (8, WT_FIXED64) if typ == "float64" else (4, WT_FIXED32)
        if end % size:
            raise ProtobufError(f"{what}: packed {typ} length not a multiple of {size}")
        for pos in range(0, end, size):
            out.append(_scalar(typ, wt, int.from_bytes(value[pos:pos + size], "little"), what))
    else:
        raise ProtobufError(f"{what}: {typ} cannot be packed")
    return out


# ------------------------------------------------------------------------------------------ special types

def _go_duration(ns: int) -> str:
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg, u = ns < 0, abs(ns)
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                text = _frac(u, size) + unit
                break
    else:
        secs, frac = divmod(u, 1_000_000_000)
        mins, secs = divmod(secs, 60)
        hours, mins = divmod(mins, 60)
        text = _frac(secs * 1_000_000_000 + frac, 1_000_000_000) + "s"
        if hours or mins:
            text = f"{mins}m" + text
        if hours:
            text = f"{hours}h" + text
    return ("-" if neg else "") + text


def _frac(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")


def _timestamp(buf: memoryview, what: str) -> tuple[int, int] | None:
    if len(buf) == 0:
        return None  # Go's zero time.Time marshals as an empty message
    seconds = nanos = 0
    for num, wt, value in _fields(buf):
        if num == 1:
            seconds = _scalar("int64", wt, value, what + ".seconds")
        elif num == 2:
            nanos = _scalar("int32", wt, value, what + ".nanos")
    return seconds, nanos


def _render_time(buf: memoryview, micro: bool, what: str) -> str | None:
    stamp = _timestamp(buf, what)
    if stamp is None:
        return None
    seconds, nanos = stamp
    try:
        when = _EPOCH + dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError as exc:
        raise ProtobufError(f"{what}: time out of range") from exc
    text = (f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
            f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}")
    return text + (f".{when.microsecond:06d}Z" if micro else "Z")


def _embedded_json(buf: memoryview, what: str, depth: int) -> Any:
    raw = b""
    for num, _wt, value in _fields(buf):
        if num == 1 and isinstance(value, memoryview):
            raw = bytes(value)
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return _decode(raw, depth + 1)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtobufError(f"{what}: embedded data is not JSON") from exc


def _special(typ: str, buf: memoryview, what: str, depth: int) -> Any:
    if typ in (TIME, MICRO_TIME):
        return _render_time(buf, typ == MICRO_TIME, what)
    if typ == DURATION:
        ns = 0
        for num, wt, value in _fields(buf):
            if num == 1:
                ns = _scalar("int64", wt, value, what)
        return _go_duration(ns)
    if typ == QUANTITY:
        text = "0"
        for num, _wt, value in _fields(buf):
            if num == 1:
                text = _text(value, what)
        return text
    if typ == INT_OR_STRING:
        kind, int_val, str_val = 0, 0, ""
        for num, wt, value in _fields(buf):
            if num == 1:
                kind = _scalar("int64", wt, value, what + ".type")
            elif num == 2:
                int_val = _scalar("int32", wt, value, what + ".intVal")
            elif num == 3:
                str_val = _text(value, what + ".strVal")
        return str_val if kind == 1 else int_val
    return _embedded_json(buf, what, depth)  # RawExtension, FieldsV1, apiextensions JSON


SPECIAL = {TIME, MICRO_TIME, DURATION, QUANTITY, INT_OR_STRING, RAW_EXTENSION, FIELDS_V1, APIEXT_JSON}


# ------------------------------------------------------------------------------------------ messages

def _value(typ: str, wt: int, value: Any, what: str, depth: int) -> Any:
    """One (non-repeated) value of table type ``typ``."""
    if typ.startswith("map:"):
        raise ProtobufError(f"{what}: map value outside a repeated field")
    if typ.startswith("items:"):
        if not isinstance(value, memoryview):
            raise ProtobufError(f"{what}: expected a length-delimited list wrapper")
        return _repeated_items(typ[len("items:"):], value, what, depth)
    if "." in typ:
        if not isinstance(value, memoryview):
            raise ProtobufError(f"{what}: expected an embedded message, got wire type {wt}")
        if depth > MAX_DEPTH:
            raise ProtobufError("message nested too deeply")
        if typ in SPECIAL:
            return _special(typ, value, what, depth + 1)
        return _message(value, typ, depth + 1)
    return _scalar(typ, wt, value, what)


def _repeated_items(elem: str, buf: memoryview, what: str, depth: int) -> list[Any]:
    """A named slice (e.g. metav1.Verbs, ExtraValue): message {repeated ELEM items = 1}."""
    out: list[Any] = []
    for num, wt, value in _fields(buf):
        if num == 1:
            _append(out, elem, wt, value, what, depth)
    return out


def _append(out: list[Any], typ: str, wt: int, value: Any, what: str, depth: int) -> None:
    if wt == WT_LEN and typ in VARINT_TYPES | {"float64", "float32"}:
        out.extend(_packed(typ, value, what))
    else:
        out.append(_value(typ, wt, value, what, depth))


def _zero_value(typ: str) -> Any:
    if typ == "string":
        return ""
    if typ in ("bool",):
        return False
    if typ in VARINT_TYPES or typ in ("float64", "float32"):
        return 0
    if typ == "bytes":
        return ""
    if typ.startswith("items:"):
        return []
    if typ == QUANTITY:
        return "0"
    if typ == INT_OR_STRING:
        return 0
    if typ in SPECIAL:
        return None
    return {}


def _map_entry(typ: str, buf: memoryview, what: str, depth: int) -> tuple[str, Any]:
    key, val, seen = "", None, False
    for num, wt, value in _fields(buf):
        if num == 1:
            key = _text(value, what + " key")
        elif num == 2:
            val, seen = _value(typ, wt, value, f"{what}[{key}]", depth), True
    return key, (val if seen else _zero_value(typ))


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or (value is not True and value == 0)


def _message(buf: memoryview, name: str, depth: int = 0, out: dict[str, Any] | None = None) -> dict[str, Any]:
    table = tables().get(name)
    if table is None:
        raise ProtobufError(f"no protobuf field table for {name}")
    if out is None:
        out = {}
    short = name.rsplit(".", 1)[-1]
    pending: dict[int, list[tuple[int, Any]]] = {}
    for num, wt, value in _fields(buf):
        if num in table:
            pending.setdefault(num, []).append((wt, value))
    for num, values in pending.items():
        json_name, _wire, repeated, omit_zero, typ = table[num]
        what = f"{short}.{json_name or typ.rsplit('.', 1)[-1]}"
        if json_name == "":  # embedded struct inlined into this object's JSON
            merged = b"".join(bytes(v) for wt, v in values if wt == WT_LEN)
            _message(memoryview(merged), typ, depth + 1, out)
            continue
        if typ.startswith("map:"):
            entries: dict[str, Any] = out.get(json_name) if isinstance(out.get(json_name), dict) else {}
            for wt, value in values:
                if wt != WT_LEN:
                    raise ProtobufError(f"{what}: map entry must be length-delimited")
                key, val = _map_entry(typ[len("map:"):], value, what, depth + 1)
                entries[key] = val
            out[json_name] = entries
        elif repeated:
            items: list[Any] = []
            for wt, value in values:
                _append(items, typ, wt, value, what, depth)
            out[json_name] = items
        else:
            wt, value = values[-1]
            if len(values) > 1 and "." in typ and wt == WT_LEN:
                # a message repeated on the wire merges (protobuf semantics)
                value = memoryview(b"".join(bytes(v) for w, v in values if w == WT_LEN))
            decoded = _value(typ, wt, value, what, depth)
            if omit_zero and _is_zero(decoded):
                out.pop(json_name, None)
                continue
            out[json_name] = decoded
    return out


# ------------------------------------------------------------------------------------------ entry point

def _decode(body: bytes, depth: int) -> dict[str, Any]:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise ProtobufError("body must be bytes")
    buf = memoryview(bytes(body))
    if bytes(buf[:4]) != MAGIC:
        raise ProtobufError("not a Kubernetes protobuf body (missing the 'k8s\\x00' prefix)")
    api_version = kind = encoding = ""
    raw: memoryview = memoryview(b"")
    for num, wt, value in _fields(buf[4:]):
        if num == 1:
            if wt != WT_LEN:
                raise ProtobufError("runtime.Unknown.typeMeta must be a message")
            for n2, _w2, v2 in _fields(value):
                if n2 == 1:
                    api_version = _text(v2, "typeMeta.apiVersion")
                elif n2 == 2:
                    kind = _text(v2, "typeMeta.kind")
        elif num == 2:
            if wt != WT_LEN:
                raise ProtobufError("runtime.Unknown.raw must be bytes")
            raw = value
        elif num == 3:
            encoding = _text(value, "contentEncoding")
    if not api_version or not kind:
        raise ProtobufError("protobuf body has no apiVersion/kind")
    if encoding:
        raise ProtobufError(f"unsupported contentEncoding {encoding!r}")
    group, _, version = api_version.rpartition("/")
    from sandbox import schema

    name = schema.definition_for_gvk(group, version, kind)
    if name is None or name not in tables():
        raise ProtobufError(f"cannot decode protobuf for unknown kind {kind!r} in {api_version!r}")
    obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    obj.update(_message(raw, name, depth))
    return obj


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object carried by a ``application/vnd.kubernetes.protobuf`` body.

    Raises ProtobufError (a ValueError) for anything malformed or of an unknown kind.
    """
    try:
        return _decode(body, 0)
    except ProtobufError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, UnicodeDecodeError, struct.error, OverflowError,
            RecursionError) as exc:
        raise ProtobufError(f"malformed protobuf body: {exc}") from exc
