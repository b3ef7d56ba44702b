"""A local Mosquitto broker for tests and the demo: generated config, loopback only.

Mosquitto comes from Debian's `mosquitto` package (`apt-get install -y mosquitto`). The
config lifts the per-client limits that would otherwise throttle or drop a QoS 1 stream:
`max_inflight_messages 0` (no cap on unacknowledged deliveries) and `max_queued_messages 0`
(a persistent session queues everything while the intake is down, instead of the default
1000). With `persistence` on, queued messages survive a broker restart too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sensors.errors import BrokerError

# `user` is the current user: started as root, Mosquitto would otherwise switch to the
# `mosquitto` user and could not write its pid file and persistence in our folder.
CONFIG = """\
user {user}
listener {port} {host}
allow_anonymous true
max_inflight_messages 0
max_queued_messages 0
max_packet_size 1048576
persistence {persistence}
persistence_location {data_dir}/
log_dest file {data_dir}/mosquitto.log
log_type error
log_type warning
{extra}"""


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str:
    for candidate in ("mosquitto", "/usr/sbin/mosquitto"):
        path = shutil.which(candidate)
        if path:
            return path
    raise BrokerError("mosquitto is not installed: apt-get install -y mosquitto")


@dataclass
class LocalBroker:
    """Start with `start()`, stop with `stop()`; or use it as a context manager."""

    data_dir: Path
    port: int = 0
    host: str = "127.0.0.1"
    persistence: bool = False
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout_s: float = 10.0) -> LocalBroker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port == 0:
            self.port = free_port(self.host)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(
            CONFIG.format(
                port=self.port,
                host=self.host,
                persistence="true" if self.persistence else "false",
                data_dir=self.data_dir,
                user=_user(),
                extra="",
            )
        )
        self._proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise BrokerError(f"mosquitto exited at start: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# -- the demo broker: a daemon that outlives the command that started it ---------------------


def start_daemon(data_dir: Path, port: int, host: str = "127.0.0.1") -> int:
    """Start a persistent Mosquitto in the background (pid file in `data_dir`); returns the
    pid. Idempotent: a broker already running there is left alone."""
    pid = daemon_pid(data_dir)
    if pid is not None:
        return pid
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = data_dir / "mosquitto.conf"
    pid_file = data_dir / "mosquitto.pid"
    conf.write_text(
        CONFIG.format(
            port=port,
            host=host,
            persistence="true",
            data_dir=data_dir,
            user=_user(),
            extra=f"pid_file {pid_file}\n",
        )
    )
    subprocess.run([mosquitto_binary(), "-c", str(conf), "-d"], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = daemon_pid(data_dir)
        if pid is not None:
            try:
                with socket.create_connection((host, port), timeout=0.2):
                    return pid
            except OSError:
                pass
        time.sleep(0.05)
    raise BrokerError(f"mosquitto did not start on {host}:{port}; see {data_dir}/mosquitto.log")


def daemon_pid(data_dir: Path) -> int | None:
    """The pid of the demo broker in `data_dir` when it is running."""
    try:
        pid = int((data_dir / "mosquitto.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def stop_daemon(data_dir: Path, timeout_s: float = 10.0) -> bool:
    """Stop the demo broker in `data_dir`; returns whether one was running."""
    pid = daemon_pid(data_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    raise BrokerError(f"mosquitto (pid {pid}) did not stop")


def main(argv: list[str]) -> int:
    """`python -m sensors.broker start|stop|status`: the demo broker under the state folder."""
    from chainlens.settings import get_settings

    settings = get_settings()
    data_dir = settings.state_dir / "mosquitto"
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        pid = start_daemon(data_dir, settings.mqtt_port, settings.mqtt_host)
        print(f"mosquitto running (pid {pid}) on {settings.mqtt_host}:{settings.mqtt_port}")
    elif command == "stop":
        print("stopped" if stop_daemon(data_dir) else "not running")
    else:
        running = daemon_pid(data_dir)
        print(f"running (pid {running})" if running else "not running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
