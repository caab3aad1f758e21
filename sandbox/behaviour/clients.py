"""The database images' own clients, as their probes use them: `mysqladmin ping`, `mysql -e 'SELECT 1'`,
`pg_isready`, `redis-cli ping`.

Why: the documented way to probe these images (the Kubernetes StatefulSet tutorials, the images' READMEs) is an
exec probe with the image's client. The model's shell runs commands it simulates; these answer from the state that
matters to a probe — is the server's port open, and does the password match the one the container was set up
with — and print the clients' real messages. Anything beyond a probe's question is left unsimulated (126).

Each client is `fn(argv, env, tcp_open) -> (stdout, stderr, status)`; `tcp_open(port)` says whether the
container's server accepts connections now.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["CLIENTS", "IMAGE_CLIENTS"]

TcpOpen = Callable[[int], bool]
Result = tuple[str, str, int]
_UNSIMULATED: Result = ("", "{name}: only the probe forms are simulated in the kubesage sandbox\n", 126)


def _opts(argv: list[str], flags: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Short/long options with values (`-h X`, `-hX`, `--host=X`), the rest as positionals."""
    out: dict[str, str] = {}
    rest: list[str] = []
    k = 1
    while k < len(argv):
        a = argv[k]
        if a.startswith("--") and "=" in a:
            key, val = a[2:].split("=", 1)
            out[flags.get("--" + key, key)] = val
        elif a in flags and a.startswith("--"):
            out[flags[a]] = argv[k + 1] if k + 1 < len(argv) else ""
            k += 1
        elif len(a) >= 2 and a[:2] in flags and a[0] == "-" and a[1] != "-":
            key = flags[a[:2]]
            if key == "password":  # -pSECRET only; a bare -p would prompt
                out[key] = a[2:]
            elif len(a) > 2:
                out[key] = a[2:]
            else:
                out[key] = argv[k + 1] if k + 1 < len(argv) else ""
                k += 1
        elif not a.startswith("-"):
            rest.append(a)
        k += 1
    return out, rest


_MYSQL_FLAGS = {"-h": "host", "--host": "host", "-P": "port", "--port": "port", "-u": "user", "--user": "user",
                "-p": "password", "--password": "password", "-e": "execute", "--execute": "execute"}


def _mysql_down(o: dict[str, str], prefix: str) -> str:
    host, port = o.get("host", "localhost"), o.get("port", "3306")
    if host == "localhost":
        return f"{prefix}Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)"
    return f"{prefix}Can't connect to MySQL server on '{host}:{port}' (111)"


def _mysql_auth(o: dict[str, str], env: dict[str, str]) -> str | None:
    """None when the credentials match the container's set-up; else the server's Access denied."""
    user = o.get("user", "root")
    given = o.get("password", env.get("MYSQL_PWD", ""))
    prefix = "MARIADB" if any(k.startswith("MARIADB_") for k in env) else "MYSQL"
    root = env.get(f"{prefix}_ROOT_PASSWORD", env.get("MYSQL_ROOT_PASSWORD", ""))
    accounts = {"root": root} | ({env[f"{prefix}_USER"]: env.get(f"{prefix}_PASSWORD", "")}
                                 if env.get(f"{prefix}_USER") else {})
    if user in accounts and accounts[user] == given:
        return None
    host = "localhost" if o.get("host", "localhost") in ("localhost", "127.0.0.1") else "%"
    return (f"ERROR 1045 (28000): Access denied for user '{user}'@'{host}' "
            f"(using password: {'YES' if given else 'NO'})")


def mysqladmin(argv: list[str], env: dict[str, str], tcp_open: TcpOpen) -> Result:
    o, rest = _opts(argv, _MYSQL_FLAGS)
    if rest[:1] != ["ping"]:
        return _UNSIMULATED[0], _UNSIMULATED[1].format(name=argv[0]), 126
    daemon = "mariadbd" if "mariadb" in argv[0] else "mysqld"
    if tcp_open(int(o.get("port", "3306"))):
        return f"{daemon} is alive\n", "", 0  # 0 even when access is denied: the server answered
    tool = argv[0].rsplit("/", 1)[-1]
    return "", (f"{tool}: connect to server at '{o.get('host', 'localhost')}' failed\n"
                f"error: '{_mysql_down(o, '')}'\nCheck that {daemon} is running and that the socket: "
                "'/var/run/mysqld/mysqld.sock' exists!\n"), 1


def mysql(argv: list[str], env: dict[str, str], tcp_open: TcpOpen) -> Result:
    o, _ = _opts(argv, _MYSQL_FLAGS)
    query = o.get("execute", "")
    m = re.fullmatch(r"\s*select\s+(\d+)\s*;?\s*", query, re.I)
    if not m:
        return _UNSIMULATED[0], _UNSIMULATED[1].format(name=argv[0]), 126
    if not tcp_open(int(o.get("port", "3306"))):
        return "", _mysql_down(o, "ERROR 2002 (HY000): " if o.get("host", "localhost") == "localhost"
                               else "ERROR 2003 (HY000): ") + "\n", 1
    denied = _mysql_auth(o, env)
    if denied:
        return "", denied + "\n", 1
    return f"{m.group(1)}\n{m.group(1)}\n", "", 0


def pg_isready(argv: list[str], env: dict[str, str], tcp_open: TcpOpen) -> Result:
    o, _ = _opts(argv, {"-h": "host", "--host": "host", "-p": "port", "--port": "port", "-U": "user",
                        "--username": "user", "-d": "dbname", "--dbname": "dbname", "-t": "timeout"})
    port = o.get("port", env.get("PGPORT", "5432"))
    where = f"{o['host']}:{port}" if o.get("host") else f"/var/run/postgresql:{port}"
    if tcp_open(int(port)):
        return f"{where} - accepting connections\n", "", 0
    return f"{where} - no response\n", "", 2


def redis_cli(argv: list[str], env: dict[str, str], tcp_open: TcpOpen) -> Result:
    o, rest = _opts(argv, {"-h": "host", "-p": "port", "-a": "auth"})
    if [r.lower() for r in rest] != ["ping"]:
        return _UNSIMULATED[0], _UNSIMULATED[1].format(name=argv[0]), 126
    host, port = o.get("host", "127.0.0.1"), o.get("port", "6379")
    if tcp_open(int(port)):
        return "PONG\n", "", 0
    return "", f"Could not connect to Redis at {host}:{port}: Connection refused\n", 1


CLIENTS: dict[str, Callable[[list[str], dict[str, str], TcpOpen], Result]] = {
    "mysqladmin": mysqladmin, "mariadb-admin": mysqladmin, "mysql": mysql, "mariadb": mysql,
    "pg_isready": pg_isready, "redis-cli": redis_cli,
}

# which image program ships which clients (the commands an exec into that image finds)
IMAGE_CLIENTS: dict[str, frozenset[str]] = {
    "mysql": frozenset({"mysqladmin", "mysql"}),
    "mariadb": frozenset({"mariadb-admin", "mariadb", "mysqladmin", "mysql"}),
    "postgres": frozenset({"pg_isready"}),
    "redis": frozenset({"redis-cli"}),
}
