"""Refusals in gunicorn's acceptor (config/gunicorn_worker.py), over real sockets against a real
gunicorn with gunicorn.conf.py: one process, one thread, one admission slot. While a slow
request holds the slot and the only thread, an extra is refused at once by the acceptor (no
thread could have refused it) with the middleware's own 503, and a door request sent before
it waits and is served when the slot frees."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.gunicorn_worker import read_head

ROOT = Path(__file__).resolve().parent.parent

# gunicorn.conf.py plus a hook that notes each request as a thread starts on it, so the test
# knows when the slow request holds the slot instead of guessing with a sleep.
CONFIG = """
exec(open({conf!r}).read())

def pre_request(worker, req):
    with open({log!r}, "a") as log:
        log.write(req.path + "\\n")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split(" ")[1]), headers, body


def get(path: str, **headers) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def server(tmp_path):
    port = free_port()
    log = tmp_path / "requests.log"
    log.touch()
    config = tmp_path / "gunicorn_test.conf.py"
    config.write_text(CONFIG.format(conf=str(ROOT / "gunicorn.conf.py"), log=str(log)))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEBUG="1",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",  # nothing here reads it
        GUNICORN_THREADS="1",
        ADMISSION_CAPACITY="1",
        ADMISSION_DOOR_WAIT_MS="20000",  # the door request waits out the test's slow request
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            str(config),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def healthy():
        try:
            with connect(port) as sock:
                sock.sendall(get("/healthz"))
                return read_response(sock)[0] == 200
        except OSError:
            return False

    try:
        wait_for(healthy, timeout=60)
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a request of a failed test still open
            process.kill()
            process.wait()


def hold_the_slot(port: int, log: Path) -> socket.socket:
    """A log-in POST whose body never finishes: CSRF reads the body, so the request holds the
    process's one slot (class normal) and its one thread until the test sends the rest."""
    sock = connect(port)
    sock.sendall(
        b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        # A well-formed CSRF cookie, so the check goes on to read the form's token from the body.
        b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\nphone="
    )
    wait_for(lambda: "/login/" in log.read_text())
    time.sleep(0.3)  # from the hook to the gate and the body read: a few lines of Python
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(1)  # still waiting for its body: not answered
    sock.settimeout(10)
    return sock


def release(sock: socket.socket) -> int:
    sock.sendall(b"12345678901234")
    status = read_response(sock)[0]
    sock.close()
    return status


def test_a_refused_extra_is_answered_by_the_acceptor_while_the_door_waits_and_is_served(server):
    port, log = server
    kept = connect(port)  # a kept-alive connection from before the surge
    kept.sendall(get("/healthz"))
    assert read_response(kept)[0] == 200

    slow = hold_the_slot(port, log)
    door = connect(port)
    door.sendall(get("/api/v1/keys"))  # the inspector's public keys: a door request
    time.sleep(0.1)

    # A new connection, its request sent a moment after connecting (parked on the poller).
    page = connect(port)
    time.sleep(0.1)
    started = time.monotonic()
    page.sendall(get("/venue/checkins.csv"))
    status, headers, body = read_response(page)
    assert time.monotonic() - started < 2.0  # the one thread is busy: only the acceptor answers
    assert status == 503
    assert headers["retry-after"] == "30"
    assert "connection" not in headers  # HTTP/1.1: kept for the next request
    assert "no-store" in headers["cache-control"] and "content-security-policy" in headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    text = body.decode()
    assert '<html lang="zh-hans">' in text and "当前访问人数过多，请 30 秒后重试。" in text
    assert 'http-equiv="refresh"' not in text
    # The client's next request on the same connection reaches the acceptor again, and is
    # refused again, at once; one that asks to close is refused and closed.
    page.sendall(get("/venue/checkins.csv"))
    assert read_response(page)[:2] == (503, headers)
    page.sendall(get("/venue/checkins.csv", Connection="close"))
    status, headers, _body = read_response(page)
    assert status == 503 and headers["connection"] == "close"
    assert page.recv(1) == b""  # and closed
    page.close()

    # An API extra on the kept-alive connection: the JSON error, from the acceptor too.
    kept.sendall(get("/api/v1/me/record", Accept="application/json"))
    status, headers, body = read_response(kept)
    assert status == 503 and headers["retry-after"] == "30"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "detail": "当前访问人数过多，请 30 秒后重试。",
        "code": "overloaded",
    }
    kept.close()

    # A small POST extra (an admin form): read whole, refused, closed cleanly.
    form = connect(port)
    form.sendall(
        b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 7\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\nx=1&y=2"
    )
    status, headers, _body = read_response(form)
    assert status == 503 and headers["retry-after"] == "30"
    form.close()

    # The door request was not refused: it waits for the slot, and is served once it frees.
    door.setblocking(False)
    with pytest.raises(BlockingIOError):
        door.recv(1)  # nothing yet
    door.settimeout(10)
    assert release(slow) == 403  # the log-in without a CSRF token, finished
    status, headers, body = read_response(door)
    assert status == 200 and "keys" in json.loads(body)
    door.close()


def test_when_the_process_has_room_the_acceptor_lets_an_extra_through(server):
    port, _log = server
    with connect(port) as sock:
        sock.sendall(get("/admin/login/"))
        status, _headers, _body = read_response(sock)
    assert status == 200


@pytest.mark.parametrize(
    ("data", "head"),
    [
        (
            b"GET /venue/checkins.csv?day=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            ("GET", "/venue/checkins.csv"),
        ),
        (b"GET /admin/%E7%94%A8 HTTP/1.1\r\n\r\n", ("GET", "/admin/用")),
        (b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", ("POST", "/a")),
        (b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nabc", None),  # body not all here
        (b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc", None),
        (b"POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", None),
        (b"POST /a HTTP/1.1\r\nContent-Length: x\r\n\r\n", None),
        (b"GET /a HTTP/1.1\r\nHost: x\r\n", None),  # the head is not all here
        (b"GET http://x/a HTTP/1.1\r\n\r\n", None),  # absolute form: left to gunicorn
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None),
    ],
)
def test_the_acceptor_reads_a_request_head_only_when_all_of_the_request_is_there(data, head):
    assert read_head(data) == (head and (*head, len(data), True))  # the size: all of it
    if head:  # a pipelined request behind it is not part of it
        assert read_head(data + b"GET /next HTTP/1.1\r\n\r\n") == (*head, len(data), True)


@pytest.mark.parametrize(
    ("data", "keep_alive"),
    [
        (b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"GET /a HTTP/1.1\r\nconnection: Keep-Alive, Close\r\n\r\n", False),
        (b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False),  # 1.0: closed
        (b"GET /a HTTP/1.0\r\n\r\n", False),
    ],
)
def test_a_refused_connection_is_kept_only_where_http_1_1_keeps_it(data, keep_alive):
    assert read_head(data).keep_alive is keep_alive
