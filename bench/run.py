"""All of issue 17's measurements in one process tree, printed as one table with ratios.

Run: ``.venv/bin/python bench/run.py [--quick] [--only NAME ...]``

Every server is on 127.0.0.1 and started here (``bench/_servers.py``, its own process); every loop is bounded in
count and time; nothing outside loopback is contacted. Peers are measured beside certguard when present: sslyze
from ``.venv-sslyze`` (``python -m venv .venv-sslyze && .venv-sslyze/bin/pip install sslyze``) and the
``openssl`` binary; a missing peer is a row that says so. Benchmarks measure; tests never assert times.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import daemonbench  # noqa: E402 (bench/ and tests/ are on the path only from here)
import judgebench  # noqa: E402

PY = sys.executable
CERTGUARD = [PY, "-m", "certguard"]
SSLYZE = ROOT / ".venv-sslyze" / "bin" / "python"
OPENSSL = shutil.which("openssl")
ENDPOINTS = 200
LATENCY_SITES = 40
RTT = 0.100


@dataclass
class Row:
    work: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    note: str = ""


ROWS: list[Row] = []


def row(work: str, measured: str, baseline: str = "", ratio: str = "", goal: str = "", note: str = "") -> None:
    ROWS.append(Row(work, measured, baseline, ratio, goal, note))
    print(f"  · {work}: {measured}" + (f" vs {baseline} = {ratio}" if ratio else "") + (f" ({note})" if note else ""),
          file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Cost:
    """Wall-clock and CPU seconds (user + system) of whole processes. CPU time barely moves when other work loads
    the machine; wall time is what a user waits for. Both are shown."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall * 1000:.0f} ms ({self.cpu * 1000:.0f} ms CPU)"

    def over(self, base: Cost) -> str:
        return f"{self.wall / base.wall:.2f}× ({self.cpu / base.cpu:.2f}× CPU)" if base.wall and base.cpu else "–"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: Sequence[str], *, check_rc: Callable[[int], bool] = lambda rc: rc == 0, timeout: float = 300,
          stdin: str | None = None) -> tuple[Cost, subprocess.CompletedProcess[str]]:
    cpu0, started = _children_cpu(), time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, input=stdin, check=False)
    cost = Cost(time.perf_counter() - started, _children_cpu() - cpu0)
    if not check_rc(proc.returncode):
        raise RuntimeError(f"{cmd[:4]}… exited {proc.returncode}: {proc.stderr[-2000:]}")
    return cost, proc


