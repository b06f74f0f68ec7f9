"""`kb server` under a desk's load: N simulated agents walking trees at once for T seconds.

    python benchmarks/bench_server.py [--agents 200] [--seconds 60] [--think 1.0]
        [--database sqlite|postgresql|URL] [--workers 1] [--kill]
    python benchmarks/bench_server.py --service 2000 [--database ...] [--profile]

Starts `kb server` on a free loopback port over a copy of the bundled KB, signs in one token per
agent, and lets every agent walk random trees: start a walk, answer a random answer, confirm
actions, give collected values (made to fit the tree's pattern), start again at an end. Each
agent waits `--think` seconds between steps (a person reads the step to the caller).

Figures: steps per second, p50/p95/p99 step latency, and afterwards, from the store itself, the
events lost (acknowledged to the agent but not recorded) and duplicated (recorded twice). With
--kill, the server is killed with SIGKILL halfway and started again; agents retry, and at the
end every walk not ended must resume (its state reads back and takes the next answer).

--service measures the walk service alone in this process (no HTTP): the CPU a step costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
KB = str(Path(sys.executable).parent / "kb")  # the kb installed beside this Python
MAX_AGENTS, MAX_SECONDS = 1000, 600  # bounded: this runs on a shared machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_kb(target: Path) -> Path:
    target.mkdir(parents=True)
    shutil.copy2(REPO / "kb.yaml", target / "kb.yaml")
    for folder in ("articles", "trees"):
        shutil.copytree(REPO / folder, target / folder)
    return target


def kb(*args: str) -> str:
    return subprocess.run([KB, *args], capture_output=True, text=True, timeout=300).stdout.strip()


class Server:
    """`kb server` as a child process (its own process group, so a kill reaches every worker)."""

    def __init__(self, root: Path, database: str, workers: int) -> None:
        self.root, self.database, self.workers = root, database, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                KB,
                "server",
                "--root",
                str(self.root),
                "--database",
                self.database,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("kb server did not start in 60 s")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


class Client:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, one connection per agent.

    httpx cost the load generator 3-5 ms of CPU per request: with 200 agents the client, not the
    server, saturated a core and its own event loop's queue was measured as step latency."""

    def __init__(self, url: str, token: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, JSON body); ConnectionError when the server is gone or does not answer in 30 s."""
        try:
            return await asyncio.wait_for(self._request(method, path, body), 30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
            self.close()
            raise ConnectionError(str(error) or type(error).__name__) from None

    async def _request(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        data = json.dumps(body).encode() if body is not None else b""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        status = int((await reader.readline()).split()[1])  # IndexError: closed, the server is gone
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int((await reader.readline()).strip(), 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readline()
            payload = b"".join(parts)
        else:
            payload = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.close()
        return status, json.loads(payload) if payload else None

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


@dataclass
class Ledger:
    """What the agents were told was recorded: events per walk, and steps whose answer never came."""

    events: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0  # requests cut off or refused: server down, or no answer in 30 s
    errors: dict[str, int] = field(default_factory=dict)
    walks_open: set[str] = field(default_factory=set)


def value_for(pattern: str | None, cache: dict[str, str]) -> str:
    """A value matching a collect field's pattern (found once per pattern with hypothesis)."""
    if not pattern:
        return "bench"
    if pattern not in cache:
        import warnings

        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        found: list[str] = []

        @settings(max_examples=20, suppress_health_check=list(HealthCheck), database=None)
        @given(st.from_regex(pattern, fullmatch=True))
        def pick(value: str) -> None:
            if value.isprintable() and value.strip() == value and value:
                found.append(value)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pick()
        cache[pattern] = found[0] if found else "bench"
    return cache[pattern]


