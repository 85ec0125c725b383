"""gunicorn settings for the web service (Dockerfile CMD and docker-compose.yml name this file).

The access log names the path without its query string (%(U)s, not %(r)s or %(q)s) and leaves
out the Referer (%(f)s), which carries another page's full URL: a query may hold an ID number,
and full ID numbers must never reach a log. tests/test_settings_and_deploy.py runs it.
"""

bind = "0.0.0.0:8000"
workers = 4
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
