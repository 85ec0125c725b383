"""gunicorn settings for the web service (Dockerfile CMD and docker-compose.yml name this file).

The access log names the path without its query string (%(U)s, not %(r)s or %(q)s) and leaves
out the Referer (%(f)s), which carries another page's full URL: a query may hold an ID number,
and full ID numbers must never reach a log. tests/test_settings_and_deploy.py runs it.

Workers are gthread (config.gunicorn_worker): the acceptor (each process's main thread) refuses
a request whose class has no room before any thread reads it, and stamps how long the rest
wait for a thread; config.admission then serves the door first (README "Under a surge").

Threads: a thread waiting in an admission line sleeps on a lock and costs no CPU, but every
thread that served a request keeps its PostgreSQL connection open (CONN_MAX_AGE, 60 s): a node
holds up to WEB_CONCURRENCY x GUNICORN_THREADS connections from the web service alone (4 x 12 =
48 by default, beside the Celery workers'), against PostgreSQL's max_connections (100 unless
raised). So threads are no more than the slots plus the code and door lines (4 + 6 + 2): those
requests wait in the gate, in priority order; the few ordinary requests, uploads and extras
let through beyond that wait for a thread in gunicorn's queue, where the acceptor still counts
them (Gate.screen). More threads would not refuse faster (the acceptor does that) and would
only add connections and threads contending for the GIL with the acceptor.
"""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "config.gunicorn_worker.QueueStampThreadWorker"
# ADMISSION_CAPACITY plus the code and door lines (config/settings.py); see above.
threads = int(os.environ.get("GUNICORN_THREADS", "12"))
# Connections beyond this per worker wait in the listen backlog; kept small enough that the
# line stays inside the process (threads) and the kernel's (backlog), not in gunicorn's poller.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "200"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
