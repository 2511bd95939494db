"""A small real HTTP server that answers like Twilio's Messages endpoint, for tests.

    with TwilioStandin() as twilio:
        settings.TWILIO_API_BASE_URL = twilio.base_url
        ...send...
        twilio.requests[0].fields["Body"]

It listens on 127.0.0.1 on a free port and records every request. By default it
accepts the message (201 and a message SID); `fail_with(21211)`, `fail_with_status(500)`
and `hang()` make the following requests fail, the way Twilio would, and `trickle()` makes
it accept them with an answer sent a byte at a time, as a browned-out Twilio does.
"""

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    account_sid: str  # from the path
    fields: dict[str, str]  # the form: To, From, Body, ...
    auth: tuple[str, str] | None  # HTTP Basic (username, password)
    headers: dict[str, str] = field(repr=False)


class TwilioStandin:
    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self._answer = ("created", None)
        # Set on stop, so that a request told to hang gives up and the server can close.
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # What the next requests get --------------------------------------------------
    def fail_with(self, code: int, status: int = 400, message: str = "Twilio says no"):
        """Answer with a Twilio error (the JSON of https://www.twilio.com/docs/api/errors)."""
        self._answer = ("error", (status, code, message))

    def fail_with_status(self, status: int):
        """Answer with a bare HTTP error and a non-JSON body, like a failing proxy."""
        self._answer = ("status", status)

    def hang(self, seconds: float = 10):
        """Answer only after `seconds` (or when the server stops): past any sane timeout."""
        self._answer = ("hang", seconds)

    def trickle(self, every: float = 0.1):
        """Accept, but send the answer (status line, headers and all) one byte every `every`
        seconds: each read gets a byte long before any per-read timeout."""
        self._answer = ("trickle", every)

    def accept(self):
        self._answer = ("created", None)

    # Running ----------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                match = MESSAGES_PATH.match(self.path)
                standin.requests.append(
                    RecordedRequest(
                        method="POST",
                        path=self.path,
                        account_sid=match["sid"] if match else "",
                        fields={key: values[-1] for key, values in form.items()},
                        auth=_basic_auth(self.headers.get("Authorization", "")),
                        headers=dict(self.headers),
                    )
                )
                if not match:
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                kind, detail = standin._answer
                if kind == "trickle":
                    return self._trickle(detail, self._created(match["sid"]))
                if kind == "hang":
                    standin._stopping.wait(detail)
                    return self._reply(503, b"gave up", "text/plain")
                if kind == "status":
                    return self._reply(detail, b"<html>Internal error</html>", "text/html")
                if kind == "error":
                    status, code, message = detail
                    return self._json(
                        status,
                        {
                            "code": code,
                            "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status,
                        },
                    )
                return self._json(201, self._created(match["sid"]))

            def _created(self, account_sid):
                fields = standin.requests[-1].fields
                return {
                    "sid": "SM" + secrets.token_hex(16),
                    "account_sid": account_sid,
                    "to": fields.get("To"),
                    "from": fields.get("From"),
                    "body": fields.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                }

            def _trickle(self, every, payload):
                body = json.dumps(payload).encode()
                answer = (
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                self.close_connection = True
                try:
                    for byte in answer:
                        if standin._stopping.wait(every):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    pass  # The client gave up: nobody left to answer.

            def _json(self, status, payload):
                self._reply(status, json.dumps(payload).encode(), "application/json")

            def _reply(self, status, body, content_type):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # The client gave up (timeout test): nobody left to answer.

            def log_message(self, format, *args):
                pass  # Keep test output quiet.

        return Handler


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    username, _, password = base64.b64decode(encoded).decode().partition(":")
    return username, password
