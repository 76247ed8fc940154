"""Keeping a domain's data in step between its write owner and the backends holding copies.

- registry: which models are synced, under which aggregate name and domain, with which fields;
- outbox: the owner records each change in the same transaction as the change itself;
- relay: publishes recorded changes through Celery to every subscriber's queue, at least once;
- consumer: applies a change idempotently (inbox dedupe, stale versions ignored, no re-emit);
- ownership: which backend owns a domain's writes, and the handover between two owners;
- backfill and parity: bulk copy keeping ids, then compare per-range checksums.
"""