async def agent(
    url: str,
    token: str,
    trees: list[str],
    until: float,
    think: float,
    ledger: Ledger,
    patterns: dict[str, str],
    rng: random.Random,
) -> None:
    client = Client(url, token)
    state: dict[str, Any] | None = None
    try:
        while time.monotonic() < until:
            if state is None or state.get("outcome") != "in_progress":
                method, path, body = "POST", "/api/v1/walks", {"tree": rng.choice(trees)}
            elif state.get("waiting_for", {}).get("kind") == "input":
                wanted = state["waiting_for"]
                method, path = "POST", f"/api/v1/walks/{state['id']}/input"
                body = {"name": wanted["name"], "value": value_for(wanted.get("pattern"), patterns)}
            elif state["answers"]:
                method, path = "POST", f"/api/v1/walks/{state['id']}/answer"
                body = {"answer": rng.choice(state["answers"])["number"]}
            else:
                method, path, body = "POST", f"/api/v1/walks/{state['id']}/answer", {"answer": "done"}
            started = time.perf_counter()
            try:
                status, answer = await client.request(method, path, body)
            except ConnectionError:
                ledger.unanswered += 1  # the step may or may not be recorded: read the walk back
                await asyncio.sleep(0.5)
                if state is not None:
                    state = await reread(client, state["id"])
                continue
            ledger.latencies.append(time.perf_counter() - started)
            if status in (200, 201):
                state = answer
                walk_id = answer["id"]
                ledger.events[walk_id] = ledger.events.get(walk_id, 0) + 1
                (ledger.walks_open.add if answer["outcome"] == "in_progress" else ledger.walks_open.discard)(
                    walk_id
                )
            else:
                ledger.errors[str(status)] = ledger.errors.get(str(status), 0) + 1
                state = None
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    finally:
        client.close()


async def reread(client: Client, walk_id: str) -> dict[str, Any] | None:
    for _ in range(120):
        try:
            status, answer = await client.request("GET", f"/api/v1/walks/{walk_id}")
            return dict(answer) if status == 200 else None
        except ConnectionError:
            await asyncio.sleep(0.5)
    return None


def count_events(database: str, walk_ids: list[str]) -> dict[str, int]:
    """Events per walk as the store has them, less the `start` already counted by the agents' POST."""
    from kbengine.walk.store import open_store

    store = open_store(database)
    try:
        return {walk_id: len(store.read(walk_id).events) for walk_id in walk_ids}
    finally:
        store.close()


async def resume_all(url: str, token: str, walk_ids: set[str]) -> tuple[int, int]:
    """(walks that read back and took their next step, walks that did not)."""
    resumed = failed = 0
    client = Client(url, token)
    try:
        for walk_id in sorted(walk_ids):
            state = await reread(client, walk_id)
            if state is None:
                failed += 1
                continue
            if state["outcome"] != "in_progress":
                resumed += 1
                continue
            body: dict[str, Any] = (
                {"answer": state["answers"][0]["number"]} if state["answers"] else {"answer": "done"}
            )
            path = "answer"
            if state.get("waiting_for", {}).get("kind") == "input":
                path, body = "input", {"name": state["waiting_for"]["name"], "value": "x"}
            status, _ = await client.request("POST", f"/api/v1/walks/{walk_id}/{path}", body)
            resumed += status in (200, 422)  # 422: read back, value refused by its pattern
            failed += status not in (200, 422)
    finally:
        client.close()
    return resumed, failed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else 0.0


def make_tokens(root: Path, database: str, agents: int) -> list[str]:
    """One token per simulated agent and, last, a lead's (who may continue any walk), added
    straight to the server's database."""
    from kbengine.server.app import server_database_url
    from kbengine.server.users import Users
    from kbengine.walk.database import open_engine

    engine = open_engine(server_database_url(root, database))
    try:
        users = Users(engine)
        return [users.add(f"agent{n}") for n in range(agents)] + [users.add("bench-lead", "lead")]
    finally:
        engine.dispose()


@contextmanager
def database_url(kind: str, scratch: Path) -> Iterator[str]:
    """sqlite: a fresh file; postgresql: a new database on $KB_TEST_POSTGRES_URL or a throwaway
    cluster (tests/postgres.py); anything else is taken as a URL."""
    if kind == "sqlite":
        yield f"sqlite:///{scratch / 'desk.db'}"
    elif kind == "postgresql":
        sys.path.insert(0, str(REPO / "tests"))
        from postgres import new_database, server_url

        servers = server_url()
        try:
            yield new_database(next(servers))
        finally:
            servers.close()
    else:
        yield kind


