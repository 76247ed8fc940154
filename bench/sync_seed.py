"""Data the sync benchmark writes straight into the backends' databases, by SQL.

Rows written this way have no outbox events and no sync versions: the data a backend holds
before its sync is switched on (the users a backfill copies), or identical data laid down on
both sides (the refresh tokens whose parity is timed).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql

# The refresh tokens of the monolith's accounts app and of the auth service's users app: the
# same columns (see accounts.models.RefreshToken and users.models.RefreshToken).
MONOLITH_TOKENS = ("accounts_refreshtoken", "accounts_user")
AUTH_TOKENS = ("users_refreshtoken", "users_user")
TOKEN_COLUMNS = ("id", "user_id", "token_hash", "family", "created_at", "expires_at", "used_at")

# Token n (1..count) belongs to the (n mod users)-th user by id, so both databases, holding the
# same users under the same ids (after a clean backfill), get exactly the same rows. Values are
# whole seconds (a payload's timestamps are compared as ISO strings); every third token is spent.
INSERT_TOKENS = """
WITH numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM {users}
), total AS (SELECT count(*) AS users FROM {users})
INSERT INTO {tokens} (id, user_id, token_hash, family, created_at, expires_at, used_at)
SELECT g, numbered.id,
       md5('bench-token-' || g) || md5('bench-hash-' || g),
       md5('bench-family-' || (g / 4))::uuid,
       timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => g),
       timestamptz '2026-01-08 00:00:00+00' + make_interval(secs => g),
       CASE WHEN g %% 3 = 0
            THEN timestamptz '2026-01-02 00:00:00+00' + make_interval(secs => g) END
FROM generate_series(%(first)s, %(last)s) AS g
JOIN numbered ON numbered.n = g %% (SELECT users FROM total)
"""
# Rows created later by the backend itself must not collide with the explicit ids.
MOVE_SEQUENCE = """
SELECT setval(pg_get_serial_sequence(%(table)s, 'id'),
              greatest((SELECT coalesce(max(id), 1) FROM {tokens}),
                       (SELECT last_value FROM {sequence})))
"""
CHUNK = 250_000


def _insert_tokens(database_url: str, tables: tuple[str, str], *, count: int, first: int) -> None:
    tokens, users = tables
    statement = sql.SQL(INSERT_TOKENS).format(
        tokens=sql.Identifier(tokens), users=sql.Identifier(users)
    )
    with psycopg.connect(database_url) as conn:
        for start in range(first, first + count, CHUNK):
            last = min(start + CHUNK, first + count) - 1
            conn.execute(statement, {"first": start, "last": last})
            conn.commit()
        sequence = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", [tokens]).fetchone()[0]
        conn.execute(
            sql.SQL(MOVE_SEQUENCE).format(
                tokens=sql.Identifier(tokens), sequence=sql.SQL(sequence)
            ),
            {"table": tokens},
        )
        conn.commit()
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(tokens)))


def insert_tokens_both(*, monolith_url: str, auth_url: str, count: int, first: int = 1) -> float:
    """Writes the same `count` refresh tokens (ids first..first+count-1) into both databases,
    in parallel; returns the seconds taken."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_insert_tokens, monolith_url, MONOLITH_TOKENS, count=count, first=first),
            pool.submit(_insert_tokens, auth_url, AUTH_TOKENS, count=count, first=first),
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started


def max_token_id(database_url: str, *, auth: bool = False) -> int:
    table = (AUTH_TOKENS if auth else MONOLITH_TOKENS)[0]
    with psycopg.connect(database_url) as conn:
        query = sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table))
        return int(conn.execute(query).fetchone()[0])
