import signal
import time

from django.core.management.base import BaseCommand
from kombu.exceptions import OperationalError as BrokerError

from strangler.sync.relay import relay_batch


class Command(BaseCommand):
    help = "Publishes outbox events to their subscribers, continuously (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is there and exit")
        parser.add_argument("--interval", type=float, default=0.05, help="idle poll, seconds")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, once: bool, interval: float, batch: int, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        broker_down_since = None
        relayed, reported_at = 0, time.monotonic()
        while not stopping:
            try:
                sent = relay_batch(limit=batch)
            except BrokerError as exc:
                # The rows stay unsent; retry with a pause instead of spinning on a dead broker.
                if broker_down_since is None:
                    broker_down_since = time.monotonic()
                    self.stderr.write(f"broker unreachable, outbox rows wait: {exc}")
                time.sleep(1.0)
                continue
            if broker_down_since is not None:
                self.stdout.write("broker reachable again, draining the outbox")
                broker_down_since = None
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
