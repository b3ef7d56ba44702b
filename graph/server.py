"""The managed local Neo4j 5.26 community server.

ChainLens fetches the server's jars from Maven Central with the machine's `mvn`, keeps them in
its state folder, writes a minimal `neo4j.conf` and runs `org.neo4j.server.CommunityEntryPoint`
as a background process. Nothing here is used when `NEO4J_URI` points at an external server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError

from chainlens.logs import get_logger
from chainlens.settings import Settings
from graph.errors import Neo4jServerError

log = get_logger(__name__)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>chainlens.local</groupId>
  <artifactId>neo4j-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.neo4j</groupId><artifactId>neo4j</artifactId><version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.neo4j.client</groupId><artifactId>neo4j-browser</artifactId>
      <version>{browser_version}</version>
    </dependency>
  </dependencies>
</project>
"""

# Flags Neo4j 5 needs on Java 17 (what bin/neo4j would add).
_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"


@dataclass(frozen=True, slots=True)
class ServerStatus:
    installed: bool
    running: bool
    pid: int | None
    answers: bool
    bolt_uri: str
    http_url: str
    home: Path

    def describe(self) -> str:
        if not self.installed:
            return "not installed"
        if not self.running:
            return "stopped"
        return f"running (pid {self.pid}), {'answering' if self.answers else 'not answering yet'}"


