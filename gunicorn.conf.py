"""gunicorn settings for the web service (Dockerfile CMD and docker-compose.yml name this file).

The access log names the path without its query string (%(U)s, not %(r)s or %(q)s) and leaves
out the Referer (%(f)s), which carries another page's full URL: a query may hold an ID number,
and full ID numbers must never reach a log. tests/test_settings_and_deploy.py runs it.

Workers are gthread (config.gunicorn_worker stamps how long each request queued) with more
threads than ADMISSION_CAPACITY, so under a surge waiting requests reach config.admission,
which serves the door first and refuses the rest fast (README "Under a surge"). A thread
waiting in line holds no database connection and no CPU.
"""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "config.gunicorn_worker.QueueStampThreadWorker"
# More than ADMISSION_CAPACITY plus every admission line (config/settings.py), so a thread is
# always free to refuse a request at once.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Connections beyond this per worker wait in the listen backlog; kept small enough that the
# line stays inside the process (threads) and the kernel's (backlog), not in gunicorn's poller.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "200"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
