"""Start, probe, measure and stop the server processes a benchmark run uses.

Everything here works on process ids read from ``/proc``: which processes a server started, which of
them are workers (the leaves of its process tree), how much memory each holds (``smaps_rollup``),
how much CPU each used, and stopping every one of them by id at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Helper processes that are leaves of a server's tree but serve no requests.
_NOT_WORKERS = ("resource_tracker", "semaphore_tracker", "forkserver")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Proc:
    """A process identity that survives pid reuse: pid plus its start time in clock ticks."""

    pid: int
    start: int

    def alive(self) -> bool:
        return _start_time(self.pid) == self.start


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def descendants(pid: int) -> list[Proc]:
    """Every live process below ``pid`` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[Proc] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        start = _start_time(child)
        if start is not None:
            found.append(Proc(child, start))
        todo.extend(children.get(child, []))
    return sorted(found, key=lambda p: p.pid)


def workers(pid: int) -> list[Proc]:
    """The processes that serve requests: the leaves of the tree (or the root if it has none)."""
    tree = descendants(pid)
    parents = set()
    for p in tree:
        fields = _stat_fields(p.pid)
        if fields:
            parents.add(int(fields[1]))
    leaves = [
        p
        for p in tree
        if p.pid not in parents and not any(n in _cmdline(p.pid) for n in _NOT_WORKERS)
    ]
    if leaves:
        return leaves
    start = _start_time(pid)
    return [Proc(pid, start)] if start is not None else []


@dataclass(frozen=True)
class Memory:
    """Memory of one process in MiB: resident, proportional (shared pages split) and unique."""

    rss: float
    pss: float
    uss: float


def memory(pid: int) -> Memory | None:
    """Read ``/proc/<pid>/smaps_rollup``; USS is Private_Clean + Private_Dirty (+ hugetlb)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    kb: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            kb[parts[0][:-1]] = int(parts[1])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0) + kb.get("Private_Hugetlb", 0)
    return Memory(kb.get("Rss", 0) / 1024, kb.get("Pss", 0) / 1024, uss / 1024)


def tree_pss(pid: int) -> float:
    """The whole server's real footprint in MiB: PSS summed over the root and all descendants."""
    pids = [pid, *(p.pid for p in descendants(pid))]
    return sum(m.pss for m in map(memory, pids) if m is not None)


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of one process, in clock ticks."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def system_busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks summed over all CPUs since boot, from ``/proc/stat``."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def own_ticks() -> int:
    """CPU ticks used by this process and its reaped children (the load tool)."""
    t = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    return round((t.user + t.system + t.children_user + t.children_system) * hz)


class CpuWatch:
    """CPU used during a run: per worker, and by processes that are neither server nor bench."""

    def __init__(self, root: int, ws: list[Proc]) -> None:
        self.root, self.ws = root, ws
        self._tree = [root, *(p.pid for p in descendants(root))]
        self._workers = [cpu_ticks(w.pid) for w in ws]
        self._server = sum(map(cpu_ticks, self._tree))
        self._own = own_ticks()
        self._busy, self._total = system_busy_ticks()

    def stop(self) -> tuple[list[float] | None, float]:
        """(share of the workers' CPU per worker, share of all CPU used by foreign processes)."""
        used = [cpu_ticks(w.pid) - t for w, t in zip(self.ws, self._workers, strict=True)]
        split = [u / sum(used) for u in used] if sum(used) else None
        server = sum(map(cpu_ticks, self._tree)) - self._server
        own = own_ticks() - self._own
        busy, total = system_busy_ticks()
        span = total - self._total
        foreign = max(0, (busy - self._busy) - server - own)
        return split, (foreign / span if span else 0.0)


class Server:
    """One server process tree started in its own session, with its log in a file."""

    def __init__(
        self, label: str, argv: list[str], env: dict[str, str], port: int, log: Path, cwd: Path
    ) -> None:
        self.label, self.argv, self.port, self.log = label, argv, port, log
        self._log_file = log.open("wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,  # nothing from the caller's directory can shadow a server's imports
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._known: set[Proc] = set()

    def remember_tree(self) -> None:
        """Note every current descendant so :meth:`stop` can reach them even once orphaned."""
        self._known.update(descendants(self.proc.pid))

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, bytes]:
        """One request on a fresh connection; returns (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def wait_ready(self, timeout: float, path: str = "/ping") -> float:
        """Poll ``GET path`` every 10 ms until 200; return seconds since start.

        Raises if the process exits or ``timeout`` passes first.
        """
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if self.request("GET", path)[0] == 200:
                    elapsed = time.perf_counter() - self.started
                    self.remember_tree()
                    return elapsed
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.label} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def wait_workers(self, expected: int, timeout: float = 30.0) -> list[Proc]:
        """Wait until ``expected`` workers exist and their memory stopped growing (model loaded)."""
        deadline = time.perf_counter() + timeout
        last: list[float] = []
        found: list[Proc] = []
        while time.perf_counter() < deadline:
            found = workers(self.proc.pid)
            sizes = [m.rss if (m := memory(p.pid)) else 0.0 for p in found]
            settled = len(found) >= expected and len(last) == len(sizes)
            if settled and all(
                abs(a - b) <= max(1.0, 0.01 * b) for a, b in zip(sizes, last, strict=True)
            ):
                break
            last = sizes
            time.sleep(0.25)
        self.remember_tree()
        return found

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the root, then SIGKILL (by pid) whatever of its tree outlives ``grace``."""
        self.remember_tree()
        known = set(self._known)
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            deadline = time.perf_counter() + grace
            while any(p.alive() for p in known) and time.perf_counter() < deadline:
                time.sleep(0.05)
            for p in known:
                if p.alive():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p.pid, signal.SIGKILL)
        finally:
            self._log_file.close()
