"""The app under load, against a minimal Gradio app on the same machine in the same run.

Starts its own servers on free loopback ports: lossapp (`python app.py`) and a minimal Gradio app whose
`/compute` has the same signature and echoes its inputs back (Gradio's floor). Then:

- latency of `/compute` (a 100-element BCE, through /gradio_api/call/compute as curl would) at 1, 8 and 32
  concurrent clients, --requests requests per app and level (default 200), the two apps interleaved in rounds;
  p50 / p95 / p99, requests lost (an error, a timeout, a broken stream) and the server's CPU per request (its
  compute processes' included);
- one 10^6-element `/compute`: time and response size;
- `python app.py` to its first HTTP 200 against a minimal gr.Blocks app: the median of --starts interleaved
  starts of each.

Prints the machine and each measured ratio against its target: /compute p95 at 8 and 32 clients <= 1.5x the
echo app's, no request lost; the 10^6-element /compute <= 3 s with a response under 1 MB; startup <= 1.5x.
Only 127.0.0.1 is contacted; every loop and wait is bounded.

Run: python benchmarks/bench_http.py [--requests 200] [--rounds 4] [--starts 5] [--skip-startup]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LEVELS = (1, 8, 32)
P95_RATIO_MAX = 1.5
BIG_ELEMENTS = 1_000_000
BIG_SECONDS_MAX = 3.0
BIG_BYTES_MAX = 1_000_000
STARTUP_RATIO_MAX = 1.5
START_TIMEOUT = 300.0   # seconds for a server to answer its first request
REQUEST_TIMEOUT = 120.0  # seconds for one request, its answer included

ECHO_APP = """
import os, sys
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr

def compute(loss: str, pred: str, target: str = "", params: str = "{}", reduction: str = "mean",
            device: str = "cpu", dtype: str = "float32") -> dict:
    return {"loss": loss, "pred": pred, "target": target, "params": params, "reduction": reduction,
            "device": device, "dtype": dtype}

with gr.Blocks() as demo:
    gr.api(compute, api_name="compute")
demo.launch(server_name="127.0.0.1", server_port=int(os.environ["GRADIO_SERVER_PORT"]), ssr_mode=False)
"""

MINIMAL_APP = """
import os, sys
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr

with gr.Blocks() as demo:
    gr.Markdown("minimal")
