"""What the benchmark scripts in bench/ share, so that they start, drive and read the
server the same way. Imported as `common`: a script run as `python bench/x.py` has bench/ on
sys.path.

Only what the scripts did identically lives here. Where they measure differently on purpose
(customers.py's nearest-rank percentile and its access-log times, which processes count as
"the server" for CPU time), each script keeps its own policy and uses the primitives below.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-2026"


# --- ports, environment, child phases -------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on: every server a benchmark starts is on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(
    workdir: Path,
    database_url: str,
    secret: str,
    *,
    allowed_hosts: str = "127.0.0.1,localhost",
    src_on_path: bool = False,
) -> dict:
    """Production-like settings (DEBUG=0, plain HTTP on loopback) in a throwaway var dir, for
    the server and for the child phases alike, so both see the same database and settings.
    `src_on_path` sets PYTHONPATH to this checkout's src/: its code, whatever is installed."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "GUANXI_HTTPS": "0",
        "SECRET_KEY": secret,
        "GUANXI_VAR_DIR": str(workdir),
        "STATIC_ROOT": str(workdir / "static"),
        "ALLOWED_HOSTS": allowed_hosts,
        "LANGUAGE_CODE": "zh-hans",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    if src_on_path:
        env["PYTHONPATH"] = str(ROOT / "src")
    return env


def run_phase(script: str, phase: str, workdir: Path, env: dict, **options) -> dict:
    """Run `phase` of `script` in a child process with `env` (its own database connection and
    memory, nothing left over in the measuring process); it prints one JSON line."""
    args = [sys.executable, script, "--phase", phase, "--workdir", str(workdir)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    out = subprocess.run(args, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def serve_phase(args, phases: dict, **dump_options) -> bool:
    """The child's side of `run_phase`: with --phase, run that phase with this checkout's
    src/ importable and print its result as one JSON line; True if it did (nothing more to
    do), False in the parent."""
    if not args.phase:
        return False
    sys.path.insert(0, str(ROOT / "src"))
    print(json.dumps(phases[args.phase](args), **dump_options))
    return True


# --- the server -----------------------------------------------------------------------------


def start_server(
    workdir: Path, env: dict, port: int, workers: int, collectstatic: bool = True
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port` with `workers` sync workers and no access log, its output
    in workdir/gunicorn.log. With `collectstatic`, first as production does: pages with
    DEBUG=0 need the static manifest."""
    if collectstatic:
        subprocess.run(
            [BIN / "guanxi", "collectstatic", "--noinput", "--verbosity", "0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "guanxi.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "/dev/null",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server.log = log
    return server


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM, wait for gunicorn's graceful stop, close its log."""
    server.terminate()
    server.wait(timeout=20)
    server.log.close()


def wait_until_up(client, server) -> None:
    """Poll /healthz until it answers 200 (30 s at most); fail at once if gunicorn died."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see gunicorn.log in the work directory")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except Exception:  # not listening yet
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def log_in(client, username: str) -> None:
    """A session login through the real form (CSRF cookie first), as a browser does."""
    client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    if response.status_code != 302:
        raise SystemExit(f"login failed for {username}: HTTP {response.status_code}")


# --- timings --------------------------------------------------------------------------------


def timed(
    client,
    path: str,
    count: int,
    must_contain: str = "",
    headers=None,
    status: int = 200,
    *,
    warmup: int,
) -> list[float]:
    """Milliseconds of `count` sequential GETs of `path`, after `warmup` untimed ones; each
    answer must have `status` and contain `must_contain`, or the run stops."""
    for _ in range(warmup):
        client.get(path, headers=headers)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != status or must_contain not in response.text:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return times


def percentile(values: list[float], p: float) -> float:
    """The value at the rounded rank p % of the way through the sorted values (no
    interpolation): the definition behind the published figures of these scripts."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float], p99: bool = False) -> dict:
    """n, p50, p95 (and p99), max in ms, rounded to 0.1 ms as the reports print them."""
    result = {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
    }
    if p99:
        result["p99"] = round(percentile(values, 99), 1)
    result["max"] = round(max(values), 1)
    return result


# --- CPU time of processes (Linux /proc) ----------------------------------------------------


def _stat_fields(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces): field 0 is the
    state, 1 the parent pid, 11-14 utime, stime, cutime, cstime in clock ticks."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):  # the process ended meanwhile
        return None


def cpu_seconds(pid: int, with_reaped_children: bool = False) -> float:
    """User + system CPU seconds of a process (all its threads); with
    `with_reaped_children`, also those of the children it has waited for. 0 once gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = fields[11:15] if with_reaped_children else fields[11:13]
    return sum(int(f) for f in ticks) / os.sysconf("SC_CLK_TCK")


def children_by_parent() -> dict[int, list[int]]:
    """Parent pid → pids of its live children, for every process now."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat.parent.name)
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return parents


def children(pid: int) -> list[int]:
    """The live children of `pid` (gunicorn's workers, PostgreSQL's backends)."""
    return children_by_parent().get(pid, [])


def process_tree(root: int) -> list[int]:
    """`root` and every live process below it."""
    parents = children_by_parent()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def cpu_model() -> str | None:
    """The processor's model name from /proc/cpuinfo, None where there is none."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


# --- PostgreSQL: a throwaway cluster --------------------------------------------------------


class ThrowawayPostgres:
    """initdb + pg_ctl from /usr/lib/postgresql/*/bin in a temporary directory: loopback
    only, trust auth, locale C.UTF-8, a `guanxi` database; run as the Debian "postgres" user
    when we are root (initdb refuses root). Nothing outside `workdir` is touched; `stop()`
    shuts it down. `shared_buffers` is each benchmark's own published setting."""

    def __init__(self, workdir: Path, shared_buffers: str):
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not candidates:
            raise SystemExit(
                "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                "(apt-get install postgresql)"
            )
        self.bin = candidates[-1].parent
        self.version = self.bin.parent.name
        self.data = workdir / "pgdata"
        self.socket_dir = workdir / "pgsock"
        self.logfile = workdir / "postgres.log"
        self.shared_buffers = shared_buffers
        self.port = free_port()
        self.started = False
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args) -> None:
        subprocess.run(
            [*self.as_user, *map(str, args)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/tmp",  # a directory the postgres user may enter
            timeout=300,
        )

    def start(self) -> str:
        """Create and start the cluster; returns the DATABASE_URL of its `guanxi` database."""
        for path in (self.data, self.socket_dir):
            path.mkdir()
        self.logfile.touch()
        if self.as_user:
            os.chmod(self.data.parent, 0o755)
            for path in (self.data, self.socket_dir, self.logfile):
                shutil.chown(path, "postgres")
        self._run(
            self.bin / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "--locale=C.UTF-8",
            "--encoding=UTF8",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            f"-c shared_buffers={self.shared_buffers} -c max_connections=50"
        )
        self._run(
            self.bin / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.logfile,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        self._run(
            self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "guanxi"
        )
        return f"postgres://postgres@127.0.0.1:{self.port}/guanxi"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self.started:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
            self.started = False
