"""HTTP/1.1 front end of the simulator: sockets, keep-alive, delays and dropped connections.

``start_server()`` runs a simulator in a background thread and is what ``make run``, the
pytest plugin and the dashboard's own tests use. Everything that decides an answer lives
in ``simulator.core``; this module only moves bytes. The 360 push server (plain TCP, its
own port) lives in ``simulator.qihoo360_pushserver`` and is started alongside.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from simulator.core import Simulator, load_vendor_classes
from simulator.interface import SimRequest, SimResponse
from simulator.qihoo360_pushserver import PushServer

log = logging.getLogger("simulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8900
DEFAULT_PUSH_PORT = 18443
MAX_BODY = 16 * 1024 * 1024
QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class SimHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "sim-cloud/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections free their thread eventually
    # Headers and body leave in one write: with separate small writes, Nagle's algorithm
    # and the client's delayed ACK add ~40 ms to every keep-alive request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        sim: Simulator = self.server.sim  # type: ignore[attr-defined]
        req = self._sim_request()
        if req is None:
            return
        outcome = sim.dispatch(req)
        if outcome.finish is not None:
            outcome = outcome.wait_and_finish()
        if outcome.drop or outcome.response is None:
            # Close the socket without a byte of response (fault action "drop").
            self.close_connection = True
            return
        self._send(outcome.response)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def _sim_request(self) -> SimRequest | None:
        url = urlsplit(self.path)
        parsed = parse_qs(url.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = self._read_body(headers)
        except ValueError as exc:
            self._send(SimResponse(status=400, body={"error": str(exc)}))
            self.close_connection = True
            return None
        return SimRequest(
            method=self.command.upper(),
            path=unquote(url.path) or "/",
            query={key: values[0] for key, values in parsed.items()},
            headers=headers,
            body=body,
        )

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = int(headers.get("content-length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise ValueError("body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: SimResponse) -> None:
        body = response.encoded()
        content_type = response.content_type
        if content_type == "application/json":
            content_type = "application/json; charset=utf-8"
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except QUIET_ERRORS:
            # The client gave up (e.g. its timeout was shorter than a delay fault).
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
        log.debug("%s - %s", self.address_string(), format % args)


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, SimHandler)
        self.sim: Simulator | None = None
        self.push: PushServer | None = None  # the 360 TCP push server, when served

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], QUIET_ERRORS):
            return
        super().handle_error(request, client_address)


class ServerHandle:
    """A running simulator: ``url`` is its origin, ``stop()`` shuts it down."""

    def __init__(self, server: SimHTTPServer, sim: Simulator, thread: threading.Thread | None):
        self.server = server
        self.sim = sim
        self._thread = thread

    @property
    def host(self) -> str:
        return origin_host(self.server.server_address[0])

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def push_port(self) -> int:
        """The bound port of the 360 push server (``QIHOO360_PUSH_ADDR``)."""
        return self.sim.push_port

    @property
    def push_addr(self) -> str:
        return f"{self.host}:{self.push_port}"

    def env(self) -> dict[str, str]:
        """The product's base-URL variables (cloud-apis.md 2), all pointing here."""
        return base_url_env(self.url, self.sim.push_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.server.push is not None:
            self.server.push.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def origin_host(bound: str) -> str:
    if bound in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{bound}]" if ":" in bound else bound


def base_url_env(url: str, push_port: int) -> dict[str, str]:
    host = urlsplit(url).hostname or "127.0.0.1"
    return {
        "QIHOO360_API_URL": url,
        "QIHOO360_CONFIG_URL": url,
        "QIHOO360_PUSH_ADDR": f"{host}:{push_port}",
        "MAMMOTION_USER_URL": url,
        "MAMMOTION_AUTH_URL": url,
        "MAMMOTION_OPEN_API_URL": url,
    }


def build_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    seed: int = 1,
    speed: float = 1.0,
    *,
    start: float | None = None,
    push_port: int | None = DEFAULT_PUSH_PORT,
    push_optional: bool = False,
    vendors: Iterable[str] | None = None,
    vendor_classes: Iterable[type] | None = None,
    extra_360_accounts: int = 0,
    runs_per_device: int | None = None,
) -> tuple[SimHTTPServer, Simulator]:
    """Bind the sockets (port 0 = any free port) and build the simulator behind them.

    With the 360 model loaded and ``push_port`` not None, the push server's socket is
    bound too (``server.push``, not started yet; ``sim.push_port`` is its real port).
    ``push_optional``: a push port in use only logs a warning (the CLI)."""
    server = SimHTTPServer((host, port))
    if vendor_classes is None:
        vendor_classes = load_vendor_classes(vendors)
    options = {}
    if extra_360_accounts:
        options["qihoo360"] = {"extra_accounts": extra_360_accounts}
        if runs_per_device:
            options["qihoo360"]["runs_per_device"] = runs_per_device
    sim = Simulator(
        seed=seed,
        speed=speed,
        start=start,
        origin=lambda: f"http://{origin_host(host)}:{server.server_address[1]}",
        vendor_classes=vendor_classes,
        vendor_options=options,
        push_port=push_port or 0,
    )
    server.sim = sim
    if push_port is not None and sim.vendor_named("qihoo360") is not None:
        try:
            server.push = PushServer(sim, host, push_port)
        except OSError as exc:
            if not push_optional:
                server.server_close()
                raise
            log.warning("simulator: 360 push server not started (port %s: %s)", push_port, exc)
        else:
            sim.push_port = server.push.port
    return server, sim


def start_server(
    host: str = DEFAULT_HOST, port: int = 0, seed: int = 1, speed: float = 1.0, **options
) -> ServerHandle:
    """Start a simulator in a background thread; see ``build_server`` for ``options``.
    The push server listens on any free port unless ``push_port`` says otherwise
    (``handle.push_port``; ``push_port=None``: no push server)."""
    options.setdefault("push_port", 0)
    server, sim = build_server(host, port, seed, speed, **options)
    if server.push is not None:
        server.push.start()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.name = f"simulator-{server.server_address[1]}"
    thread.start()
    return ServerHandle(server, sim, thread)
