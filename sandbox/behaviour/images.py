"""Image references and the table of images the sandbox knows: tags, commands, ports, footprints.

`parse_reference` follows Docker's normalisation (distribution/reference): `nginx` is
`docker.io/library/nginx:latest`, `bitnami/redis` is `docker.io/bitnami/redis`, a first component with a dot,
a colon or `localhost` is a registry host, and a repository name must be lowercase.

`ImageSpec` is plain data. `program` names the behaviour `model.py` gives the image ("nginx", "postgres",
"checkout", … or "generic", which is driven entirely by the spec's declarative fields and is what scenario
files use for their own images, see `ImageSpec.from_dict`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from .tags import lines as published_lines
from .tags import published

__all__ = ["Catalog", "CATALOG", "ImageRef", "ImageSpec", "InvalidReference", "parse_reference", "MiB", "GiB"]

MiB = 1024 * 1024
GiB = 1024 * MiB
MB = 1000 * 1000

# ------------------------------------------------------------------------------------------------ references

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REFERENCE_RE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$")


class InvalidReference(ValueError):
    """The image string is not a valid reference. `str()` is Docker's own wording."""


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "docker.io"
    repository: str  # "library/nginx"
    tag: str | None
    digest: str | None
    original: str

    @property
    def name(self) -> str:
        """Fully qualified repository: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def effective_tag(self) -> str | None:
        """The tag pulled: the given one, `latest` when neither tag nor digest is given, None for digest-only."""
        if self.tag:
            return self.tag
        return None if self.digest else "latest"

    @property
    def canonical(self) -> str:
        """What containerd resolves: `docker.io/library/nginx:1.27`, `…nginx@sha256:…`, `…nginx:1.27@sha256:…`."""
        out = self.name
        if self.effective_tag:
            out += ":" + self.effective_tag
        if self.digest:
            out += "@" + self.digest
        return out

    @property
    def familiar(self) -> str:
        """Docker's short form: `nginx:1.27`, `bitnami/redis:7.2`, `ghcr.io/x/y:1`."""
        if self.registry == "docker.io":
            repo = self.repository.removeprefix("library/")
        else:
            repo = self.name
        out = repo + (":" + self.effective_tag if self.effective_tag else "")
        return out + ("@" + self.digest if self.digest else "")


def _split_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, rest = "docker.io", name
    else:
        domain, rest = first, name[i + 1:]
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in rest:
        rest = "library/" + rest
    return domain, rest


