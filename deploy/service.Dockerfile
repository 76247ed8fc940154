# The image of an extracted service (extracted/<SERVICE>): every service is built from this one
# file, since they differ only by name. The build context is the repository root, because the
# image installs the project from pyproject.toml (which pins the dependencies and packages the
# strangler library and the shared domain apps in domains/); of the rest it copies only the
# service's folder, the plan and the shared gunicorn settings:
#   docker build -f deploy/service.Dockerfile --build-arg SERVICE=auth --build-arg PROJECT=authsvc \
#       --build-arg PORT=8001 -t strangler-shop/auth .
# SERVICE is the folder under extracted/ (and the backend's name in the plan), PROJECT its Django
# project package, PORT the port its gunicorn binds (the one of its URL in the plan).
# One image serves five roles (docker-compose.yml): gunicorn (the default CMD), the Celery worker
# (`celery -A <PROJECT> worker --queues <SERVICE>`), one sync consumer per partition, the outbox
# relay (`python manage.py sync_relay`) and the migrate one-shot; and the Celery beat of a service
# that sweeps compensations (`celery -A <PROJECT> beat`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Dependencies are built in a throw-away stage so that pip, wheels and build back-ends never reach
# the runtime image; only the finished virtualenv is copied over.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
COPY strangler/ strangler/
COPY domains/ domains/
RUN /opt/venv/bin/pip install --no-cache-dir . ./domains

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PROJECT
ARG PORT
# The CMD and the healthcheck read the project and the port from these when the container starts:
# exec-form commands get no build-time substitution.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SHOP_ENV=production \
    SHOP_VAR_DIR=/app/var \
    STRANGLER_PLAN=/app/migration-plan/plan.yaml \
    DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1 \
    WEB_CONCURRENCY=3 \
    SERVICE_PROJECT=${PROJECT} \
    SERVICE_PORT=${PORT}
# A fixed numeric uid lets Kubernetes' runAsNonRoot verify the user without reading /etc/passwd.
RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin shop
COPY --from=build /opt/venv /opt/venv
# The service's project (manage.py, <PROJECT>) is the working directory itself, so gunicorn,
# celery -A <PROJECT> and manage.py all run from here without --chdir.
WORKDIR /app
COPY extracted/${SERVICE}/ ./
# The plan declares the backends' URLs (overridden by <NAME>_URL) and the owners per step.
COPY migration-plan/plan.yaml migration-plan/plan.yaml
# gunicorn's settings, the ones `make up` runs with: threaded workers and keep-alive, and the
# requests gunicorn refuses itself answered in the JSON error shape (strangler.service).
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
# A build without the three arguments, or with a SERVICE and a PROJECT that do not match, stops
# here rather than producing an image that cannot start. Static files (the admin's) are collected
# into the image for whitenoise to serve, as in the monolith's image: the development profile
# only lets the settings load without the runtime secrets, which collecting never uses, and the
# in-memory broker keeps it from creating broker folders. Settings create var/ subfolders at run
# time, so var/ must be writable by the app user; the code and the collected files stay
# root-owned and read-only for it. var/run holds the Celery beat's schedule file (a service
# with a beat: orders).
RUN test -n "$PORT" && test -f "$PROJECT/wsgi.py" \
    && SHOP_ENV=development CELERY_BROKER_URL=memory:// \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/run \
    && chown shop:shop /app/var /app/var/run
USER 10001:10001

EXPOSE ${PORT}
# The slim image has no curl; the interpreter is always there. The Host header must be in
# DJANGO_ALLOWED_HOSTS, hence 127.0.0.1 in the default above.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bin/sh", "-c", "exec python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)' \"http://127.0.0.1:$SERVICE_PORT/healthz\""]
# Workers come from WEB_CONCURRENCY (the settings file reads it), timeouts from the settings
# file; logs go to stdout as JSON via settings. exec: gunicorn replaces the shell, so it is pid 1
# and gets the stop signal.
CMD ["/bin/sh", "-c", "exec gunicorn \"$SERVICE_PROJECT.wsgi:application\" --config /app/deploy/gunicorn.conf.py --bind \"0.0.0.0:$SERVICE_PORT\" --access-logfile -"]
