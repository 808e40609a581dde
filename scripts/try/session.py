"""One interactive bash per chapter, on a pseudo-terminal, as a student's terminal would be.

Why a terminal and not a pipe: the book's commands assume one. `cmd &` followed by `kill %1` must end
the whole job (job control puts each job in its own process group), a hanging command is stopped the
way a student stops it (Ctrl-C, which the terminal turns into SIGINT for the foreground job), and
programs print what they print on a terminal. Echo is off, both prompts are empty, and PROMPT_COMMAND
prints a marker with the exit status before each new prompt: that marker ends a command's output.

Processes: the runner makes itself a child subreaper (Linux prctl), so whatever a command leaves
running in the background, even after its parent exits, stays a descendant of the runner and can be
found and ended (procs.py) when the chapter is over.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import re
import secrets
import signal
import struct
import termios
import threading
import time
from dataclasses import dataclass

MAX_OUTPUT_BYTES = 256 * 1024  # what is kept of one command's output (the tail)


@dataclass
class Result:
    """What one command did."""

    output: str  # stdout and stderr as the terminal showed them (\r\n turned into \n)
    rc: int | None  # exit status; None when the command had to be interrupted
    seconds: float
    timed_out: bool = False


class SessionBroken(Exception):
    """The shell stopped answering (it exited, or a command could not be interrupted)."""


class Session:
    """An interactive bash on a pty, in `cwd`, with `env`; `run` sends one command and waits for it."""

    def __init__(self, cwd: str, env: dict[str, str], columns: int = 200):
        self.nonce = secrets.token_hex(6)
        marker = f"@@try-{self.nonce}@@"
        self.done = re.compile(rf"\r?\n{re.escape(marker)} (\d+)@@\r?\n".encode())
        env = dict(env)
        env.update(
            PS1="",
            PS2="",
            PS4="+ ",
            HISTFILE="/dev/null",
            PROMPT_COMMAND=f'__try_rc=$?; printf "\\n{marker} %d@@\\n" "$__try_rc"',
        )
        pid, fd = pty.fork()
        if pid == 0:  # the child: a terminal of `columns` x 50 without echo, then bash
            try:
                os.chdir(cwd)
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
                attrs = termios.tcgetattr(0)
                attrs[3] &= ~(termios.ECHO | termios.ECHONL)
                termios.tcsetattr(0, termios.TCSANOW, attrs)
                os.execvpe("bash", ["bash", "--norc", "--noprofile", "--noediting", "-i"], env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()
        self.closed = False
        self.lock = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        first = self._wait(0, 20)  # the first prompt
        if first is None:
            self.close()
            raise SessionBroken("bash did not show its first prompt within 20 s")

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError as e:
                if e.errno in (errno.EIO, errno.EBADF):
                    data = b""
                else:
                    raise
            with self.lock:
                if not data:
                    self.closed = True
                    self.lock.notify_all()
                    return
                self.buffer += data
                self.lock.notify_all()

    def _wait(self, start: int, timeout_s: float) -> tuple[bytes, int] | None:
        """Output from `start` up to the next marker and the exit status, or None after timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while True:
                match = self.done.search(self.buffer, start)
                if match:
                    out, rc = bytes(self.buffer[start : match.start()]), int(match.group(1))
                    del self.buffer[: match.end()]
                    return out, rc
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.lock.wait(min(left, 0.5))

    def _write(self, data: bytes) -> None:
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def run(self, command: str, timeout_s: float) -> Result:
        """Types `command` (one or more lines) and waits for the next prompt, at most timeout_s."""
        if self.closed:
            raise SessionBroken("the shell has exited")
        start = 0  # what background jobs printed since the last prompt belongs to this command
        began = time.monotonic()
        self._write(command.encode() + b"\n")
        got = self._wait(start, timeout_s)
        if got is not None:
            return Result(clean(got[0]), got[1], time.monotonic() - began)
        if self.closed:
            raise SessionBroken(f"the shell exited while running: {command.splitlines()[0]}")
        # Time is up: Ctrl-C as a student would, then SIGKILL for the foreground job if that is not enough.
        self._write(b"\x03")
        got = self._wait(start, 5)
        if got is None:
            try:
                group = os.tcgetpgrp(self.fd)
                if group > 0 and group != self.pid:
                    os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
            got = self._wait(start, 5)
        if got is None:
            with self.lock:
                partial = bytes(self.buffer[start:])
            raise SessionBroken(f"a command could not be interrupted; output so far:\n{clean(partial)}")
        return Result(clean(got[0]), None, time.monotonic() - began, timed_out=True)

    def close(self) -> None:
        """Ends the shell (SIGHUP as when a terminal window closes; SIGKILL if it lingers)."""
        try:
            os.close(self.fd)
        except OSError:
            pass
        for sig in (signal.SIGHUP, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            for _ in range(20):
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
                time.sleep(0.05)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def clean(raw: bytes) -> str:
    """Terminal output as text: \\r\\n -> \\n, bare \\r (progress lines) keeps the last state, colour
    codes removed (loggers colour their output on a terminal; the book shows it plain), tail only."""
    if len(raw) > MAX_OUTPUT_BYTES:
        raw = b"[... output cut ...]\n" + raw[-MAX_OUTPUT_BYTES:]
    text = ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
