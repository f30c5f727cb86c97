"""A client always gets an answer, never a connection reset (issue [Performance] 6).

A real uvicorn server, configured as the gateway runs it (``gateway.network.server_config``),
and raw sockets, so that the timing of what the client sends is ours.

The cause found: uvicorn closed idle keep-alive connections after 5 s, exactly the time
httpx keeps one in its pool, so a request sent on a connection at that moment was reset
(``httpx.ReadError``). The early refusal (503 before the body is read) was suspected too;
the first test shows the server still answers it while the body arrives late.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from gateway.backpressure import InFlightLimit, IntakeAdmission
from gateway.network import server_config
from yiwang.config import Settings


async def accept_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[int]:
    port = free_port()
    settings = Settings(gateway_port=port, gateway_host="127.0.0.1")
    app = IntakeAdmission(accept_app, InFlightLimit(0))  # every report refused: at capacity
    srv = uvicorn.Server(server_config(app, settings))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(10)


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and a Content-Length body); what arrived if cut short."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def test_refusal_while_the_body_is_still_coming_is_answered_not_reset(server: int) -> None:
    body = b'{"description":"' + b"x" * 40_000 + b'"}'
    head = (
        b"POST /api/v1/reports HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    for _ in range(5):  # the race is timing: every attempt must be answered
        with socket.create_connection(("127.0.0.1", server)) as sock:
            sock.sendall(head)
            time.sleep(0.15)  # the server has decided by now; the body follows late
            for i in range(0, len(body), 4096):
                sock.sendall(body[i : i + 4096])
            answer = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"retry-after: 2" in answer.lower()


def test_idle_keep_alive_connection_outlives_a_client_pool(server: int) -> None:
    """httpx keeps an idle connection 5 s; the server must keep it longer, or a request sent
    on it just as the server closes it is reset."""
    req = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(req)
        assert read_response(sock).startswith(b"HTTP/1.1 202")
        time.sleep(5.5)
        sock.sendall(req)
        second = read_response(sock)
        assert second.startswith(b"HTTP/1.1 202"), second