def parse_reference(ref: str) -> ImageRef:
    """Parse and normalise an image reference; raise InvalidReference with Docker's message."""
    if re.fullmatch(r"[a-f0-9]{64}", ref):
        raise InvalidReference(f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_domain(ref)
    remote = remainder.split(":", 1)[0] if ":" in remainder else remainder
    remote = remote.split("@", 1)[0]
    if remote.lower() != remote:
        raise InvalidReference(f"invalid reference format: repository name ({remote}) must be lowercase")
    m = _REFERENCE_RE.match(ref)
    if not m or len(m.group("name")) > 255:
        raise InvalidReference("invalid reference format")
    digest = m.group("digest")
    if digest and digest.startswith("sha256:") and len(digest) != 7 + 64:
        raise InvalidReference("invalid checksum digest length")
    domain, repo = _split_domain(m.group("name"))
    return ImageRef(domain, repo, m.group("tag"), digest, ref)


# ------------------------------------------------------------------------------------------------ specs

@dataclass(frozen=True)
class ImageSpec:
    """What one image is and does. Sizes are bytes, CPU is millicores, times are seconds."""

    name: str  # fully qualified repository, "docker.io/library/nginx"
    tags: tuple[str, ...] = ()  # for repositories in tags.yaml, filled from it (`_published`)
    program: str = "generic"
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # image ENV, in order ({version} is replaced)
    ports: tuple[int, ...] = ()  # ports the default program listens on
    http_paths: tuple[tuple[int, str, int], ...] = ()  # (port, path, status) a probe may hit
    memory: int = 16 * MiB  # steady working set
    cpu: int = 1  # steady millicores (idle)
    startup_s: float = 0.5  # until ports answer / ready
    startup_cpu: int = 200
    runs_forever: bool = True
    base: str = "debian"  # "debian" | "ubuntu" | "alpine" | "busybox" | "distroless" | "scratch" | "oraclelinux"
    tools: tuple[str, ...] = ()  # commands the image adds on top of its base (curl, wget, nc, ps, ...)
    programs: tuple[str, ...] = ()  # binaries that start the image's program (handed to model.py's behaviour)
    user: tuple[str, int, int] = ("root", 0, 0)
    size: int = 50 * MB  # compressed size (pull time, "Image size" in the pull event)
    files: tuple[tuple[str, str], ...] = ()  # files in the image ({version} is replaced)
    workdir: str = "/"
    versions: tuple[tuple[str, str], ...] = ()  # tag aliases: ("latest", "1.29.1"), ...
    request_rate: float = 0.0  # default requests/second the program's access log shows
    description: str = ""
    # declarative behaviour for program "generic" (scenario images)
    logs_start: tuple[str, ...] = ()  # lines at start ({pod} {namespace} {container} {version} {port} {time})
    logs_every: tuple[tuple[float, str], ...] = ()  # (period seconds, template with {i} too)
    requires_env: tuple[str, ...] = ()
    crash_logs: tuple[str, ...] = ()  # printed when a required env var is missing ({var})
    exit_code: int | None = None  # a job: exits with this code after exit_after seconds (None: runs forever)
    exit_after: float = 0.0
    variant_bases: tuple[tuple[str, str], ...] = (("alpine", "alpine"),)  # tag substring → base

    def __post_init__(self) -> None:
        # lookups a pull makes per tag: the published lists run to a thousand tags, so index them once
        object.__setattr__(self, "_tagset", frozenset(self.tags))
        object.__setattr__(self, "_aliases", dict(self.versions))

    def version_of(self, tag: str | None) -> str:
        """The software version a tag carries (`1.27` → `1.27.5`, `latest` → newest, `1.27.3-alpine` → `1.27.3`)."""
        if not tag:
            tag = "latest"
        aliases: dict[str, str] = self._aliases  # type: ignore[attr-defined]
        if tag in aliases:
            return aliases[tag]
        m = re.match(r"v?(\d+(?:\.\d+)*)", tag)
        if not m:
            base = tag.split("-")[0]
            return aliases.get(base, aliases.get("latest", tag))
        v = m.group(1)
        best = None
        for t in self.tags:
            mm = re.fullmatch(r"v?(\d+(?:\.\d+)*)", t)
            if mm and (mm.group(1) == v or mm.group(1).startswith(v + ".")):
                if best is None or _vkey(mm.group(1)) > _vkey(best):
                    best = mm.group(1)
        return aliases.get(v, best or v)

    def base_for(self, tag: str | None) -> str:
        for needle, base in self.variant_bases:
            if tag and needle in tag:
                return base
        return self.base

    def digest_of(self, tag: str | None) -> str:
        """A stable sha256 digest; tags naming the same version and variant share it."""
        version = self.version_of(tag)
        variant = _variant(tag or "latest")
        return "sha256:" + hashlib.sha256(f"{self.name}:{version}:{variant}".encode()).hexdigest()

    def has_tag(self, tag: str) -> bool:
        return tag in self._tagset  # type: ignore[attr-defined]

    @classmethod
    def from_dict(cls, d: dict) -> ImageSpec:
        """Build a spec from plain data (a scenario's `images:` entry). Unknown keys raise ValueError."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(d) - allowed - {"image"}
        if unknown:
            raise ValueError(f"unknown image spec fields: {sorted(unknown)}")
        raw = dict(d)
        image = raw.pop("image", None)
        if "name" not in raw and image is None:
            raise ValueError("an image spec needs `name` (or `image`)")
        raw["name"] = parse_reference(raw.get("name") or image).name
        for key in ("tags", "entrypoint", "cmd", "ports", "tools", "programs", "logs_start", "requires_env",
                    "crash_logs"):
            if key in raw:
                raw[key] = tuple(raw[key])
        for key in ("env", "files", "versions"):
            if key in raw and isinstance(raw[key], dict):
                raw[key] = tuple(raw[key].items())
        if "http_paths" in raw:
            raw["http_paths"] = tuple(tuple(x) if not isinstance(x, dict) else
                                      (int(x["port"]), x.get("path", "/"), int(x.get("status", 200)))
                                      for x in raw["http_paths"])
        if "logs_every" in raw:
            raw["logs_every"] = tuple(tuple(x) if not isinstance(x, dict) else
                                      (float(x["period"]), x["line"]) for x in raw["logs_every"])
        if "user" in raw:
            raw["user"] = tuple(raw["user"])
        for key in ("memory",):
            if isinstance(raw.get(key), str):
                raw[key] = _parse_quantity(raw[key])
        if isinstance(raw.get("cpu"), str):
            raw["cpu"] = _parse_cpu(raw["cpu"])
        raw.setdefault("tags", ("latest",))
        return cls(**raw)


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def _variant(tag: str) -> str:
    m = re.match(r"v?\d+(?:\.\d+)*-?(.*)", tag)
    return m.group(1) if m else ("" if tag in ("latest", "stable", "mainline", "lts") else tag)


def _parse_quantity(s: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|[kmgt])?", s.strip())
    if not m:
        raise ValueError(f"bad quantity {s!r}")
    mult = {None: 1, "Ki": 1024, "Mi": MiB, "Gi": GiB, "Ti": 1024 * GiB, "K": 1000, "k": 1000, "M": MB,
            "G": 1000 * MB, "T": 10 ** 12}[m.group(2)]
    return int(float(m.group(1)) * mult)


def _parse_cpu(s: str) -> int:
    s = s.strip()
    return int(s[:-1]) if s.endswith("m") else int(float(s) * 1000)


# ------------------------------------------------------------------------------------------------ files

NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_50X = """<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""

NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

NGINX_CONF = """
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
""".lstrip("\n")

HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"

PROMETHEUS_YML = """# my global config
global:
  scrape_interval: 15s # Set the scrape interval to every 15 seconds. Default is every 1 minute.
  evaluation_interval: 15s # Evaluate rules every 15 seconds. The default is every 1 minute.

# Alertmanager configuration
alerting:
  alertmanagers:
    - static_configs:
        - targets:
          # - alertmanager:9093

# A scrape configuration containing exactly one endpoint to scrape:
# Here it's Prometheus itself.
scrape_configs:
  - job_name: "prometheus"
    static_configs:
      - targets: ["localhost:9090"]
        labels:
          app: "prometheus"
"""

_DEBIAN_OS = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n'
              'SUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n')