def best_of(n: int, cmd: Sequence[str], **kw: object) -> Cost:
    """The medians of ``n`` whole-process runs (a loaded 2-core machine makes single runs noisy)."""
    runs = [timed(cmd, **kw)[0] for _ in range(n)]  # type: ignore[arg-type]
    return Cost(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


@contextmanager
def loopback_servers(directory: Path, endpoints: int, delay: float | None = None) -> Iterator[dict[str, object]]:
    args = [PY, str(HERE / "_servers.py"), str(directory), "--endpoints", str(endpoints)]
    if delay is not None:
        args += ["--relay-delay", str(delay)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (directory / "servers.json").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("bench servers did not start")
            time.sleep(0.05)
        yield json.loads((directory / "servers.json").read_text())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()




# ---- 1. 200 endpoints: capture + judge, beside the raw loop and the peers

def bench_endpoints(tmp: Path, runs: int) -> None:
    with loopback_servers(tmp, ENDPOINTS) as srv:
        ports: list[int] = srv["ports"]  # type: ignore[assignment]
        names = [f"s{i}.bench.test" for i in range(len(ports))]
        (tmp / "targets.json").write_text(json.dumps([[n, p] for n, p in zip(names, ports, strict=True)]))
        (tmp / "sites.txt").write_text("".join(f"{n}:{p}\n" for n, p in zip(names, ports, strict=True)))
        resolve = [a for p in ports for a in ("--resolve", f"*:{p}:127.0.0.1")]
        check = [*CERTGUARD, "check", "--sites", str(tmp / "sites.txt"), *resolve, "--ca-bundle", str(srv["root"]),
                 "--no-device-store", "--data-dir", str(tmp / "data"), "--json", "--timeout", "10"]
        # warm the page cache and make sure every endpoint really is judged ok before timing anything
        _, proc = timed(check)
        statuses = {r["status"] for r in json.loads(proc.stdout)["results"]}
        if statuses != {"ok"}:
            raise RuntimeError(f"bench chains not judged ok: {statuses}")
        raw = best_of(runs, [PY, str(HERE / "_rawloop.py"), str(tmp / "targets.json")])
        row(f"{ENDPOINTS} TLS endpoints: bare pyOpenSSL capture loop (sequential)", str(raw), str(raw), "1.00×",
            "the raw limit")
        ours = best_of(runs, check)
        row(f"{ENDPOINTS} TLS endpoints: `certguard check` capture + judge", str(ours), str(raw), ours.over(raw),
            "≤ 1.5×", "--ca-bundle, --no-device-store")
        with_device = best_of(runs, [a for a in check if a != "--no-device-store"])
        row(f"{ENDPOINTS} TLS endpoints: `certguard check`, device store read too", str(with_device), str(raw),
            with_device.over(raw), "≤ 1.5×", "this machine's /etc/ssl and NSS stores")
        if SSLYZE.exists():
            targets = [f"{n}:{p}{{127.0.0.1}}" for n, p in zip(names, ports, strict=True)]
            sslyze, _ = timed([str(SSLYZE), "-m", "sslyze", "--certinfo", "--quiet", *targets], timeout=600,
                              check_rc=lambda rc: rc in (0, 1))
            row(f"{ENDPOINTS} TLS endpoints: sslyze --certinfo", str(sslyze), str(raw), sslyze.over(raw),
                "certguard ≥ 10× faster", f"certguard is {sslyze.wall / ours.wall:.1f}× faster "
                                          f"({sslyze.cpu / ours.cpu:.1f}× in CPU)")
        else:
            row(f"{ENDPOINTS} TLS endpoints: sslyze --certinfo", "skipped", note="no .venv-sslyze")
        if OPENSSL:
            cpu0, started = _children_cpu(), time.perf_counter()
            for n, p in zip(names, ports, strict=True):
                subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{p}", "-servername", n, "-showcerts"],
                               input=b"", capture_output=True, timeout=30, check=True)
            loop = Cost(time.perf_counter() - started, _children_cpu() - cpu0)
            row(f"{ENDPOINTS} TLS endpoints: `openssl s_client -showcerts` loop", str(loop), str(raw), loop.over(raw),
                note=f"certguard is {loop.wall / ours.wall:.1f}× faster")
        else:
            row(f"{ENDPOINTS} TLS endpoints: openssl s_client loop", "skipped", note="no openssl binary")


# ---- 2. 40 sites behind a 100 ms round trip

def bench_latency(tmp: Path, runs: int) -> None:
    with loopback_servers(tmp, 1, delay=RTT / 2) as srv:
        relay = srv["relay"]
        names = [f"s{i}.bench.test" for i in range(LATENCY_SITES)]
        base = [*CERTGUARD, "check", "--resolve", f"*:{relay}:127.0.0.1", "--ca-bundle", str(srv["root"]),
                "--no-device-store", "--data-dir", str(tmp / "data"), "--json", "--timeout", "10"]
        timed([*base, f"{names[0]}:{relay}"])
        one = best_of(runs, [*base, f"{names[0]}:{relay}"])
        many_cmd = [*base, *(f"{n}:{relay}" for n in names)]
        _, proc = timed(many_cmd)
        if {r["status"] for r in json.loads(proc.stdout)["results"]} != {"ok"}:
            raise RuntimeError("latency bench: not every site judged ok")
        many = best_of(runs, many_cmd)
        row(f"{LATENCY_SITES} sites behind a {RTT * 1000:.0f} ms round trip (`certguard check`)", str(many),
            f"{one} (one site)", many.over(one), "≤ 1.3×", "delaying loopback relay, whole processes")


# ---- 3. start-up

def bench_startup(runs: int) -> None:
    n = max(runs * 3, 5)
    imports = best_of(n, [PY, "-c", "import cryptography.x509, OpenSSL.SSL, certifi"])
    ours = best_of(n, [*CERTGUARD, "--version"])
    row("start-up: `certguard --version`", str(ours), f"{imports} (the imports alone)", ours.over(imports),
        "≤ 1.5×")


# ---- 4. judging one chain

def bench_judge(seconds: float) -> None:
    for label, per_chain, note in judgebench.run(seconds):
        once = label.startswith("(")
        row(label.strip("()") if once else f"judge one chain: {label}", f"{per_chain * 1000:.2f} ms",
            goal="" if once else "≤ 0.5 ms", note=note)


# ---- 5 and 6. the daemon

def bench_daemon(tmp: Path, idle_seconds: float, sites: int) -> None:
    with loopback_servers(tmp, 1) as srv:
        port: int = srv["ports"][0]  # type: ignore[index]
        idle = daemonbench.idle(tmp / "idle", port, Path(str(srv["root"])), LATENCY_SITES, idle_seconds)
        row(f"daemon idle ({LATENCY_SITES} sites, after its first round)", f"{idle.rss_mib:.1f} MiB RSS",
            goal="≤ 50 MiB", note=f"{idle.cpu_percent:.2f} % of one core over {idle.wall:.0f} s")
        scale = daemonbench.scale(tmp / "scale", port, Path(str(srv["root"])), sites)
        row(f"daemon, {sites} sites + a year of history: memory", f"{scale.rss_mib:.1f} MiB RSS", goal="≤ 50 MiB",
            note=f"history {scale.history_kib / 1024:.1f} MiB, {scale.rows} verdict rows, {scale.episodes} episodes; "
                 f"first round {scale.first_round:.1f} s")
        row(f"daemon, {sites} sites + a year of history: GET /api/status", f"{scale.status_ms:.1f} ms",
            goal="≤ 20 ms", note=f"median of {scale.samples}, body {scale.status_kib:.0f} KiB")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a rough table in about a minute)")
    parser.add_argument("--only", nargs="*", choices=["endpoints", "latency", "startup", "judge", "daemon"])
    parser.add_argument("--sites", type=int, default=1000, help="sites the scaled daemon watches")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else 3
    only = set(args.only or ["endpoints", "latency", "startup", "judge", "daemon"])
    with tempfile.TemporaryDirectory(prefix="certguard-bench-") as d:
        tmp = Path(d)
        for name, step in (("startup", lambda: bench_startup(runs)),
                           ("judge", lambda: bench_judge(1.0 if args.quick else 3.0)),
                           ("endpoints", lambda: bench_endpoints(tmp / "endpoints", runs)),
                           ("latency", lambda: bench_latency(tmp / "latency", runs)),
                           ("daemon", lambda: bench_daemon(tmp / "daemon", 5 if args.quick else 20, args.sites))):
            if name in only:
                (tmp / name).mkdir()
                print(f"{name} …", file=sys.stderr, flush=True)
                step()
    print_table()
    return 0


def print_table() -> None:
    headers = ("work", "certguard", "baseline", "ratio", "goal", "note")
    cells = [headers] + [(r.work, r.measured, r.baseline, r.ratio, r.goal, r.note) for r in ROWS]
    widths = [max(len(c[i]) for c in cells) for i in range(len(headers))]
    for i, c in enumerate(cells):
        print("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    raise SystemExit(main())
