import signal
import time

from django.core.management.base import BaseCommand
from django.db import connections
from kombu.exceptions import OperationalError as BrokerError

from strangler.service.errors import DatabaseUnreachable
from strangler.sync.relay import relay_batch

# How long the relay waits before it tries again a broker or a database it could not reach.
RETRY_PAUSE_SECONDS = 1.0


class Command(BaseCommand):
    help = "Publishes outbox events to their subscribers, continuously (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is there and exit")
        parser.add_argument("--interval", type=float, default=0.05, help="idle poll, seconds")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, once: bool, interval: float, batch: int, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        unreachable = None  # "broker" or "database" while one of them cannot be reached
        relayed, reported_at = 0, time.monotonic()
        while not stopping:
            # The rows stay unsent while either is away: wait it out, never exit, since a
            # process manager gives up restarting a program that keeps failing at start.
            try:
                sent = relay_batch(limit=batch)
            except BrokerError as exc:
                unreachable = self._wait("broker", exc, unreachable)
                continue
            except DatabaseUnreachable as exc:
                # A broken connection is never reused: the next attempt opens a new one.
                connections.close_all()
                unreachable = self._wait("database", exc, unreachable)
                continue
            if unreachable is not None:
                self.stdout.write(f"{unreachable} reachable again, draining the outbox")
                unreachable = None
            relayed += sent
            if relayed and (once or time.monotonic() - reported_at >= 10):
                self.stdout.write(f"relayed {relayed} events")
                relayed, reported_at = 0, time.monotonic()
            if sent == batch:
                continue  # a backlog: publish the next batch at once
            if once:
                return
            # A pause after a partial batch lets the next one gather more events: one message
            # (and one consumer transaction) per partition carries many events.
            time.sleep(interval)

    def _wait(self, what: str, exc: Exception, unreachable: str | None) -> str:
        """Says once that `what` is unreachable, pauses instead of spinning, returns `what`."""
        if unreachable != what:
            self.stderr.write(f"{what} unreachable, outbox rows wait: {exc}")
        time.sleep(RETRY_PAUSE_SECONDS)
        return what