_ALPINE_OS = ('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.1\nPRETTY_NAME="Alpine Linux v3.22"\n'
              'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n')
_UBUNTU_OS = ('PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.2 LTS (Noble Numbat)"\n'
              'VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\n'
              'SUPPORT_URL="https://help.ubuntu.com/"\nBUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
              'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
              'UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n')
_ORACLE_OS = ('NAME="Oracle Linux Server"\nVERSION="9.6"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.6"\n'
              'PRETTY_NAME="Oracle Linux Server 9.6"\nANSI_COLOR="0;31"\n')

OS_RELEASE = {"debian": _DEBIAN_OS, "ubuntu": _UBUNTU_OS, "alpine": _ALPINE_OS, "oraclelinux": _ORACLE_OS}

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# ------------------------------------------------------------------------------------------------ the catalog

_PY_LINES = list(published_lines("docker.io/library/python"))

_SPECS: list[ImageSpec] = [
    ImageSpec(
        name="docker.io/library/nginx", program="nginx",
        entrypoint=("/docker-entrypoint.sh",), cmd=("nginx", "-g", "daemon off;"),
        env=(("NGINX_VERSION", "{version}"), ("NJS_VERSION", "0.9.1"), ("NJS_RELEASE", "1~bookworm"),
             ("PKG_RELEASE", "1~bookworm"), ("DYNPKG_RELEASE", "1~bookworm")),
        ports=(80,), http_paths=((80, "/", 200), (80, "/index.html", 200), (80, "/50x.html", 200)),
        memory=8 * MiB, cpu=1, startup_s=0.15, startup_cpu=50, tools=("curl",), programs=("nginx", "nginx-debug"),
        size=72 * MB, request_rate=0.5,
        files=(("/usr/share/nginx/html/index.html", NGINX_INDEX), ("/usr/share/nginx/html/50x.html", NGINX_50X),
               ("/etc/nginx/nginx.conf", NGINX_CONF), ("/etc/nginx/conf.d/default.conf", NGINX_DEFAULT_CONF),
               ("/docker-entrypoint.sh", "#!/bin/sh\n# vim:sw=4:ts=4:et\n\nset -e\n")),
        description="nginx web server: port 80, serves /usr/share/nginx/html"),
    ImageSpec(
        name="docker.io/library/httpd", program="httpd",
        cmd=("httpd-foreground",), env=(("HTTPD_PREFIX", "/usr/local/apache2"), ("HTTPD_VERSION", "{version}")),
        ports=(80,), http_paths=((80, "/", 200),), memory=12 * MiB, cpu=1, startup_s=0.2, size=58 * MB,
        programs=("httpd-foreground", "httpd", "apachectl"), request_rate=0.5, workdir="/usr/local/apache2",
        files=(("/usr/local/apache2/htdocs/index.html", HTTPD_INDEX),),
        description="Apache httpd: port 80"),
    ImageSpec(
        name="docker.io/library/busybox", program="shell",
        cmd=("sh",), base="busybox", memory=int(0.4 * MiB), cpu=0, startup_s=0.0, runs_forever=False,
        size=2 * MB, description="busybox: `sh` with no input exits 0 at once"),
    ImageSpec(
        name="docker.io/library/alpine", program="shell",
        cmd=("/bin/sh",), base="alpine", memory=int(0.5 * MiB), cpu=0, startup_s=0.0, runs_forever=False,
        size=int(3.6 * MB), description="alpine: `/bin/sh` with no input exits 0 at once"),
    ImageSpec(
        name="docker.io/library/redis", program="redis",
        entrypoint=("docker-entrypoint.sh",), cmd=("redis-server",),
        env=(("REDIS_DOWNLOAD_URL", "http://download.redis.io/releases/redis-{version}.tar.gz"),),
        ports=(6379,), memory=4 * MiB, cpu=3, startup_s=0.05, size=45 * MB, programs=("redis-server",),
        user=("root", 0, 0), workdir="/data", description="redis: TCP 6379"),
    ImageSpec(
        name="docker.io/library/postgres", program="postgres",
        entrypoint=("docker-entrypoint.sh",), cmd=("postgres",),
        env=(("GOSU_VERSION", "1.17"), ("LANG", "en_US.utf8"), ("PG_MAJOR", "{major}"),
             ("PG_VERSION", "{version}-1.pgdg120+1"), ("PGDATA", "/var/lib/postgresql/data")),
        ports=(5432,), memory=38 * MiB, cpu=4, startup_s=2.5, startup_cpu=400, size=158 * MB,
        programs=("postgres",), description="postgres: TCP 5432; needs POSTGRES_PASSWORD"),
    ImageSpec(
        name="docker.io/library/mysql", program="mysql",
        entrypoint=("docker-entrypoint.sh",), cmd=("mysqld",),
        env=(("GOSU_VERSION", "1.17"), ("MYSQL_MAJOR", "{major}"), ("MYSQL_VERSION", "{version}-1.el9"),
             ("MYSQL_SHELL_VERSION", "{version}-1.el9")),
        ports=(3306, 33060), memory=380 * MiB, cpu=8, startup_s=9.0, startup_cpu=800, size=170 * MB,
        base="oraclelinux", programs=("mysqld",), variant_bases=(),
        description="mysql: TCP 3306; needs MYSQL_ROOT_PASSWORD (or ALLOW_EMPTY/RANDOM)"),
    ImageSpec(
        name="docker.io/library/mariadb", program="mariadb",
        entrypoint=("docker-entrypoint.sh",), cmd=("mariadbd",),
        env=(("GOSU_VERSION", "1.17"), ("LANG", "C.UTF-8"), ("MARIADB_VERSION", "1:{version}+maria~ubu2404")),
        ports=(3306,), memory=95 * MiB, cpu=3, startup_s=4.0, startup_cpu=500, size=120 * MB, base="ubuntu",
        programs=("mariadbd", "mysqld"), variant_bases=(),
        description="mariadb: TCP 3306; needs MARIADB_ROOT_PASSWORD (or ALLOW_EMPTY/RANDOM)"),
    ImageSpec(
        name="docker.io/library/mongo", program="mongo",
        entrypoint=("docker-entrypoint.sh",), cmd=("mongod",),
        env=(("GOSU_VERSION", "1.17"), ("JSYAML_VERSION", "3.13.1"), ("MONGO_MAJOR", "{major}"),
             ("MONGO_VERSION", "{version}")),
        ports=(27017,), memory=160 * MiB, cpu=10, startup_s=2.0, startup_cpu=600, size=290 * MB, base="ubuntu",
        programs=("mongod",), variant_bases=(), description="mongo: TCP 27017"),
    ImageSpec(
        name="docker.io/library/rabbitmq", program="rabbitmq",
        entrypoint=("docker-entrypoint.sh",), cmd=("rabbitmq-server",),
        env=(("RABBITMQ_DATA_DIR", "/var/lib/rabbitmq"), ("RABBITMQ_VERSION", "{version}"),
             ("RABBITMQ_PGP_KEY_ID", "0x0A9AF2115F4687BD29803A206B73A36E6026DFCA"), ("RABBITMQ_HOME", "/opt/rabbitmq"),
             ("HOME", "/var/lib/rabbitmq"), ("LANG", "C.UTF-8"), ("LANGUAGE", "C.UTF-8"), ("LC_ALL", "C.UTF-8")),
        ports=(5672, 4369, 25672, 15692), memory=140 * MiB, cpu=12, startup_s=7.0, startup_cpu=700, size=95 * MB,
        base="ubuntu", programs=("rabbitmq-server",), description="rabbitmq: AMQP 5672 (+15672 for -management)"),
    ImageSpec(
        name="docker.io/library/memcached", program="memcached",
        entrypoint=("docker-entrypoint.sh",), cmd=("memcached",), env=(("MEMCACHED_VERSION", "{version}"),),
        ports=(11211,), memory=2 * MiB, cpu=1, startup_s=0.02, size=33 * MB, programs=("memcached",),
        user=("memcache", 11211, 11211), description="memcached: TCP 11211 (logs nothing)"),
    ImageSpec(
        name="docker.io/library/python", program="python",
        cmd=("python3",), env=(("LANG", "C.UTF-8"), ("GPG_KEY", "7169605F62C751356D054A26A821E680E5FA6305"),
                               ("PYTHON_VERSION", "{version}"),
                               ("PYTHON_SHA256", "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640")),
        memory=12 * MiB, cpu=1, startup_s=0.1, size=380 * MB, tools=("curl", "wget"),
        programs=("python", "python3", "pip", "pip3") + tuple(f"python{v}" for v in _PY_LINES),
        runs_forever=False, description="python: `python3` with no input exits 0; `-m http.server` serves 8000"),
    ImageSpec(
        name="docker.io/library/node", program="node",
        entrypoint=("docker-entrypoint.sh",), cmd=("node",),
        env=(("NODE_VERSION", "{version}"), ("YARN_VERSION", "1.22.22")),
        memory=40 * MiB, cpu=1, startup_s=0.3, size=400 * MB, tools=("curl", "wget"),
        programs=("node", "npm", "npx", "yarn"), runs_forever=False,
        description="node: `node` with no input exits 0"),
    ImageSpec(
        name="docker.io/library/golang", program="golang",
        cmd=("bash",), env=(("GOLANG_VERSION", "{version}"), ("GOTOOLCHAIN", "local"), ("GOPATH", "/go"),
                            ("PATH", "/go/bin:/usr/local/go/bin:" + _PATH)),
        memory=2 * MiB, cpu=0, startup_s=0.0, size=300 * MB, tools=("curl", "wget"), programs=("go",),
        runs_forever=False, workdir="/go", description="golang: `bash` with no input exits 0"),
    ImageSpec(
        name="docker.io/library/ubuntu", program="shell",
        cmd=("/bin/bash",), base="ubuntu", memory=int(0.6 * MiB), cpu=0, startup_s=0.0, runs_forever=False,
        size=29 * MB, description="ubuntu: `bash` with no input exits 0"),
    ImageSpec(
        name="docker.io/library/debian", program="shell",
        cmd=("bash",), base="debian", memory=int(0.6 * MiB), cpu=0, startup_s=0.0, runs_forever=False,
        size=49 * MB, description="debian: `bash` with no input exits 0"),
    ImageSpec(
        name="docker.io/curlimages/curl", program="curl",
        entrypoint=("/entrypoint.sh",), cmd=("curl",),
        env=(("CURL_CA_BUNDLE", "/cacert.pem"), ("CURL_VERSION", "{version}")),
        base="alpine", tools=("curl",), memory=int(0.8 * MiB), cpu=0, startup_s=0.0, runs_forever=False,
        size=11 * MB, user=("curl_user", 100, 101), workdir="/home/curl_user",
        description="curl: default `curl` with no URL exits 2"),
    ImageSpec(
        name="registry.k8s.io/pause", program="pause",
        entrypoint=("/pause",), base="scratch", memory=int(0.25 * MiB), cpu=0,
        startup_s=0.0, size=int(0.32 * MB), programs=("/pause", "pause"), user=("65535", 65535, 65535),
        description="pause: sleeps forever, no shell"),
    ImageSpec(
        name="docker.io/prom/prometheus", program="prometheus",
        entrypoint=("/bin/prometheus",),
        cmd=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"),
        ports=(9090,), http_paths=((9090, "/-/healthy", 200), (9090, "/-/ready", 200), (9090, "/metrics", 200)),
        memory=62 * MiB, cpu=8, startup_s=0.8, startup_cpu=300, base="busybox", size=120 * MB,
        programs=("prometheus", "/bin/prometheus"), user=("nobody", 65534, 65534), workdir="/prometheus",
        files=(("/etc/prometheus/prometheus.yml", PROMETHEUS_YML),),
        description="prometheus: HTTP 9090 (/-/healthy, /-/ready, /metrics)"),
    ImageSpec(
        name="docker.io/grafana/grafana", program="grafana",
        entrypoint=("/run.sh",), ports=(3000,), http_paths=((3000, "/api/health", 200), (3000, "/login", 200)),
        env=(("PATH", "/usr/share/grafana/bin:" + _PATH), ("GF_PATHS_CONFIG", "/etc/grafana/grafana.ini"),
             ("GF_PATHS_DATA", "/var/lib/grafana"), ("GF_PATHS_HOME", "/usr/share/grafana"),
             ("GF_PATHS_LOGS", "/var/log/grafana"), ("GF_PATHS_PLUGINS", "/var/lib/grafana/plugins"),
             ("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")),
        memory=95 * MiB, cpu=5, startup_s=3.5, startup_cpu=600, base="alpine", size=190 * MB,
        programs=("/run.sh", "grafana", "grafana-server"), user=("grafana", 472, 0), workdir="/usr/share/grafana",
        variant_bases=(("ubuntu", "ubuntu"),), description="grafana: HTTP 3000 (/api/health)"),
    ImageSpec(
        name="docker.io/library/traefik", program="traefik",
        entrypoint=("/entrypoint.sh",), cmd=("traefik",), ports=(80,), memory=45 * MiB, cpu=2, startup_s=0.5,
        base="alpine", size=55 * MB, programs=("traefik",), description="traefik: HTTP 80 (+8080 with --api/--ping)"),
    ImageSpec(
        name="docker.io/library/haproxy", program="haproxy",
        entrypoint=("docker-entrypoint.sh",), cmd=("haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"),
        env=(("HAPROXY_VERSION", "{version}"), ("HAPROXY_URL", "https://www.haproxy.org/download/{major}/src/"
                                                               "haproxy-{version}.tar.gz")),
        memory=12 * MiB, cpu=1, startup_s=0.1, size=40 * MB, programs=("haproxy",), user=("haproxy", 99, 99),
        workdir="/var/lib/haproxy", description="haproxy: needs /usr/local/etc/haproxy/haproxy.cfg (mounted)"),
    ImageSpec(
        name="docker.io/vllm/vllm-openai", program="vllm",
        entrypoint=("python3", "-m", "vllm.entrypoints.openai.api_server"),
        ports=(8000,), http_paths=((8000, "/health", 200), (8000, "/v1/models", 200)),
        memory=int(3.6 * GiB), cpu=60, startup_s=75.0, startup_cpu=1000, base="ubuntu", size=int(8.2 * GiB),
        tools=("curl",), programs=("vllm", "python3"), workdir="/vllm-workspace",
        env=(("PATH", "/usr/local/nvidia/bin:/usr/local/cuda/bin:" + _PATH), ("NVIDIA_VISIBLE_DEVICES", "all"),
             ("NVIDIA_DRIVER_CAPABILITIES", "compute,utility"), ("VLLM_USAGE_SOURCE", "production-docker-image")),
        description="vLLM OpenAI server: HTTP 8000, needs an nvidia.com/gpu"),
    ImageSpec(
        name="ghcr.io/ggml-org/llama.cpp", program="llama",
        entrypoint=("/app/llama-server",), ports=(8080,), http_paths=((8080, "/health", 200),),
        memory=int(1.2 * GiB), cpu=5, startup_s=6.0, startup_cpu=1500, base="ubuntu", size=48 * MB,
        programs=("/app/llama-server", "llama-server"), workdir="/app", env=(("LLAMA_ARG_HOST", "0.0.0.0"),),
        variant_bases=(), description="llama.cpp server: HTTP 8080 (/health 503 while loading); needs -m MODEL"),
    # ---- the demo scenario's applications (fictional, on docker.io/kubesage/...)
    ImageSpec(
        name="docker.io/kubesage/shop-web", program="shop-web",
        tags=("1.0.0", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "latest"), versions=(("latest", "1.3.0"),),
        entrypoint=("docker-entrypoint.sh",), cmd=("node", "server.js"),
        env=(("NODE_VERSION", "22.17.1"), ("NODE_ENV", "production"), ("PORT", "8080")),
        ports=(8080,), http_paths=((8080, "/", 200), (8080, "/healthz", 200), (8080, "/readyz", 200)),
        memory=70 * MiB, cpu=12, startup_s=0.9, startup_cpu=400, base="alpine", size=62 * MB,
        programs=("node",), user=("node", 1000, 1000), workdir="/app", request_rate=1.0,
        description="shop front end (node): HTTP 8080, /healthz"),
    ImageSpec(
        name="docker.io/kubesage/checkout", program="checkout",
        tags=("2.3.0", "2.3.1", "2.4.0", "latest"), versions=(("latest", "2.4.0"),),
        entrypoint=("uvicorn",), cmd=("checkout.main:app", "--host", "0.0.0.0", "--port", "8080"),
        env=(("PATH", "/usr/local/bin:" + _PATH), ("LANG", "C.UTF-8"), ("PYTHON_VERSION", "3.12.11"),
             ("PYTHONUNBUFFERED", "1")),
        ports=(8080,), http_paths=((8080, "/healthz", 200), (8080, "/readyz", 200)),
        memory=96 * MiB, cpu=15, startup_s=1.6, startup_cpu=500, size=68 * MB, programs=("uvicorn", "python"),
        user=("app", 10001, 10001), workdir="/app", request_rate=0.4,
        description="checkout (python): HTTP 8080; crashes with KeyError when PAYMENTS_URL is missing"),
    ImageSpec(
        name="docker.io/kubesage/payments", program="payments",
        tags=("1.4.0", "1.4.1", "1.5.0", "latest"), versions=(("latest", "1.5.0"),),
        entrypoint=("java", "-jar", "/app/payments.jar"),
        env=(("JAVA_HOME", "/opt/java/openjdk"), ("PATH", "/opt/java/openjdk/bin:" + _PATH),
             ("JAVA_VERSION", "jdk-21.0.7+6"), ("LANG", "en_US.UTF-8"), ("JAVA_TOOL_OPTIONS", "-Xmx512m")),
        ports=(8080,), http_paths=((8080, "/actuator/health", 200), (8080, "/actuator/health/readiness", 200),
                                   (8080, "/actuator/health/liveness", 200)),
        memory=300 * MiB, cpu=25, startup_s=10.0, startup_cpu=900, base="ubuntu", size=210 * MB,
        programs=("java",), user=("app", 10001, 10001), workdir="/app", request_rate=0.3,
        description="payments (Spring Boot): HTTP 8080; needs ~300Mi (OOMKilled under a smaller limit)"),
    ImageSpec(
        name="docker.io/kubesage/worker", program="worker",
        tags=("0.9.0", "1.0.0", "1.0.1", "latest"), versions=(("latest", "1.0.1"),),
        entrypoint=("/worker",), env=(("QUEUE_URL", "redis://redis:6379/0"), ("WORKER_CONCURRENCY", "4")),
        ports=(9090,), http_paths=((9090, "/healthz", 200), (9090, "/metrics", 200)),
        memory=180 * MiB, cpu=120, startup_s=0.3, base="distroless", size=24 * MB, programs=("/worker", "worker"),
        user=("nonroot", 65532, 65532), description="queue worker (Go, distroless): metrics 9090"),
    ImageSpec(
        name="docker.io/kubesage/orders", program="orders",
        tags=("3.0.0", "3.1.0", "3.1.2", "latest"), versions=(("latest", "3.1.2"),),
        entrypoint=("/usr/local/bin/orders",), env=(("CONFIG_SYNC_TIMEOUT", "60s"),),
        ports=(8080,), http_paths=((8080, "/healthz", 200), (8080, "/readyz", 200)),
        memory=28 * MiB, cpu=5, startup_s=0.2, base="alpine", size=19 * MB,
        programs=("/usr/local/bin/orders", "orders"), user=("orders", 10001, 10001), request_rate=0.4,
        description="orders (Go): HTTP 8080; lists ConfigMaps as its ServiceAccount"),
    ImageSpec(
        name="docker.io/kubesage/kubesage", program="generic",
        tags=("0.1.0", "latest"), versions=(("latest", "0.1.0"),),
        entrypoint=("kubesage",), cmd=("serve",), env=(("PATH", "/app/.venv/bin:" + _PATH),),
        ports=(8080,), http_paths=((8080, "/healthz", 200), (8080, "/metrics", 200)),
        memory=700 * MiB, cpu=20, startup_s=8.0, startup_cpu=1000, size=900 * MB, programs=("kubesage",),
        user=("kubesage", 10001, 10001), workdir="/app", request_rate=0.5,
        logs_start=("kubesage HTTP API listening on http://0.0.0.0:{port} (OpenAPI: /openapi.json; "
                    "cluster: in-cluster)",),
        description="kubesage serve itself (deploy/overlays/sandbox): HTTP 8080, /healthz"),
    ImageSpec(
        name="docker.io/kubesage/cpu-burner", program="cpu-burner",
        tags=("1.0", "1.0.0", "latest"), versions=(("latest", "1.0.0"), ("1.0", "1.0.0")),
        entrypoint=("/burn",), env=(("BURN_THREADS", "2"),), memory=18 * MiB, cpu=1900, startup_s=0.1,
        base="alpine", size=6 * MB, programs=("/burn", "burn"),
        description="cpu-burner: two busy threads, ~1900m CPU"),
]


