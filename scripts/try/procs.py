"""Keeps track of every process a Try-it starts, so none outlives `make try`.

The runner becomes a child subreaper (Linux prctl PR_SET_CHILD_SUBREAPER): a process whose parent exits
(a node started by `make run`, `mqbroker ... &` in a subshell) is re-parented to the runner instead of
to init, so "all descendants of the runner" really is everything the book started. A small thread reaps
those adopted children when they exit, so a killed node does not linger as a zombie that `kill -0`
still reports alive. Linux only (/proc); elsewhere the runner still works but cannot adopt orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) for every process we can see."""
    table = {}
    try:
        names = os.listdir("/proc")
    except FileNotFoundError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        table[int(name)] = (int(rest[1]), rest[0])
    return table


def descendants(root: int) -> list[int]:
    """Every live (non-zombie) process below `root`, parents before children."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        if table[pid][1] != "Z":
            out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def state(pid: int) -> str | None:
    """The process state letter (R, S, T = stopped, Z, ...) or None if it is gone."""
    entry = _table().get(pid) if os.path.exists(f"/proc/{pid}") else None
    return entry[1] if entry else None


def kill_all(pids: list[int], grace_s: float = 3.0) -> list[int]:
    """SIGTERM (and SIGCONT, for stopped ones), then SIGKILL what is left after grace_s; returns the pids."""
    alive = [p for p in pids if _exists(p)]
    for p in alive:
        for sig in (signal.SIGTERM, signal.SIGCONT):
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_exists(p) for p in alive):
        time.sleep(0.1)
    for p in alive:
        if _exists(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return alive


def _exists(pid: int) -> bool:
    s = state(pid)
    return s is not None and s != "Z"


class Reaper:
    """Reaps adopted children that exit.

    Children the runner starts itself (subprocess, the pty shell) are registered in `own` under `lock`
    and left to their own wait(): `with reaper.lock: p = Popen(...); reaper.own.add(p.pid)`.
    """

    def __init__(self) -> None:
        self.own: set[int] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.3):
            with self.lock:
                for pid, (ppid, st) in _table().items():
                    if ppid == me and st == "Z" and pid not in self.own:
                        try:
                            os.waitpid(pid, os.WNOHANG)
                        except ChildProcessError:
                            pass

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        """subprocess.run for a child the reaper must not touch."""
        with self.lock:
            proc = subprocess.Popen(args, **kwargs)
            self.own.add(proc.pid)
        try:
            out, err = proc.communicate()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            self.own.discard(proc.pid)
        return subprocess.CompletedProcess(args, proc.returncode, out, err)