def run(agents: int, seconds: float, think: float, database: str, workers: int, kill: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kb-bench-server-") as scratch, \
            database_url(database, Path(scratch)) as database:
        root = copy_kb(Path(scratch) / "kb")
        kb("check", "--root", str(root))  # compiled once: the cache is warm, as on a desk's server
        *tokens, lead = make_tokens(root, database, agents)
        server = Server(root, database, workers)
        server.start()
        try:
            trees = [
                t["id"]
                for t in httpx.get(
                    f"{server.url}/api/v1/trees", headers={"Authorization": f"Bearer {tokens[0]}"}
                ).json()["trees"]
            ]
            ledger = Ledger()
            patterns: dict[str, str] = {}

            async def load() -> None:
                until = time.monotonic() + seconds
                tasks = [
                    asyncio.create_task(
                        agent(server.url, token, trees, until, think, ledger, patterns, random.Random(n))
                    )
                    for n, token in enumerate(tokens)
                ]
                if kill:
                    await asyncio.sleep(seconds / 2)
                    server.kill()
                    await asyncio.to_thread(server.start)
                await asyncio.gather(*tasks)

            started = time.perf_counter()
            asyncio.run(load())
            elapsed = time.perf_counter() - started
            recorded = count_events(database, list(ledger.events))
            lost = sum(max(ledger.events[w] - recorded.get(w, 0), 0) for w in ledger.events)
            extra = sum(max(recorded.get(w, 0) - ledger.events[w], 0) for w in ledger.events)
            resumed, failed = (
                asyncio.run(resume_all(server.url, lead, ledger.walks_open)) if kill else (0, 0)
            )
        finally:
            server.stop()
    steps = len(ledger.latencies)
    return {
        "agents": agents,
        "seconds": seconds,
        "think": think,
        "workers": workers,
        "database": database.split(":")[0],
        "steps": steps,
        "steps_per_second": round(steps / elapsed, 1),
        "p50_ms": round(percentile(ledger.latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(ledger.latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(ledger.latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(ledger.latencies) * 1000, 1) if steps else 0.0,
        "walks": len(ledger.events),
        "events_lost": lost,
        "events_beyond_acknowledged": extra,
        "requests_unanswered": ledger.unanswered,
        "errors": ledger.errors,
        "walks_resumed_after_kill": resumed,
        "walks_not_resumed": failed,
    }


def service_cost(steps: int, database: str, profile: bool) -> dict[str, Any]:
    """The walk service alone, in this process (no HTTP, no client): 20 agents take `steps` steps
    in turn; wall and CPU time per step, and with `profile` the top of a cProfile by total time."""
    import cProfile
    import pstats

    from kbengine.server.app import create_app

    with tempfile.TemporaryDirectory(prefix="kb-bench-service-") as scratch, \
            database_url(database, Path(scratch)) as url:
        app = create_app(copy_kb(Path(scratch) / "kb"), url, reload_interval=2.0)
        walks, users = app.state.walks, app.state.users
        tokens = [users.add(f"agent{n}") for n in range(20)]
        trees, rng = sorted(walks.library.kb.trees), random.Random(1)
        states: dict[int, dict[str, Any]] = {}
        patterns: dict[str, str] = {}

        def step(n: int) -> None:
            caller, state = users.sign_in(tokens[n % 20]), states.get(n % 20)
            if state is None or state["outcome"] != "in_progress":
                state = walks.start(caller, rng.choice(trees))
            elif state.get("waiting_for", {}).get("kind") == "input":
                wanted = state["waiting_for"]
                value = value_for(wanted.get("pattern"), patterns)
                state = walks.provide(caller, state["id"], wanted["name"], value)
            else:
                answer = rng.choice(state["answers"])["number"] if state["answers"] else "done"
                state = walks.answer(caller, state["id"], answer)
            states[n % 20] = state

        for n in range(100):  # warm: connections open, statements compiled
            step(n)
        profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profiler.enable()
        for n in range(steps):
            step(n)
        profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        walks.store.close()
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"kbengine", 25)
    return {"database": database, "steps": steps, "wall_ms_per_step": round(wall / steps * 1000, 2),
            "cpu_ms_per_step": round(cpu / steps * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between an agent's steps (0.5-1.5x)"
    )
    parser.add_argument("--database", default="sqlite", help="sqlite (a fresh file) or a postgresql:// URL")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--kill", action="store_true", help="SIGKILL the server halfway, start it again")
    parser.add_argument("--service", type=int, metavar="STEPS",
                        help="instead: STEPS steps of the walk service alone, in this process (CPU per step)")
    parser.add_argument("--profile", action="store_true", help="with --service: cProfile the steps")
    options = parser.parse_args()
    if options.service:
        for name, value in service_cost(min(options.service, 100_000), options.database,
                                        options.profile).items():
            print(f"{name:>28}: {value}")
        return
    if not (1 <= options.agents <= MAX_AGENTS and 0 < options.seconds <= MAX_SECONDS):
        parser.error(f"--agents 1-{MAX_AGENTS}, --seconds up to {MAX_SECONDS}")
    figures = run(
        options.agents, options.seconds, options.think, options.database, options.workers, options.kill
    )
    for name, value in figures.items():
        print(f"{name:>28}: {value}")
    sys.exit(1 if figures["events_lost"] or figures["walks_not_resumed"] else 0)


if __name__ == "__main__":
    main()
