"""gunicorn settings for production: `gunicorn clinic.wsgi` reads this file.

Every value can be overridden with the usual GUNICORN_CMD_ARGS or flags.
"""

import multiprocessing
import os

# Only the TLS proxy on the same machine can reach the app by default. Behind a
# load balancer on another machine, set GUNICORN_BIND (e.g. 10.0.0.5:8000 on
# the private network) and list the balancer in CLINIC_TRUSTED_PROXIES. (A Unix
# socket works too, but then the app sees no peer address to trust, so every
# client shares one address for lockout and rate limits.)
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One sync worker per core, plus one to use the time the others wait for the
# database. The app is CPU-bound: on 2 cores, 3 workers served 34 questionnaires
# a second where 5 (the usual "2 x cores + 1") served 32, spending more CPU on
# switching between them (docs/performance.md).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A request that takes this long is stuck; the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Load Django once in the master; each worker is a fork of it. A new or
# recycled worker then starts in milliseconds instead of spending about a
# second of CPU importing Django again (docs/performance.md). Deploy new code
# with a restart (systemctl restart clinic-web), not a HUP.
preload_app = True
# Recycle workers now and then so a slow leak can never build up (at 250
# requests a second, each of five workers is replaced about every 3 minutes).
max_requests = 10000
max_requests_jitter = 1000
# Access log to stdout, without query strings (they could hold search terms).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'
# gunicorn's logger, collecting only the fields the format above uses: the same
# lines for a tenth of the CPU the stock logger spent on each (clinic/gunicorn_logging.py).
logger_class = "clinic.gunicorn_logging.Logger"
errorlog = "-"
# The TLS proxy in front sets X-Forwarded-Proto. gunicorn believes it (for
# wsgi.url_scheme) from the same proxies as the app does, and from nobody when
# none is listed (clinic/client_ip.py).
forwarded_allow_ips = os.environ.get("CLINIC_TRUSTED_PROXIES", "")
