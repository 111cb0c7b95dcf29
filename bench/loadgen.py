"""Drive a server with ``wrk`` pinned to one core, from a pool of raw HTTP requests.

``wrk`` (Debian package ``wrk``: ``sudo apt-get install wrk``) is a C load generator with
LuaJIT scripting. It cannot compute a SigV4 signature per request cheaply (HMAC-SHA256 in Lua
would cost more than the request it measures), and it need not: SigV4 has no replay protection,
a signature stays valid for the ±5 minutes of allowed skew, so the benchmark signs a *pool* of
requests (different principals and users) just before each run and ``wrk`` replays them round
robin through :data:`POOL_SCRIPT`. Requests that must not be replayed (a SAML assertion is
single-use in the browser flow) get a pool at least as large as the run can use.

Each run is ``taskset -c <core> wrk -t<threads> -c<connections> -d<seconds>s --latency``, and
the report is wrk's own: requests/s, p50 and p99 (from its latency distribution) and the count
of non-2xx/3xx answers, which fails the run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

POOL_SCRIPT = r"""
-- Replays a pool of raw HTTP requests, round robin, from the file given after "--" (then the
-- number of wrk threads). File format: for each request, its length in bytes on a line, then
-- the bytes. Each thread starts at its own share of the pool, so that no request is sent twice
-- before the pool is used up (single-use requests stay single).
local pool, n, i = {}, 0, 0
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  while true do
    local len = f:read("*l")
    if not len then break end
    n = n + 1
    pool[n] = f:read(tonumber(len))
  end
  f:close()
  i = (id or 0) * math.floor(n / tonumber(args[2]))
end
function request()
  i = i % n + 1
  return pool[i]
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors

    def row(self) -> str:
        return (
            f"{self.name:<34} {self.rps:>10.0f} {self.p50_ms:>9.2f} {self.p99_ms:>9.2f}"
            f" {self.errors:>7}"
        )


HEADER = f"{'endpoint':<34} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: sudo apt-get install wrk (Debian/Ubuntu)")
    return path


def raw_request(
    method: str, host: str, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """One HTTP/1.1 request as bytes (keep-alive; Content-Length when there is a body)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [
        f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")
    ]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(name: str, output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _duration_ms(re.search(r"\n\s+50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _duration_ms(re.search(r"\n\s+99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        errors += int(bad.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(g) for g in sockets.groups())
    return Result(name, rps, p50, p99, total, errors)


def run(
    name: str,
    url: str,
    pool: list[bytes],
    *,
    core: int | str,
    threads: int,
    connections: int,
    seconds: float,
) -> Result:
    """``wrk`` on ``core`` against ``url`` replaying ``pool``."""
    wrk = require_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "pool.lua", Path(tmp) / "pool.bin"
        script.write_text(POOL_SCRIPT)
        with data.open("wb") as out:
            for request in pool:
                out.write(f"{len(request)}\n".encode() + request)
        command = [
            "taskset",
            "-c",
            str(core),
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(data),
            str(threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or "Requests/sec" not in done.stdout:
        raise SystemExit(f"wrk failed for {name}:\n{done.stdout}\n{done.stderr}")
    return parse(name, done.stdout)


def warmed(args: argparse.Namespace, name: str, url: str, pool: list[bytes]) -> Result:
    """A one-second warm-up (caches, connections), then the measured run, with the wrk options
    every benchmark takes (``--client-core``, ``--threads``, ``--connections``, ``--seconds``)."""
    for seconds in (1, args.seconds):
        result = run(
            name,
            url,
            pool,
            core=args.client_core,
            threads=args.threads,
            connections=args.connections,
            seconds=seconds,
        )
    return result


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
