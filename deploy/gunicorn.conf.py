"""gunicorn settings shared by every backend; the bind address comes from the command line,
or from GUNICORN_BIND and GUNICORN_INSTANCE for one of a backend's instances."""

import multiprocessing
import os

from strangler.plan import instance_address
from strangler.service import gunicorn_errors

# One of the instances of a backend (supervisor's numprocs, deploy/supervisor/programs/):
# GUNICORN_BIND is the backend's own address and GUNICORN_INSTANCE the instance's number from 0,
# so it listens where the plan puts that instance (strangler.plan.instances).
if os.environ.get("GUNICORN_BIND"):
    bind = [
        instance_address(os.environ["GUNICORN_BIND"], int(os.environ.get("GUNICORN_INSTANCE", 0)))
    ]

worker_class = "gthread"
# Threaded workers keep client connections alive, so the proxy's upstream keep-alive is used.
# GUNICORN_WORKERS, else WEB_CONCURRENCY: gunicorn's own variable, which a settings file would
# otherwise override (the images and docker-compose.yml set it).
workers = int(
    os.environ.get("GUNICORN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or min(4, multiprocessing.cpu_count() + 1)
)
# Threads are cheap while they wait, and writes wait (a thread each) while a flip hands a domain
# over: enough of them that the handover's own calls always find a free one.
threads = int(os.environ.get("GUNICORN_THREADS", 16))
keepalive = 30
timeout = 30
graceful_timeout = 20
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Requests gunicorn refuses itself (a header over limit_request_field_size: 431, a request line
# too long: 414, ...) are answered in the backends' JSON error shape, not as an HTML page.
gunicorn_errors.install()
