"""Recover Kubernetes' protobuf field numbers from the kubectl binary; writes ``sandbox/data/proto_fields.json``.

Why: the real kubectl sends typed-client bodies as ``application/vnd.kubernetes.protobuf`` and the sandbox
must decode them, but the ``generated.proto`` files cannot be downloaded here. kubectl is a Go binary, and
Go keeps every struct's field names *with their struct tags* in its run-time type data, e.g. the field
``Spec`` with tag ``json:"spec" protobuf:"bytes,2,opt,name=spec"``. Those tags are what the protobuf
marshalers were generated from, so they give the exact numbering.

How (Go 1.21+ ``internal/abi`` layout, amd64, non-PIE static binary; checked against kubectl v1.37 / go1.26):

1. Parse the ELF section headers and take ``.rodata``, where the linker puts type descriptors and names.
2. Every tag containing ``protobuf:"`` sits inside an ``abi.Name`` record: a flags byte (bit0 exported,
   bit1 has tag, bit2 has pkgPath, bit3 embedded), a varint length and the field name, then a varint
   length and the tag. Walk back from each hit to the record start; collect the records' addresses.
3. Read ``.rodata`` as little-endian u64 words. ``abi.StructField`` is {Name *byte, Typ *Type, Offset
   uintptr} (24 bytes), so a word equal to a record address marks a field. A struct's fields are found
   through its ``Fields`` slice header {ptr, len, cap}: a word pair ``len == cap`` after a pointer into
   an array that holds one of those fields.
4. The slice header sits at offset 56 of ``abi.StructType`` = ``abi.Type`` (48 bytes: Size_, PtrBytes,
   Hash, TFlag, Align_, FieldAlign_, Kind_, Equal, GCData, Str NameOff, PtrToThis) + PkgPath (8). ``Str``
   is an offset from the module's types base (the start of ``.rodata`` here, verified by decoding); TFlag
   bit1 (ExtraStar) means the string carries a leading ``*``. For named types an ``abi.UncommonType``
   follows the 80-byte struct descriptor; its first int32 is the NameOff of the full package path, e.g.
   ``k8s.io/api/authorization/v1``.
5. The Go package path maps straight onto OpenAPI definition names (``k8s.io/api/apps/v1.Deployment`` ->
   ``io.k8s.api.apps.v1.Deployment``); the match is then checked against the definition's property names.
   Each field's ``Typ`` pointer is followed (through pointers, slices and maps: Elem at offset 48, map Key
   at 48 and Elem at 56) to learn what its value is: a scalar, ``[]byte``, another struct, a map, or one
   of the hand-written wire types (Time, Quantity, IntOrString, ...).

Table format (one line per definition, sorted):
``{definition: {field number: [json name, wire kind, repeated, omit zero, type]}}`` where the json name is
``""`` for an inlined embedded struct (its fields appear in the parent's JSON), "omit zero" means a
zero/empty scalar on the wire is dropped (``omitempty`` on a non-pointer field, or ``omitzero``), and
type is a scalar (``string``, ``bool``, ``int32``, ``int64``, ``uint32``, ``uint64``, ``float32``,
``float64``, ``bytes``), a nested message's table name, ``map:VALUE`` (entries {key = 1; value = 2},
string keys) or ``items:ELEM`` (a named slice such as ``Verbs``/``ExtraValue``, wrapped as {repeated
ELEM items = 1}). Special types (see ``SPECIAL``) are table entries too but are rendered by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import struct
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "proto_fields.json"

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# Types with hand-written protobuf (or a JSON form unlike their struct); the decoder renders them itself.
SPECIAL = {
    META + "Time", META + "MicroTime", META + "Duration", META + "FieldsV1",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
}
# Hand-written wire formats that the binary cannot show as tags (metav1.Time marshals through
# metav1.Timestamp, whose tags the binary does show: the Time tables are copied from it when found).
HANDWRITTEN: dict[str, dict[str, list[Any]]] = {
    META + "Time": {"1": ["seconds", "varint", False, False, "int64"], "2": ["nanos", "varint", False, False, "int32"]},
    META + "MicroTime": {"1": ["seconds", "varint", False, False, "int64"],
                         "2": ["nanos", "varint", False, False, "int32"]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"1": ["string", "bytes", False, False, "string"]},
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": {"1": ["raw", "bytes", False, False, "bytes"]},
}
# Envelope types the decoder needs but that have no OpenAPI definition.
EXTRA_ROOTS = ["io.k8s.apimachinery.pkg.runtime.Unknown", META + "Timestamp", META + "TypeMeta"]

# abi.Kind values
K_BOOL, K_INT, K_INT8, K_INT16, K_INT32, K_INT64 = 1, 2, 3, 4, 5, 6
K_UINT, K_UINT8, K_UINT16, K_UINT32, K_UINT64, K_UINTPTR = 7, 8, 9, 10, 11, 12
K_FLOAT32, K_FLOAT64 = 13, 14
K_ARRAY, K_INTERFACE, K_MAP, K_PTR, K_SLICE, K_STRING, K_STRUCT = 17, 20, 21, 22, 23, 24, 25
SCALARS = {K_BOOL: "bool", K_INT: "int64", K_INT8: "int32", K_INT16: "int32", K_INT32: "int32", K_INT64: "int64",
           K_UINT: "uint64", K_UINT8: "uint32", K_UINT16: "uint32", K_UINT32: "uint32", K_UINT64: "uint64",
           K_UINTPTR: "uint64", K_FLOAT32: "float32", K_FLOAT64: "float64", K_STRING: "string"}
WIRE_OF = {"bool": "varint", "int32": "varint", "int64": "varint", "uint32": "varint", "uint64": "varint",
           "float32": "fixed32", "float64": "fixed64"}
TFLAG_UNCOMMON, TFLAG_EXTRA_STAR = 1, 2
TYPE_SIZE = 48  # sizeof(abi.Type) on 64-bit
STRUCT_TYPE_SIZE = TYPE_SIZE + 8 + 24
FIELD_SIZE = 24
IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*\Z")


class ExtractError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------- ELF / memory

class Image:
    """The read-only data of a little-endian 64-bit ELF executable, addressed by virtual address."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ExtractError(f"{path}: not a little-endian 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        raw = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
        strtab = raw[shstrndx][4]
        self.sections: dict[str, tuple[int, int, int]] = {}
        for name_off, _typ, _flags, addr, off, size in raw:
            end = data.index(b"\0", strtab + name_off)
            self.sections[data[strtab + name_off:end].decode()] = (addr, off, size)
        if ".rodata" not in self.sections:
            raise ExtractError(f"{path}: no .rodata section (is this a Go binary?)")
        if ".data.rel.ro" in self.sections:
            raise ExtractError(f"{path}: position-independent binary (.data.rel.ro) is not supported")
        addr, off, size = self.sections[".rodata"]
        self.base = addr
        self.buf = data[off:off + size]
        self.end = addr + len(self.buf)
        if addr % 8:
            raise ExtractError(".rodata is not 8-aligned")
        self.words = memoryview(self.buf[:len(self.buf) // 8 * 8]).cast("Q")
        # where the runtime's moduledata lives (its `types` field is the types base)
        mod = self.sections.get(".go.module") or self.sections.get(".noptrdata")
        self.moduledata_words: list[int] = []
        if mod:
            chunk = data[mod[1]:mod[1] + mod[2]]
            self.moduledata_words = list(memoryview(chunk[:len(chunk) // 8 * 8]).cast("Q"))

    def has(self, addr: int) -> bool:
        return self.base <= addr < self.end

    def u8(self, addr: int) -> int:
        return self.buf[addr - self.base]

    def i32(self, addr: int) -> int:
        return struct.unpack_from("<i", self.buf, addr - self.base)[0]

    def u64(self, addr: int) -> int:
        return struct.unpack_from("<Q", self.buf, addr - self.base)[0]


def uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos
        if shift > 35:
            raise ValueError("varint too long")


@dataclass
class NameRecord:
    flags: int
    name: str
    tag: str | None
    end: int  # address just past the record

    @property
    def embedded(self) -> bool:
        return bool(self.flags & 8)


def read_name(img: Image, addr: int, *, ident: bool = True) -> NameRecord | None:
    """Decode the ``abi.Name`` record at ``addr``; None when it does not look like one."""
    if not img.has(addr):
        return None
    buf, pos = img.buf, addr - img.base
    try:
        flags = buf[pos]
        if flags & ~0x0F:
            return None
        length, pos = uvarint(buf, pos + 1)
        if length == 0 or pos + length > len(buf):
            return None
        name = buf[pos:pos + length]
        pos += length
        tag = None
        if flags & 2:
            tlen, pos = uvarint(buf, pos)
            if pos + tlen > len(buf):
                return None
            tag = buf[pos:pos + tlen].decode("utf-8", "replace")
    except (IndexError, ValueError):
        return None
    if ident and not IDENT.match(name):
        return None
    return NameRecord(flags, name.decode("utf-8", "replace"), tag, img.base + pos + (tlen if flags & 2 else 0))


# --------------------------------------------------------------------------------------------- Go types

@dataclass
class GoType:
    addr: int
    kind: int
    string: str  # as reflect prints it, e.g. "v1.ObjectMeta", "*v1.Time", "map[string]string"
    pkgpath: str | None  # full package path of a named type
    named: bool

    @property
    def full_name(self) -> str | None:
        """e.g. ``k8s.io/api/core/v1.Pod`` for a named type."""
        if not self.pkgpath or not self.named:
            return None
        return f"{self.pkgpath}.{self.string.rsplit('.', 1)[-1]}"


@dataclass
class GoField:
    name: str
    tag: str
    embedded: bool
    typ: int  # address of the field's abi.Type


@dataclass
class GoStruct:
    typ: GoType
    fields: list[GoField] = field(default_factory=list)


class TypeReader:
    def __init__(self, img: Image, types_base: int) -> None:
        self.img = img
        self.types_base = types_base
        self._cache: dict[int, GoType] = {}

    def name_off(self, off: int) -> str | None:
        rec = read_name(self.img, self.types_base + off, ident=False)
        return rec.name if rec else None

    def type_at(self, addr: int) -> GoType:
        if addr in self._cache:
            return self._cache[addr]
        img = self.img
        if not img.has(addr) or not img.has(addr + TYPE_SIZE):
            raise ExtractError(f"type pointer {addr:#x} outside .rodata")
        tflag, kind = img.u8(addr + 20), img.u8(addr + 23) & 0x1F
        string = self.name_off(img.i32(addr + 40)) or "?"
        if tflag & TFLAG_EXTRA_STAR and string.startswith("*"):
            string = string[1:]
        pkgpath = None
        named = bool(tflag & 4)  # abi.TFlagNamed
        if tflag & TFLAG_UNCOMMON and kind == K_STRUCT:
            pkgpath = self.name_off(img.i32(addr + STRUCT_TYPE_SIZE))
        t = GoType(addr, kind, string, pkgpath, named)
        self._cache[addr] = t
        return t

    def elem(self, t: GoType) -> GoType:
        """Element type of a pointer, slice or array (and the value type of a map)."""
        off = 56 if t.kind == K_MAP else 48
        return self.type_at(self.img.u64(t.addr + off))

    def key(self, t: GoType) -> GoType:
        return self.type_at(self.img.u64(t.addr + 48))


def find_types_base(img: Image, probe: list[int]) -> int:
    """The module's types base: the candidate under which the probe types' Str offsets decode best."""
    # the start of .rodata first, then any .rodata address stored in the moduledata's section
    candidates = [img.base] + [w for w in Counter(w for w in img.moduledata_words if img.has(w))
                               if w != img.base][:64]
    best, best_score = img.base, -1
    for cand in candidates:
        score = 0
        reader = TypeReader(img, cand)
        for addr in probe[:200]:
            s = reader.name_off(img.i32(addr + 40))
            if s and re.fullmatch(r"\*?[\w./\[\]* {};]+", s) and "." in s:
                score += 1
        if score > best_score:
            best, best_score = cand, score
        if best_score >= min(len(probe), 200) * 0.9:
            break
    if best_score < min(len(probe), 200) * 0.9:
        raise ExtractError("could not verify the types base (type names do not decode)")
    return best


def scan_structs(img: Image) -> tuple[list[GoStruct], TypeReader, int]:
    """Every struct type in the binary that has at least one field with a protobuf tag."""
    buf, words, base = img.buf, img.words, img.base
    # 1. abi.Name records whose tag mentions protobuf
    records: set[int] = set()
    for m in re.finditer(rb'protobuf:"', buf):
        hit = m.start()
        for start in range(hit - 2, max(0, hit - 600), -1):
            rec = read_name(img, base + start)
            # the record must span the hit and its tag must end in a quote
            if rec is not None and rec.tag is not None and rec.end > base + hit and rec.tag.endswith('"'):
                records.add(base + start)
                break
    # 2. abi.StructField slots naming those records
    field_slots = {i for i, w in enumerate(words) if w in records}
    # 3. Fields slice headers {ptr, len, cap} pointing at arrays that hold such a slot
    structs: list[GoStruct] = []
    headers: list[int] = []
    n_words = len(words)
    for i in range(n_words - 2):
        w = words[i]
        if w < base or w >= img.end or w & 7:
            continue
        n = words[i + 1]
        if n == 0 or n > 4096 or words[i + 2] != n:
            continue
        j = (w - base) >> 3
        if any((j + 3 * k) in field_slots for k in range(n)):
            headers.append(i)
    probe = [base + (i - 7) * 8 for i in headers if i >= 7]
    types_base = find_types_base(img, probe)
    reader = TypeReader(img, types_base)
    for i in headers:
        taddr = base + (i - 7) * 8
        if i < 7 or img.u8(taddr + 23) & 0x1F != K_STRUCT:
            continue  # a pointer into a field array that is not a struct's Fields slice
        t = reader.type_at(taddr)
        j = (words[i] - base) >> 3
        st = GoStruct(t)
        ok = True
        for k in range(words[i + 1]):
            name_addr, typ, _off = words[j + 3 * k], words[j + 3 * k + 1], words[j + 3 * k + 2]
            rec = read_name(img, name_addr)
            if rec is None or not img.has(typ):
                ok = False
                break
            st.fields.append(GoField(rec.name, rec.tag or "", rec.embedded, typ))
        if ok:
            structs.append(st)
    return structs, reader, len(records)


# --------------------------------------------------------------------------------------------- tags

def parse_tag(tag: str) -> dict[str, str]:
    """``json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`` -> {"json": ..., "protobuf": ...}."""
    return {m.group(1): m.group(2) for m in re.finditer(r'(\w+):"((?:[^"\\]|\\.)*)"', tag)}


def openapi_name(full_name: str) -> str:
    """``k8s.io/api/apps/v1.Deployment`` -> ``io.k8s.api.apps.v1.Deployment``."""
    path, _, short = full_name.rpartition(".")
    host, _, rest = path.partition("/")
    parts = list(reversed(host.split("."))) + [p for p in rest.split("/") if p]
    return ".".join(parts + [short])


@dataclass
class Field:
    number: int
    json: str
    wire: str
    repeated: bool
    omit_zero: bool
    type: str
    tag: dict[str, str]
    go_name: str

    def row(self) -> list[Any]:
        return [self.json, self.wire, self.repeated, self.omit_zero, self.type]


class Builder:
    def __init__(self, structs: list[GoStruct], reader: TypeReader) -> None:
        self.reader = reader
        self.by_full: dict[str, GoStruct] = {}
        self.duplicates: list[str] = []  # one Go type name, several descriptors with differing tags
        for st in structs:
            fn = st.typ.full_name
            if not fn:
                continue
            seen = self.by_full.setdefault(fn, st)
            if seen is not st and [(f.name, f.tag) for f in seen.fields] != [(f.name, f.tag) for f in st.fields]:
                self.duplicates.append(fn)
        self.tables: dict[str, dict[int, Field]] = {}
        self.problems: list[str] = []
        self.tag_fixes: list[str] = []
        self._pending: list[str] = []

    # type descriptors ------------------------------------------------------------------------------
    def struct_ref(self, t: GoType) -> str:
        fn = t.full_name
        if not fn:
            self.problems.append(f"unnamed struct type {t.string}")
            return "?"
        name = openapi_name(fn)
        if name not in self.tables and name not in self._pending:
            self._pending.append(name)
        return name

    def value_type(self, t: GoType) -> str:
        """Descriptor of a single value of Go type ``t`` (not a repeated field)."""
        r = self.reader
        while t.kind == K_PTR:
            t = r.elem(t)
        if t.kind in SCALARS:
            return SCALARS[t.kind]
        if t.kind == K_SLICE:
            elem = r.elem(t)
            if elem.kind == K_UINT8:
                return "bytes"
            return "items:" + self.value_type(elem)
        if t.kind == K_MAP:
            if r.key(t).kind != K_STRING:
                self.problems.append(f"map with non-string key {t.string}")
            return "map:" + self.value_type(r.elem(t))
        if t.kind == K_STRUCT:
            return self.struct_ref(t)
        self.problems.append(f"unsupported Go kind {t.kind} ({t.string})")
        return "?"

    # structs ----------------------------------------------------------------------------------------
    def build(self, name: str) -> None:
        full = self.full_for(name)
        st = self.by_full.get(full) if full else None
        if st is None:
            return
        table: dict[int, Field] = {}
        r = self.reader
        for f in st.fields:
            tag = parse_tag(f.tag)
            pb = tag.get("protobuf")
            if not pb or pb == "-":
                continue
            parts = pb.split(",")
            wire, number = parts[0], int(parts[1])
            opts = dict(p.split("=", 1) if "=" in p else (p, "") for p in parts[2:])
            js = tag.get("json")
            json_opts = (js or "").split(",")
            json_name = json_opts[0] if js is not None else opts.get("name", f.name)
            if js is not None and (json_name == "" or "inline" in json_opts[1:]) and f.embedded:
                json_name = ""
            elif json_name in ("", "-"):
                json_name = opts.get("name", f.name)
            # go-to-protobuf takes only the number (and proto name) from the tag; the proto type and the
            # cardinality follow from the Go type, and some hand-written tags disagree with it (e.g.
            # PriorityClass.value is tagged "bytes" but is an int32 varint on the wire).
            t = r.type_at(f.typ)
            pointer = t.kind == K_PTR
            base_t = t
            while base_t.kind == K_PTR:
                base_t = r.elem(base_t)
            if base_t.kind == K_SLICE and not base_t.named and r.elem(base_t).kind != K_UINT8:
                repeated, vtype = True, self.value_type(r.elem(base_t))
            elif base_t.kind == K_MAP:
                repeated, vtype = True, self.value_type(base_t)
            else:
                repeated, vtype = False, self.value_type(base_t)
            implied = WIRE_OF.get(vtype, "bytes")
            if implied != wire or repeated != ("rep" in opts):
                self.tag_fixes.append(f"{name}.{json_name or f.name} ({number}): tag says {wire},"
                                      f"{'rep' if 'rep' in opts else 'opt'}; Go type {t.string} gives "
                                      f"{implied},{'rep' if repeated else 'opt'}")
            wire = implied
            omit_zero = (not pointer and base_t.kind != K_STRUCT and "omitempty" in json_opts[1:]) or \
                "omitzero" in json_opts[1:]
            if number in table:
                self.problems.append(f"{name}: field number {number} used twice")
            table[number] = Field(number, json_name, wire, repeated, omit_zero, vtype, tag, f.name)
        self.tables[name] = table

    def full_for(self, name: str) -> str | None:
        return self._names.get(name)

    def run(self, roots: list[str]) -> None:
        self._names = {openapi_name(fn): fn for fn in self.by_full}
        self._pending = [n for n in roots if n in self._names]
        while self._pending:
            name = self._pending.pop(0)
            if name in self.tables:
                continue
            self.build(name)


# --------------------------------------------------------------------------------------------- matching

def json_names(builder: Builder, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The JSON property names a table produces (inlined structs flattened)."""
    out: set[str] = set()
    for f in builder.tables.get(name, {}).values():
        if f.json == "" and f.type not in seen:
            out |= json_names(builder, f.type, seen | {name})
        else:
            out.add(f.json)
    return out


def extract(binary: Path) -> tuple[dict[str, dict[str, list[Any]]], dict[str, Any]]:
    from sandbox import schema

    img = Image(binary)
    structs, reader, n_records = scan_structs(img)
    defs = schema.definitions()
    builder = Builder(structs, reader)
    k8s_structs = [st for st in structs if st.typ.full_name]
    candidates = {openapi_name(st.typ.full_name): st for st in k8s_structs}  # type: ignore[arg-type]
    roots = sorted(n for n in candidates if n in defs) + EXTRA_ROOTS + sorted(SPECIAL & set(candidates))
    builder.run(roots)

    # Time/MicroTime marshal through metav1.Timestamp: take its numbering from the binary when present
    tables: dict[str, dict[str, list[Any]]] = {}
    for name, table in builder.tables.items():
        tables[name] = {str(n): f.row() for n, f in sorted(table.items())}
    stamp = tables.get(META + "Timestamp")
    for name, rows in HANDWRITTEN.items():
        if name in (META + "Time", META + "MicroTime") and stamp:
            rows = {k: [v[0], v[1], False, False, v[4]] for k, v in stamp.items()}
        tables[name] = rows

    # check the matches against the OpenAPI property names
    matched, mismatched, unmatched_defs = [], [], []
    for name in sorted(candidates):
        if name not in defs or name in SPECIAL:
            continue
        props = set((defs[name].get("properties") or {}).keys()) - {"apiVersion", "kind"}
        got = json_names(builder, name) - {"apiVersion", "kind"}  # from an inlined TypeMeta or a real field
        if got == props:
            matched.append(name)
        else:
            mismatched.append((name, sorted(got - props), sorted(props - got)))
    for name, schema_ in defs.items():
        if name not in tables and "properties" in schema_:
            unmatched_defs.append(name)
    go_only = sorted(n for n in candidates if n not in defs)
    summary = {
        "binary": str(binary),
        "tag_records": n_records,
        "structs_found": len(structs),
        "k8s_structs": sum(1 for st in k8s_structs if st.typ.pkgpath and "k8s.io" in st.typ.pkgpath),
        "matched": len(matched),
        "ambiguous": mismatched,
        "duplicates": sorted(set(builder.duplicates)),
        "definitions_without_table": unmatched_defs,
        "go_structs_without_definition": len(go_only),
        "tables_written": len(tables),
        "problems": sorted(set(builder.problems)),
        "tag_fixes": sorted(set(builder.tag_fixes)),
    }
    return tables, summary


def dump(tables: dict[str, dict[str, list[Any]]]) -> str:
    lines = []
    names = sorted(tables)
    for i, name in enumerate(names):
        rows = dict(sorted(tables[name].items(), key=lambda kv: int(kv[0])))
        sep = "," if i < len(names) - 1 else ""
        lines.append(f"{json.dumps(name)}: {json.dumps(rows, separators=(',', ':'))}{sep}")
    return "{\n" + "\n".join(lines) + "\n}\n"


def default_kubectl() -> Path:
    here = Path(sys.executable).parent / "kubectl"
    if here.exists():
        return here
    found = shutil.which("kubectl")
    if not found:
        raise SystemExit("kubectl not found next to the Python interpreter or on PATH; pass its path")
    return Path(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.protogen", description=__doc__.split("\n\n")[0])
    parser.add_argument("kubectl", nargs="?", type=Path, help="path to a kubectl binary (default: the venv's)")
    parser.add_argument("-o", "--output", type=Path, default=DATA_FILE)
    parser.add_argument("-v", "--verbose", action="store_true", help="list unmatched definitions")
    args = parser.parse_args(argv)
    binary = args.kubectl or default_kubectl()
    tables, summary = extract(binary)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dump(tables), encoding="utf-8")
    print(f"{binary}: {summary['tag_records']} protobuf-tagged field names, "
          f"{summary['structs_found']} structs with protobuf tags ({summary['k8s_structs']} from k8s.io)")
    print(f"matched to OpenAPI definitions: {summary['matched']}; "
          f"ambiguous (json names differ from the definition): {len(summary['ambiguous'])}; "
          f"duplicate Go types: {len(summary['duplicates'])}; "
          f"Go structs without a definition: {summary['go_structs_without_definition']}")
    for name in summary["duplicates"]:
        print(f"  ambiguous: several differing descriptors for Go type {name} (first one used)")
    for name, extra, missing in summary["ambiguous"]:
        print(f"  mismatch {name}: only in Go {extra}, only in OpenAPI {missing}")
    print(f"definitions (with properties) without a table: {len(summary['definitions_without_table'])}")
    if args.verbose:
        for name in summary["definitions_without_table"]:
            print(f"  {name}")
    print(f"tags whose wire kind or cardinality disagree with the Go type (Go type used): "
          f"{len(summary['tag_fixes'])}")
    if args.verbose:
        for line in summary["tag_fixes"]:
            print(f"  {line}")
    for p in summary["problems"]:
        print(f"  problem: {p}")
    print(f"wrote {len(tables)} tables to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
