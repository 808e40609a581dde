"""The runner's cluster: started fresh, and put back into a known state before every chapter.

It drives the same tools a student uses: scripts/cluster.sh (behind `make run`, `make stop`) to start
and stop nodes, scripts/leader.sh (behind `make leader`) to find each group's leader, and the book's
rmq-raw.sh to ask each name server which brokers it knows. "Known state" means: every node of the
chapter's profile runs and is not paused, no other node of the layout runs, each DLedger group has a
leader both name servers agree on, and both name servers list every broker of the profile (a name
server that was restarted knows a broker only after its next registration, up to 30 s later).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import procs


@dataclass
class Node:
    name: str
    kind: str  # namesrv | broker | console
    conf: Path
    profiles: list[str]
    port: int
    group: str | None  # brokerName, for brokers


def conf_value(path: Path, key: str) -> str | None:
    value = None
    for line in path.read_text(encoding="utf-8").splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip() == key:
            value = v.strip()
    return value


def read_layout(root: Path) -> list[Node]:
    nodes = []
    for line in (root / "conf/cluster.layout").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if line.startswith("#") or len(fields) < 4:
            continue
        conf = root / fields[2]
        nodes.append(
            Node(
                fields[0],
                fields[1],
                conf,
                fields[3:],
                int(conf_value(conf, "listenPort") or 0),
                conf_value(conf, "brokerName") if fields[1] == "broker" else None,
            )
        )
    return nodes


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# Profiles that are a layout profile started differently: "acl" is the single profile with
# `make run ACL=1` (each broker checks a fresh copy of conf/acl/plain_acl.yml).
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {"acl": ("single", {"ACL": "1"})}


def layout_profile(profile: str) -> str:
    return VARIANTS.get(profile, (profile, {}))[0]


class ClusterError(Exception):
    """The cluster did not reach the state a chapter needs; the message says what was missing."""


class Cluster:
    def __init__(self, root: Path, run_dir: Path, reaper: procs.Reaper, log):
        self.root, self.run_dir, self.reaper, self.log = root, run_dir, reaper, log
        self.nodes = read_layout(root)
        self.profile = "none"
        self.env = dict(os.environ, RUN_DIR=str(run_dir))

    def members(self, profile: str) -> list[Node]:
        return [n for n in self.nodes if layout_profile(profile) in n.profiles]

    def groups(self, profile: str) -> list[str]:
        return sorted({n.group for n in self.members(profile) if n.group})

    def pid(self, node: Node) -> int | None:
        try:
            return int((self.run_dir / node.name / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def pids(self) -> set[int]:
        """The processes of every node that runs now (their descendants are theirs too)."""
        return {p for n in self.nodes if (p := self.pid(n)) and procs.state(p) not in (None, "Z")}

    def busy_ports(self) -> list[int]:
        return [n.port for n in self.nodes if port_open(n.port)]

    def _script(self, *args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> str:
        done = self.reaper.run(
            [str(self.root / "scripts/cluster.sh"), *args],
            cwd=self.root,
            env=dict(self.env, **(extra_env or {})),
            stdout=-1,
            stderr=-2,
            text=True,
        )
        self.log(done.stdout)
        if check and done.returncode != 0:
            raise ClusterError(f"scripts/cluster.sh {' '.join(args)} failed:\n{done.stdout}")
        return done.stdout

    def stop(self) -> None:
        self._script("stop", check=False)
        self.profile = "none"

    def ensure(self, profile: str, timeout_s: float = 90) -> float:
        """Brings the cluster into the known state of `profile`; returns the seconds it took."""
        began = time.monotonic()
        if profile == "none":
            if self.profile != "none" or self.pids():
                self.stop()
            return time.monotonic() - began
        if self.profile != profile:
            self.stop()
        wanted = self.members(profile)
        for node in self.nodes:  # nodes of another profile a chapter may have started
            pid = self.pid(node)
            if node not in wanted and pid and procs.state(pid) not in (None, "Z"):
                procs.kill_all([pid])
                (self.run_dir / node.name / "pid").unlink(missing_ok=True)
        missing = False
        for node in wanted:
            pid = self.pid(node)
            st = procs.state(pid) if pid else None
            if st == "T":
                os.kill(pid, signal.SIGCONT)  # a paused node: resume it
                self.log(f"   resumed paused {node.name}")
            elif st in (None, "Z"):
                missing = True
        if missing:
            extra = VARIANTS.get(profile, (profile, {}))[1]
            if extra.get("ACL") == "1":  # every ACL chapter starts from conf/acl/plain_acl.yml
                for node in wanted:
                    (self.run_dir / node.name / "plain_acl.yml").unlink(missing_ok=True)
            self._script("start", layout_profile(profile), extra_env=extra)
        self.profile = profile
        self.wait_ready(profile, began + timeout_s)
        return time.monotonic() - began

    def leader(self, group: str) -> str | None:
        done = self.reaper.run(
            [str(self.root / "scripts/leader.sh"), group],
            cwd=self.root,
            env=dict(self.env, LEADER_WAIT_S="0"),
            stdout=-1,
            stderr=-1,
            text=True,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def registered(self, ns_port: int) -> str:
        done = self.reaper.run(
            [str(self.root / "book/src/appendix/rmq-raw.sh"), str(ns_port), "106"],
            cwd=self.root,
            stdout=-1,
            stderr=-1,
            text=True,
        )
        return done.stdout

    def wait_ready(self, profile: str, deadline: float) -> None:
        brokers = [n for n in self.members(profile) if n.kind == "broker"]
        nameservers = [n for n in self.members(profile) if n.kind == "namesrv"]
        while True:
            problems = []
            for node in self.members(profile):
                if not port_open(node.port):
                    problems.append(f"{node.name} does not listen on {node.port}")
            if not problems:
                for ns in nameservers:
                    info = self.registered(ns.port)
                    lost = [b.name for b in brokers if f'"127.0.0.1:{b.port}"' not in info]
                    if lost:
                        problems.append(f"{ns.name} does not list {', '.join(lost)} yet")
                for group in self.groups(profile):
                    if self.leader(group) is None:
                        problems.append(f"{group} has no leader yet")
            if not problems:
                return
            if time.monotonic() > deadline:
                raise ClusterError("the cluster did not get ready: " + "; ".join(problems))
            time.sleep(0.5)
