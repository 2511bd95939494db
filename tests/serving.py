"""scripts/serve run for real, and a browser to drive it over HTTP: what the tests of the
served app (tests/test_serve.py, tests/test_two_servers.py) and the load benchmark
(benchmarks/load.py) share. Plain functions and classes, no pytest: the benchmark is a script.

The browser plays a person's browser behind the load balancer of one site: every server
it talks to answers for the same host (SITE_HOST), as the servers behind one balancer do,
and TLS ends at the balancer, which says so in X-Forwarded-Proto and adds the client's
address to X-Forwarded-For (the servers run with TRUSTED_PROXY_COUNT=1).
"""

import html
import os
import re
import signal
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from tests.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent
# Three manage.py commands (check, migrate, collectstatic with its compression) and
# gunicorn's start, on a CI machine that may be busy.
START_TIMEOUT_SECONDS = 60
# Where the suite's own settings come through the environment (tests/settings.py), or
# where an operator's shell could change what scripts/serve does by default.
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DATABASE_CONN_MAX_AGE", "SECURE_SSL_REDIRECT",
    "EMAIL_BACKEND", "BIND", "PORT", "WEB_CONCURRENCY", "GUNICORN_WORKERS", "GUNICORN_THREADS",
}
# The one site that every server behind the balancer answers for (tests.test_settings).
SITE_HOST = urlsplit(PRODUCTION_ENV["SITE_URL"]).hostname
# No proxy from the environment for 127.0.0.1.
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def serve_env(*, without: tuple[str, ...] = (), **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env |= PRODUCTION_ENV | overrides
    return {key: value for key, value in env.items() if key not in without}


def site_env(*, sms_dir: Path, smtp_port: int, **overrides: str) -> dict[str, str]:
    """The environment of an app server behind the balancer: the site's host name and
    127.0.0.1 (the balancer's health probes come to the server's own address), the
    client's address and the scheme from the balancer, texts into files and emails to
    the SMTP server on `smtp_port` (check --deploy refuses the file and memory backends)."""
    return serve_env(
        ALLOWED_HOSTS=f"{SITE_HOST},127.0.0.1",
        TRUSTED_PROXY_COUNT="1",
        SMS_BACKEND="filebased",
        SMS_FILE_PATH=str(sms_dir),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        **overrides,
    )


class _SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's SMTP backend: every message is accepted and kept."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 127.0.0.1 ESMTP")
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip().upper()
            if command.startswith("DATA"):
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                message = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.messages.append(message.decode("utf-8", "replace"))
                self.reply("250 OK")
            elif command.startswith("QUIT"):
                self.reply("221 Bye")
                return
            else:  # EHLO, MAIL FROM, RCPT TO, RSET, NOOP
                self.reply("250 OK")


@contextmanager
def smtp_sink() -> Iterator[socketserver.ThreadingTCPServer]:
    """An SMTP server on a free port of 127.0.0.1; `.messages` holds what it received."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSession) as server:
        server.daemon_threads = True
        server.messages = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()


def status_of(url: str) -> int:
    try:
        with http.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(db: dict, *, application_name: str = "") -> str:
    """The postgres:// URL of Django's database settings `db`, as scripts/serve takes it;
    its connections carry `application_name`, to be found in pg_stat_activity."""
    credentials = quote(db["USER"]) + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    query = f"?application_name={quote(application_name)}" if application_name else ""
    return (
        f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{quote(db['NAME'])}{query}"
    )


@dataclass
class Server:
    base: str  # http://127.0.0.1:<port>
    pid: int  # gunicorn's master: scripts/serve becomes it (exec)
    log_path: Path


@contextmanager
def working(env: dict[str, str], log_path: Path) -> Iterator[None]:
    """The email worker (django-tasks-db's db_worker) beside the servers, as production runs
    it: emails leave after the response, from the tasks the servers store."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [ROOT / ".venv" / "bin" / "python", "manage.py", "db_worker", "--interval", "0.2",
             "--no-startup-delay", "--no-reload"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def serving(
    env: dict[str, str], log_path: Path, *, timeout: float = START_TIMEOUT_SECONDS
) -> Iterator[Server]:
    """scripts/serve on a free port of 127.0.0.1, once /healthz answers (within `timeout`
    seconds); stopped on exit."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [ROOT / "scripts" / "serve"], cwd=ROOT, env=env | {"PORT": str(port)}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(base=f"http://127.0.0.1:{port}", pid=process.pid, log_path=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"scripts/serve stopped ({process.returncode}):\n{log_path.read_text()}"
                )
            try:
                if status_of(f"{server.base}/healthz") == 200:
                    break
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"/healthz did not answer within {timeout} s:\n"
                    + log_path.read_text()
                )
            time.sleep(0.25)
        yield server
    finally:
        # The whole process group: scripts/serve, or gunicorn, which it becomes, and its workers.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class _TlsAtTheBalancer(DefaultCookiePolicy):
    """Sends the Secure (__Host-) cookies over the plain HTTP between balancer and server:
    the browser's side of that hop is HTTPS."""

    def return_ok_secure(self, cookie, request):
        return True


class _EveryResponse(urllib.request.HTTPErrorProcessor):
    """Hands back every response as it is, redirects and errors included."""

    def http_response(self, request, response):
        return response


@dataclass
class Response:
    status_code: int
    headers: Message
    text: str


CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """One person's browser: its cookies, from `ip`, each request to the server given.

    `post` sends the CSRF token of the last page that had a form, as a browser submits
    the form on the page it shows. Redirects are answered, not followed: callers check
    where each step leads. Both servers are at 127.0.0.1, so the cookies of one go to
    the other, as a browser sends them to every server behind the one host name.
    """

    def __init__(self, *, ip: str, timeout: float = 15):
        self.timeout = timeout
        self.cookies = CookieJar(policy=_TlsAtTheBalancer())
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # no proxy from the environment for 127.0.0.1
            urllib.request.HTTPCookieProcessor(self.cookies),
            _EveryResponse,
        )
        self.headers = {
            "Host": SITE_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": ip,
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
        }
        self.csrf_token = ""

    def _open(self, server: Server, path: str, body: bytes | None, headers: dict) -> Response:
        # Always http://127.0.0.1:<port> (Server.base), no other scheme.
        request = urllib.request.Request(server.base + path, body, headers)  # noqa: S310
        with self.opener.open(request, timeout=self.timeout) as answer:
            response = Response(answer.status, answer.headers, answer.read().decode())
        if found := CSRF_TOKEN.search(response.text):
            self.csrf_token = found.group(1)
        return response

    def get(self, server: Server, path: str) -> Response:
        return self._open(server, path, None, self.headers)

    def post(self, server: Server, path: str, data: dict[str, str]) -> Response:
        body = urlencode({"csrfmiddlewaretoken": self.csrf_token, **data}).encode()
        headers = self.headers | {
            "Origin": f"https://{SITE_HOST}", "Referer": f"https://{SITE_HOST}{path}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self._open(server, path, body, headers)

    def close_session(self) -> None:
        """What closing the browser does: the session cookie goes (it has no expiry,
        SESSION_EXPIRE_AT_BROWSER_CLOSE), the remembered-browser cookie stays."""
        self.cookies.clear_session_cookies()


def page(response: Response) -> str:
    """The page as a person reads it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.text)


def location(response: Response) -> str:
    return response.headers.get("Location", "")


SMS_CODE = re.compile(r"code is (\d{6})\.")


class SmsOutbox:
    """The texts that the filebased SMS backend wrote into `directory`, one file each,
    read as they come: `codes(to)` are the codes sent to the number `to`, oldest first.
    Safe to share between threads (the load benchmark's browsers)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._seen: set[str] = set()
        self._codes: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def _read_new(self) -> None:
        if not self.directory.exists():
            return
        for name in sorted(os.listdir(self.directory)):
            if name in self._seen:
                continue
            text = (self.directory / name).read_text(encoding="utf-8")
            if not (found := SMS_CODE.search(text)):
                continue  # still being written, for another browser's request: read it later
            to = text.split("\n", 1)[0].removeprefix("To: ").strip()
            self._codes.setdefault(to, []).append(found.group(1))
            self._seen.add(name)

    def codes(self, to: str) -> list[str]:
        with self._lock:
            self._read_new()
            return list(self._codes.get(to, []))

    def count(self) -> int:
        with self._lock:
            self._read_new()
            return len(self._seen)

    def clear(self) -> None:
        with self._lock:
            for name in self._seen:
                (self.directory / name).unlink()
            self._seen.clear()
            self._codes.clear()