class ManagedNeo4j:
    """One Neo4j server living under ``home`` (jars, conf, data, logs, pid file)."""

    def __init__(self, settings: Settings, home: Path | None = None) -> None:
        self.settings = settings
        self.home = home or settings.neo4j_home
        self.lib = self.home / "lib"
        self.conf_dir = self.home / "conf"
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.pid_file = self.home / "run" / "neo4j.pid"
        self.console_log = self.logs_dir / "console.log"
        self.bolt_uri = f"bolt://127.0.0.1:{settings.neo4j_bolt_port}"
        self.http_url = f"http://127.0.0.1:{settings.neo4j_http_port}"

    # ---- install -------------------------------------------------------------------------
    @property
    def _installed_marker(self) -> Path:
        s = self.settings
        return self.lib / f".installed-{s.neo4j_version}-browser-{s.neo4j_browser_version}"

    def is_installed(self) -> bool:
        return self._installed_marker.exists()

    def install(self) -> bool:
        """Fetch the jars with Maven unless present; returns True when something was fetched."""
        if self.is_installed():
            return False
        mvn = shutil.which("mvn")
        if mvn is None:
            raise Neo4jServerError(
                "Maven (`mvn`) is not on PATH; install it (apt-get install maven)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        pom = self.home / "pom.xml"
        pom.write_text(
            _POM.format(
                version=self.settings.neo4j_version,
                browser_version=self.settings.neo4j_browser_version,
            )
        )
        staging = self.home / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        log.info("neo4j.install", version=self.settings.neo4j_version)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise Neo4jServerError(
                f"`{' '.join(cmd)}` failed ({result.returncode}):\n{result.stdout[-2000:]}"
                f"{result.stderr[-2000:]}"
            )
        # Swap in atomically so that an interrupted install never looks complete.
        shutil.rmtree(self.lib, ignore_errors=True)
        staging.rename(self.lib)
        self._installed_marker.touch()
        return True

    # ---- configuration -------------------------------------------------------------------
    def write_config(self) -> Path:
        s = self.settings
        for d in (
            self.conf_dir,
            self.data_dir,
            self.logs_dir,
            self.pid_file.parent,
            self.home / "plugins",
            self.home / "import",
        ):
            d.mkdir(parents=True, exist_ok=True)
        conf = "\n".join(
            [
                "# Written by ChainLens (graph/server.py); edits are overwritten on start.",
                "server.default_listen_address=127.0.0.1",
                f"server.bolt.listen_address=127.0.0.1:{s.neo4j_bolt_port}",
                f"server.http.listen_address=127.0.0.1:{s.neo4j_http_port}",
                "server.https.enabled=false",
                f"server.memory.heap.initial_size={s.neo4j_heap}",
                f"server.memory.heap.max_size={s.neo4j_heap}",
                f"server.memory.pagecache.size={s.neo4j_pagecache}",
                "dbms.usage_report.enabled=false",
                "dbms.security.auth_enabled=true",
                "db.tx_log.rotation.retention_policy=1 days",
                f"server.directories.data={self.data_dir}",
                f"server.directories.logs={self.logs_dir}",
                f"server.directories.run={self.pid_file.parent}",
                f"server.directories.plugins={self.home / 'plugins'}",
                f"server.directories.import={self.home / 'import'}",
                "",
            ]
        )
        path = self.conf_dir / "neo4j.conf"
        path.write_text(conf)
        return path

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if not java:
            raise Neo4jServerError(
                "no `java` found; Neo4j 5.26 needs Java 17 or 21 (JAVA_HOME or PATH)"
            )
        return java

    def _ensure_password(self) -> None:
        """Set the generated password before the very first start (Neo4j only accepts it then)."""
        if (self.data_dir / "dbms").exists():
            return
        password = self.settings.effective_neo4j_password().get_secret_value()
        cmd = [
            self._java(),
            "-cp",
            f"{self.conf_dir}/*:{self.lib}/*",
            f"-Dbasedir={self.home}",
            _ADMIN_ENTRY_POINT,
            "dbms",
            "set-initial-password",
            "--",  # the end of options: a generated password may start with "-"
            password,
        ]
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise Neo4jServerError(f"setting the initial password failed: {result.stderr[-2000:]}")

    # ---- process -------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The server's pid if it is alive (a stale pid file after a crash reads as None)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return None
        if _ENTRY_POINT not in cmdline or str(self.home) not in cmdline:
            return None  # pid reused by another process
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (FileNotFoundError, IndexError):
            return None
        return None if state == "Z" else pid

    def answers(self, timeout: float = 2.0) -> bool:
        """One un-retried `RETURN 1` (the driver's managed retries would hide a dead server)."""
        try:
            with socket.create_connection(("127.0.0.1", self.settings.neo4j_bolt_port), timeout):
                pass
        except OSError:
            return False
        password = self.settings.effective_neo4j_password().get_secret_value()
        try:
            with (
                GraphDatabase.driver(
                    self.bolt_uri,
                    auth=(self.settings.neo4j_user, password),
                    connection_timeout=timeout,
                ) as driver,
                driver.session(database=self.settings.neo4j_database) as session,
            ):
                session.run("RETURN 1").consume()
            return True
        except (Neo4jError, DriverError, OSError):
            # Refused, or the database is still starting (it can lag Bolt).
            return False

    def status(self) -> ServerStatus:
        pid = self.pid()
        return ServerStatus(
            installed=self.is_installed(),
            running=pid is not None,
            pid=pid,
            answers=pid is not None and self.answers(),
            bolt_uri=self.bolt_uri,
            http_url=self.http_url,
            home=self.home,
        )

    def start(self, wait: bool = True) -> bool:
        """Start the server unless it is running; returns True when it was started now."""
        if self.pid() is not None:
            if wait:
                self.wait_until_ready()
            return False
        self.install()
        self.write_config()
        self._ensure_password()
        s = self.settings
        cmd = [
            self._java(),
            "-cp",
            f"{self.conf_dir}/*:{self.lib}/*",
            f"-Xms{s.neo4j_heap}",
            f"-Xmx{s.neo4j_heap}",
            *_JVM_FLAGS,
            _ENTRY_POINT,
            f"--home-dir={self.home}",
            f"--config-dir={self.conf_dir}",
            "--console-mode",
        ]
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        with open(self.console_log, "ab") as out:
            process = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.home,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        log.info("neo4j.starting", pid=process.pid, bolt=self.bolt_uri, log=str(self.console_log))
        if wait:
            self.wait_until_ready(process)
        return True

    def wait_until_ready(self, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + self.settings.neo4j_start_timeout_s
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise Neo4jServerError(
                    f"Neo4j exited with code {process.returncode} during start; "
                    f"last lines of {self.console_log}:\n{self.log_tail()}"
                )
            if process is None and self.pid() is None:
                raise Neo4jServerError(f"Neo4j is not running; see {self.console_log}")
            if self.answers():
                log.info("neo4j.ready", bolt=self.bolt_uri)
                return
            time.sleep(0.5)
        raise Neo4jServerError(
            f"Neo4j did not answer within {self.settings.neo4j_start_timeout_s:.0f}s; "
            f"last lines of {self.console_log}:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM and wait for the clean shutdown; SIGKILL only after ``timeout``."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            _reap(pid)
            time.sleep(0.2)
        if self.pid() is not None:
            log.warning("neo4j.kill", pid=pid)
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        log.info("neo4j.stopped", pid=pid)
        return True

    def admin_import(self, database: str, args: list[str]) -> float:
        """Run `neo4j-admin database import full DATABASE ARGS` on the stopped server's store
        (its output goes to logs/import.log); returns the seconds it took."""
        if self.pid() is not None:
            raise Neo4jServerError("stop the server before an offline import")
        self.install()
        self.write_config()
        self._ensure_password()
        s = self.settings
        cmd = [
            self._java(), "-cp", f"{self.conf_dir}/*:{self.lib}/*", f"-Xmx{s.neo4j_heap}",
            *_JVM_FLAGS, f"-Dbasedir={self.home}", _ADMIN_ENTRY_POINT,
            "database", "import", "full", database,
            f"--report-file={self.logs_dir / 'import.report'}", *args,
        ]  # fmt: skip
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        import_log = self.logs_dir / "import.log"
        started = time.monotonic()
        with open(import_log, "wb") as out:
            result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    cwd=self.home, check=False)  # fmt: skip
        if result.returncode != 0:
            tail = "\n".join(import_log.read_text(errors="replace").splitlines()[-30:])
            raise Neo4jServerError(
                f"neo4j-admin database import failed ({result.returncode}); "
                f"see {import_log}:\n{tail}"
            )
        log.info("neo4j.imported", database=database, seconds=round(time.monotonic() - started))
        return time.monotonic() - started

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.console_log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log yet)"


def _reap(pid: int) -> None:
    """Collect the exit status of our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
