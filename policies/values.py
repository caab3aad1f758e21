"""Typed readings of condition values: numbers, dates, IP addresses and booleans.

Why a module of its own: the concrete evaluator, the Z3 encoding and the parser must read a value the same
way. Each reader returns `None` for text that does not parse; a comparison with such a request value is
false for positive and negated operators alike (a policy value that does not parse is rejected by the parser).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
from fractions import Fraction

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_W3C = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def parse_number(text: str) -> Fraction | None:
    """An integer or decimal (`10`, `-2.5`), exactly; `None` if `text` is not one."""
    if not _NUMBER.fullmatch(text):
        return None
    return Fraction(text)


def parse_date(text: str) -> int | None:
    """Milliseconds since the epoch for a W3C ISO 8601 date or an epoch-seconds number; else `None`.

    A date-time without a zone is read as UTC (AWS compares instants; a zone-less time has no other reading).
    """
    if _EPOCH.fullmatch(text):
        return int(Fraction(text) * 1000)
    m = _W3C.fullmatch(text)
    if not m:
        return None
    try:
        year = int(m["y"])
        month = int(m["mo"] or 1)
        day = int(m["d"] or 1)
        hour = int(m["h"] or 0)
        minute = int(m["mi"] or 0)
        second = int(m["s"] or 0)
        frac = m["frac"] or ""
        micro = int((frac + "000000")[:6]) if frac else 0
        tz = _dt.UTC
        if m["tz"] and m["tz"] != "Z":
            sign = 1 if m["tz"][0] == "+" else -1
            hh, mm = int(m["tz"][1:3]), int(m["tz"][4:6])
            tz = _dt.timezone(sign * _dt.timedelta(hours=hh, minutes=mm))
        when = _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None
    delta = when - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_date(ms: int) -> str:
    """The ISO 8601 UTC text of a millisecond instant (inverse of `parse_date` for whole milliseconds)."""
    when = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(milliseconds=ms)
    if when.microsecond:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ip(text: str) -> tuple[int, int] | None:
    """`(4, address)` or `(6, address)` for an IPv4/IPv6 address, else `None`."""
    if "/" in text or "%" in text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return addr.version, int(addr)


def parse_cidr(text: str) -> tuple[int, int, int] | None:
    """`(version, network, prefix length)` for a CIDR block; a bare address is a /32 (or /128) block."""
    if "%" in text:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return net.version, int(net.network_address), net.prefixlen


def ip_in_cidr(ip: tuple[int, int], cidr: tuple[int, int, int]) -> bool:
    """Whether an address lies in a block; addresses of the other IP version never do."""
    version, net, plen = cidr
    if ip[0] != version:
        return False
    bits = 32 if version == 4 else 128
    mask = ((1 << plen) - 1) << (bits - plen) if plen else 0
    return (ip[1] & mask) == (net & mask)


def format_ip(version: int, value: int) -> str:
    """Dotted (or colon) text of an address."""
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def parse_bool(text: str) -> bool | None:
    """`true`/`false` in any case; else `None`."""
    low = text.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    return None


def format_number(value: Fraction) -> str:
    """Decimal text of a number (exact when the denominator is a power of 2 and 5; else 12 places)."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.12f}".rstrip("0")
    return text if not text.endswith(".") else text + "0"
