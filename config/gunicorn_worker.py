"""gunicorn's gthread worker with a queue stamp (gunicorn.conf.py names it).

gthread accepts connections in its main thread and hands each readable request to a thread
pool; with every thread busy, requests wait in the pool's queue, where Django cannot see them.
This worker notes when each request was queued and, in the thread that then handles it, tells
config.admission how long it waited, so a request that already waited past its budget is
refused at once instead of waiting twice (or being served to a client that gave up).
"""

import time

from gunicorn.workers.gthread import ThreadWorker

from config import admission


class QueueStampThreadWorker(ThreadWorker):
    def enqueue_req(self, conn):
        # Called for a new connection and for each keep-alive request on an old one.
        conn.admission_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        queued_at = getattr(conn, "admission_queued_at", None)
        admission.set_queued(time.monotonic() - queued_at if queued_at is not None else 0.0)
        try:
            return super().handle(conn)
        finally:
            admission.set_queued(0.0)
