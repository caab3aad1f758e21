"""A fork server for the crash tests: imports kubesage once, then runs each command as a fresh child process.

Why: the crash tests run the CLI (and `kubesage serve`) dozens of times, each killed with `os._exit` at a defined
point; a cold start costs seconds of imports and router warm-up on a busy machine. The child of a fork is a new
process (its own Runtime, SQLite connections and sockets, nothing shared but the imported code), so each run is
the real CLI in a process that really dies, at a fraction of the cost.

Protocol (JSON lines, one answer per command): {"argv": [...], "env": {...}} → {"pid": P} at once (the child runs
on); {"reap": true} → {"done": {P: exit code, ...}} for every child that ended since (never blocks).
"""

from __future__ import annotations

import json
import os
import sys


def _child(argv: list[str], env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the protocol owns fd 1; a fresh object owns no lock
    os.dup2(sys.stdout.fileno(), 1)
    from kubesage import cli

    try:
        rc = cli.main(argv)
    except SystemExit as e:
        rc = int(e.code or 0)
    except BaseException:  # noqa: BLE001 - a traceback is a test failure: say so with a distinct code
        import traceback

        traceback.print_exc()
        rc = 99
    os._exit(rc)


def main() -> None:
    import importlib

    import langgraph.checkpoint.sqlite  # noqa: F401 - imported before any fork: the children start warm
    import uvicorn  # noqa: F401

    import server.app  # noqa: F401
    import tools.k8s.health  # noqa: F401
    from agents.router import Router
    from agents.supervisor import AGENTS
    from kubesage import cli  # noqa: F401

    for name in AGENTS:
        importlib.import_module(f"agents.{name}")
    Router().route("scale web in shop to 3")  # embed the exemplars once; every child inherits the matrix
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    done: dict[int, int] = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("reap"):
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                done[pid] = os.waitstatus_to_exitcode(status)
            answer = {"done": done}
            done = {}
        else:
            pid = os.fork()
            if pid == 0:
                _child(cmd["argv"], cmd.get("env") or {})
            answer = {"pid": pid}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
