"""JSON logs with the request id and the trace id (W3C, strangler.service.tracing), for any
backend: LOGGING = json_logging(level)."""


def json_logging(level: str = "INFO") -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "strangler.service.request_id.RequestIdFilter"},
            "trace_id": {"()": "strangler.service.tracing.TraceIdFilter"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": (
                    "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s "
                    "%(trace_id)s %(span_id)s"
                ),
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id", "trace_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
