"""gunicorn settings shared by every backend; the bind address comes from the command line."""

import multiprocessing
import os

worker_class = "gthread"
# Threaded workers keep client connections alive, so the proxy's upstream keep-alive is used.
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
keepalive = 30
timeout = 30
graceful_timeout = 20
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
