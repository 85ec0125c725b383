"""gunicorn's gthread worker with a queue stamp and refusals in its acceptor (gunicorn.conf.py
names it).

gthread accepts connections in its main thread (the acceptor) and hands each readable request
to a thread pool; with every thread busy, requests wait in the pool's queue, where Django
cannot see them. This worker:

- notes when each request was queued and, in the thread that then handles it, tells
  config.admission how long it waited, so a request that already waited past its budget is
  refused at once instead of waiting twice (or being served to a client that gave up);
- refuses in the acceptor, before the request is queued, one that would find neither a slot
  nor a place in line (``Gate.screen``): it peeks at the request's first bytes without
  consuming them (the request line and headers, ``MSG_PEEK``), classes the path, and if the
  class has no room it reads exactly the request it peeked, writes the middleware's own 503
  (``admission.raw_refusal``: Retry-After, the Chinese page or the JSON error) and, for an
  HTTP/1.1 request that did not ask to close, keeps the connection for the next request (a
  client retrying after Retry-After need not wait for a new connection); else closes. No
  thread, no Django request, no session, no database. Under a surge a refused request then
  waits only for the acceptor, not for a pool thread behind every busy one.

Only a request whose head and body are all in the peeked bytes is screened (no chunked body,
no ``Expect``, no TLS in gunicorn, head and body under PEEK_BYTES): the rest go on to the
middleware, the second line, as before. A new connection with nothing sent yet waits on the
acceptor's poller (gunicorn's own pending list), not in a pool thread.
"""

import selectors
import socket
import time
from functools import partial
from typing import NamedTuple
from urllib.parse import unquote

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

from config import admission

# The most the acceptor peeks at: a request line and headers (gunicorn's limits: 4 KiB line,
# 8 KiB per header field) of every ordinary request, and a small form's body.
PEEK_BYTES = 16384


class Head(NamedTuple):
    method: str
    path: str  # percent-decoded like Django's path_info
    size: int  # head and body
    keep_alive: bool  # HTTP/1.1 and no ``Connection: close``: the connection may stay open


def read_head(data: bytes) -> Head | None:
    """The HTTP/1.x request at the start of ``data`` if all of it (head and body) is there and
    has a plain Content-Length body, else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        return None
    length = 0
    keep_alive = parts[2] == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name in ("transfer-encoding", "expect", "upgrade"):
            return None
        if name == "connection" and "close" in value.lower():
            keep_alive = False
        if name == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
            if length < 0:
                return None
    size = end + 4 + length
    if size > len(data):
        return None
    path = unquote(parts[1].split("?", 1)[0], errors="replace")
    return Head(parts[0], path, size, keep_alive)


class QueueStampThreadWorker(ThreadWorker):
    def run(self):
        if admission.screening():
            try:
                admission.warm()
            except Exception:  # the refusals are built on first use instead
                self.log.exception("admission: could not build the refusals in advance")
        super().run()

    def enqueue_req(self, conn):
        # Called for a new connection and for each keep-alive request on an old one.
        conn.admission_queued_at = time.monotonic()
        conn.admission_ticket = None
        if self._screen(conn):
            return
        super().enqueue_req(conn)

    def _screen(self, conn) -> bool:
        """Refuse the request in the acceptor if its class has no room (True: the acceptor
        dealt with the connection, refused or parked it)."""
        if self.cfg.is_ssl or conn.is_http2 or not admission.screening():
            return False
        if conn.parser is not None and conn.parser.unreader.buf.getvalue():
            return False  # a request read ahead into gunicorn's buffer: not on the socket
        try:
            data = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            if conn.initialized or conn.data_ready:
                return False
            self._park(conn)
            return True
        except OSError:
            return False
        if not data:
            return False  # the client closed; the thread finds out as before
        conn.data_ready = True  # the thread need not wait for data again
        head = read_head(data)
        if head is None:
            return False
        klass = admission.classify(head.path)
        if klass == admission.EXEMPT:
            return False
        gate = admission.current_gate()
        if gate.screen(klass):
            conn.admission_ticket = (gate, klass)
            return False
        self._refuse(conn, head, klass)
        return True

    def _refuse(self, conn, head: Head, klass: str) -> None:
        """Read the request, write its 503, and keep the connection for the client's next
        request where HTTP/1.1 lets it (a closed one would make the client's retry wait for a
        new connection, behind every other in the listen backlog); else close it."""
        keep = head.keep_alive and self.alive and self.cfg.keepalive > 0
        refusal = admission.raw_refusal(head.method, head.path, klass, keep_alive=keep)
        try:
            conn.sock.recv(head.size, socket.MSG_DONTWAIT)  # exactly the request peeked
            sent = conn.sock.send(refusal, socket.MSG_DONTWAIT)
        except OSError:
            sent = 0  # the client is gone, or its window full: closed either way
        if keep and sent == len(refusal):
            # As gunicorn keeps a connection after a keep-alive response (finish_request).
            conn.sock.setblocking(False)
            conn.set_timeout()
            self.keepalived_conns.append(conn)
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )
            return
        self.nr_conns -= 1
        conn.close()

    def _park(self, conn):
        # A new connection with nothing sent yet waits on the poller, as gunicorn does with one
        # that sent nothing for DEFAULT_WORKER_DATA_TIMEOUT; readable, it comes back here.
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def handle(self, conn):
        ticket = getattr(conn, "admission_ticket", None)
        if ticket is not None:
            conn.admission_ticket = None
            gate, klass = ticket
            gate.arrived(klass)
        queued_at = getattr(conn, "admission_queued_at", None)
        admission.set_queued(time.monotonic() - queued_at if queued_at is not None else 0.0)
        try:
            return super().handle(conn)
        finally:
            admission.set_queued(0.0)