@dataclass(frozen=True)
class Catalog:
    """An immutable set of image specs, looked up by fully qualified repository."""

    specs: tuple[ImageSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.specs})

    def get(self, ref: ImageRef | str) -> ImageSpec | None:
        if isinstance(ref, str):
            ref = parse_reference(ref)
        return self._by_name.get(ref.name)  # type: ignore[attr-defined]

    def with_images(self, *specs: ImageSpec) -> Catalog:
        """A new catalog with these specs added (or replacing specs of the same name)."""
        names = {s.name for s in specs}
        return Catalog(tuple(s for s in self.specs if s.name not in names) + tuple(specs))

    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def __iter__(self):  # noqa: ANN204
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)




def _as_published(spec: ImageSpec) -> ImageSpec:
    """The spec with the registry's tags from tags.yaml (every tag → its version); unchanged when not listed."""
    tags = published(spec.name)
    if tags is None:
        return spec
    return replace(spec, tags=tuple(tags), versions=tuple(tags.items()))


CATALOG = Catalog(tuple(_as_published(s) for s in _SPECS))


def expand(spec: ImageSpec, text: str, version: str) -> str:
    """Replace {version} and {major} in a spec's env/file templates."""
    return text.replace("{version}", version).replace("{major}", version.split(".")[0])