demo.launch(server_name="127.0.0.1", server_port=int(os.environ["GRADIO_SERVER_PORT"]), ssr_mode=False)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: IO[bytes]  # its stdout and stderr
    started_s: float = 0.0  # seconds from the start of the process to its first HTTP 200
    started_cpu_s: float | None = None  # the process's CPU seconds by then (Linux)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far of the server process and the processes it started (lossapp's compute
        processes) (Linux), else None."""
        total = 0.0
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                if pid == self.process.pid:
                    return None
                continue  # a child that has just exited
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def settle(self, quiet: float = 0.05, interval: float = 0.5, intervals: int = 4, timeout: float = 120.0) -> None:
        """Wait until the server (its children included) has finished what it does after its first answer (lossapp
        waits a second, warms up, then starts its compute processes): until it has used under `quiet` CPU seconds
        in each of `intervals` consecutive intervals."""
        deadline = time.perf_counter() + timeout
        last = self.cpu_seconds()
        calm = 0
        while last is not None and calm < intervals and time.perf_counter() < deadline:
            time.sleep(interval)
            now = self.cpu_seconds()
            if now is None:
                return
            calm = calm + 1 if now - last < quiet else 0
            last = now

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.log.close()


def start(name: str, command: list[str], env: dict[str, str] | None = None) -> Server:
    """Start a server and wait (at most START_TIMEOUT) for its first HTTP 200 on /."""
    port = free_port()
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_SERVER_NAME": HOST,
                   "GRADIO_SERVER_PORT": str(port), **(env or {})}
    environment.pop("PORT", None)
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by Server.stop)
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    server = Server(name, port, process, log)
    deadline = began + START_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"{name} exited with {process.returncode} before answering:\n{tail}")
        try:
            if httpx.get(server.url, timeout=5).status_code == 200:
                server.started_s = time.perf_counter() - began
                server.started_cpu_s = server.cpu_seconds()
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {START_TIMEOUT:.0f} s")


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (Linux; none where /proc cannot tell)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def lossapp_command() -> list[str]:
    return [sys.executable, str(ROOT / "app.py")]  # the port comes from GRADIO_SERVER_PORT


def script_command(source: str) -> list[str]:
    return [sys.executable, "-c", source]


# -- the HTTP API as curl uses it: POST the call, then read its event stream -----------------------------------


def payload(elements: int, seed: int = 0) -> list[object]:
    """The arguments of /compute for a BCE of `elements` elements: probabilities to 4 decimals, 0/1 targets."""
    import random

    rng = random.Random(seed)
    pred = json.dumps([round(rng.uniform(0.01, 0.99), 4) for _ in range(elements)])
    target = json.dumps([rng.randint(0, 1) for _ in range(elements)])
    return ["bce", pred, target, "{}", "mean", "cpu", "float32"]


async def call(client: httpx.AsyncClient, server: Server, data: list[object]) -> tuple[float, int, bool]:
    """(seconds, response bytes, succeeded) of one /compute call."""
    began = time.perf_counter()
    base = f"{server.url}gradio_api/call/compute"
    try:
        posted = await client.post(base, json={"data": data})
        if posted.status_code != 200:
            return time.perf_counter() - began, 0, False
        event_id = posted.json()["event_id"]
        body = b""
        async with client.stream("GET", f"{base}/{event_id}") as stream:
            async for chunk in stream.aiter_bytes():
                body += chunk
        ok = stream.status_code == 200 and b"event: complete" in body
        return time.perf_counter() - began, len(body), ok
    except (httpx.HTTPError, KeyError, ValueError):
        return time.perf_counter() - began, 0, False


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    cpu: float = 0.0  # server CPU seconds spent on these requests

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.lost += other.lost
        self.cpu += other.cpu

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def load(server: Server, clients: int, requests: int, data: list[object]) -> Sample:
    """`requests` calls by `clients` concurrent clients, each sending its share one after another."""
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    cpu_before = server.cpu_seconds()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
        async def one_client(share: int) -> list[tuple[float, int, bool]]:
            return [await call(client, server, data) for _ in range(share)]

        results = await asyncio.gather(*(one_client(share) for share in shares if share))
    cpu_after = server.cpu_seconds()
    sample = Sample()
    for seconds, _, ok in (r for rs in results for r in rs):
        if ok:
            sample.latencies.append(seconds)
        else:
            sample.lost += 1
    if cpu_before is not None and cpu_after is not None:
        sample.cpu = cpu_after - cpu_before
    return sample


def latency_table(servers: tuple[Server, Server], requests: int, rounds: int) -> dict[int, dict[str, Sample]]:
    """For each level: the two apps measured in `rounds` alternating rounds (A B B A A B ...), `requests` each."""
    data = payload(100)
    for server in servers:  # warm both up (lossapp's own warm-up and compute processes; first calls, caches)
        server.settle()
        asyncio.run(load(server, 1, 5, data))
    table: dict[int, dict[str, Sample]] = {}
    for clients in LEVELS:
        samples = {s.name: Sample() for s in servers}
        per_round = [requests // rounds + (1 if i < requests % rounds else 0) for i in range(rounds)]
        for i, count in enumerate(per_round):
            order = servers if i % 2 == 0 else servers[::-1]
            for server in order:
                samples[server.name].add(asyncio.run(load(server, clients, count, data)))
        table[clients] = samples
    return table


def big_request(server: Server) -> tuple[float, int, bool]:
    data = payload(BIG_ELEMENTS, seed=1)

    async def run() -> tuple[float, int, bool]:
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            return await call(client, server, data)

    return asyncio.run(run())


def startup(starts: int) -> tuple[list[Server], list[Server]]:
    """`python app.py` and a minimal Blocks app started `starts` times each, interleaved (stopped once they answer)."""
    app: list[Server] = []
    minimal: list[Server] = []
    for i in range(starts):
        order = ((app, lossapp_command()), (minimal, script_command(MINIMAL_APP)))
        for started, command in (order if i % 2 == 0 else order[::-1]):
            server = start("startup", command)
            server.stop()
            started.append(server)
    return app, minimal


# -- report -----------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "?"
    import gradio
    import torch
    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, {memory}; Python "
            f"{platform.python_version()}, torch {torch.__version__}, gradio {gradio.__version__}; load {load_avg}")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per app and level (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per level (default 4)")
    parser.add_argument("--starts", type=int, default=5, help="starts of each app for the startup time (default 5)")
    parser.add_argument("--skip-startup", action="store_true", help="do not measure the startup time")
    args = parser.parse_args()
    if args.requests < 1 or args.rounds < 1 or args.starts < 1:
        parser.error("expected positive --requests, --rounds and --starts")

    print(f"machine: {machine()}")
    lossapp_server = start("lossapp", lossapp_command())
    echo_server = start("echo", script_command(ECHO_APP))
    servers = (lossapp_server, echo_server)
    try:
        table = latency_table(servers, args.requests, min(args.rounds, args.requests))
        big_seconds, big_bytes, big_ok = big_request(lossapp_server)
    finally:
        for server in servers:
            server.stop()

    print(f"\n/compute, 100-element BCE, {args.requests} requests per app and level "
          f"({args.rounds} interleaved rounds); latency in ms")
    print(f"{'clients':>7} {'app':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'lost':>5} {'cpu/req':>8}  p95 ratio")
    outcomes = []
    for clients, samples in table.items():
        ours, echo = samples["lossapp"], samples["echo"]
        ratio = ours.quantile(0.95) / echo.quantile(0.95)
        for name, sample in (("lossapp", ours), ("echo", echo)):
            done = len(sample.latencies)
            cpu = f"{sample.cpu / done * 1e3:6.2f}ms" if done and sample.cpu else "       ?"
            tail = f"  {ratio:.2f}x" if name == "lossapp" else ""
            print(f"{clients:>7} {name:>8} {ms(sample.quantile(0.5))} {ms(sample.quantile(0.95))} "
                  f"{ms(sample.quantile(0.99))} {sample.lost:>5} {cpu:>8}{tail}")
        if clients in (8, 32):
            outcomes.append((f"/compute p95 at {clients} clients", f"{ratio:.2f}x the echo app's",
                             f"<= {P95_RATIO_MAX}x", ratio <= P95_RATIO_MAX))
    lost = sum(s.lost for samples in table.values() for s in samples.values())
    outcomes.append(("requests lost", str(lost), "0", lost == 0))
    print(f"\n/compute, {BIG_ELEMENTS:,}-element BCE: {big_seconds:.2f} s, response {big_bytes / 1e6:.3f} MB"
          f"{'' if big_ok else ' (FAILED)'}")
    outcomes.append((f"{BIG_ELEMENTS:,}-element /compute time", f"{big_seconds:.2f} s", f"<= {BIG_SECONDS_MAX} s",
                     big_ok and big_seconds <= BIG_SECONDS_MAX))
    outcomes.append((f"{BIG_ELEMENTS:,}-element /compute response", f"{big_bytes / 1e6:.3f} MB", "< 1 MB",
                     big_ok and big_bytes < BIG_BYTES_MAX))

    if not args.skip_startup:
        app_runs, minimal_runs = startup(args.starts)
        app_median = statistics.median(s.started_s for s in app_runs)
        minimal_median = statistics.median(s.started_s for s in minimal_runs)
        ratio = app_median / minimal_median
        print(f"\nstartup to the first HTTP 200, median of {args.starts} interleaved starts: python app.py "
              f"{app_median:.2f} s, minimal gr.Blocks {minimal_median:.2f} s ({ratio:.2f}x)")
        print(f"  app.py: {', '.join(f'{s.started_s:.2f}' for s in app_runs)}; minimal: "
              f"{', '.join(f'{s.started_s:.2f}' for s in minimal_runs)}")
        cpu = [[s.started_cpu_s for s in runs] for runs in (app_runs, minimal_runs)]
        if all(x is not None for x in cpu[0] + cpu[1]):
            cpu_ratio = statistics.median(cpu[0]) / statistics.median(cpu[1])
            print(f"  CPU seconds by then (less sensitive to a busy machine): python app.py "
                  f"{statistics.median(cpu[0]):.2f}, minimal {statistics.median(cpu[1]):.2f} ({cpu_ratio:.2f}x)")
        outcomes.append(("python app.py startup", f"{ratio:.2f}x a minimal Blocks app", f"<= {STARTUP_RATIO_MAX}x",
                         ratio <= STARTUP_RATIO_MAX))

    print("\ntargets")
    for name, measured, target, ok in outcomes:
        print(f"  {name:<40} {measured:>28}  target {target:<12} {verdict(ok)}")
    print(f"summary: {sum(ok for *_, ok in outcomes)} of {len(outcomes)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
