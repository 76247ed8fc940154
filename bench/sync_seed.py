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

# The refresh tokens and users of the auth domain (accounts.models.RefreshToken and User): the
# same columns in both backends, in tables named after the app that holds them there.
TABLES = """
SELECT tokens.table_name, users.table_name
FROM information_schema.tables AS tokens
JOIN information_schema.tables AS users
  ON users.table_schema = tokens.table_schema
 AND users.table_name = left(tokens.table_name, -length('refreshtoken')) || 'user'
WHERE tokens.table_schema = current_schema() AND tokens.table_name LIKE '%\\_refreshtoken'
"""

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
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
JOIN numbered ON numbered.n = g %% (SELECT users FROM total)
"""
# Rows created later by the backend itself must not collide with the explicit ids.
MOVE_SEQUENCE = """
SELECT setval(pg_get_serial_sequence(%(table)s, 'id'),
              greatest((SELECT coalesce(max(id), 1) FROM {tokens}),
                       (SELECT last_value FROM {sequence})))
"""
CHUNK = 250_000


def token_tables(conn: psycopg.Connection) -> tuple[str, str]:
    """(refresh token table, user table) of a backend's database."""
    found = conn.execute(TABLES).fetchall()
    if len(found) != 1:
        raise RuntimeError(f"expected one *_refreshtoken table with its *_user table: {found}")
    return found[0]


def _insert_tokens(database_url: str, *, count: int, first: int) -> None:
    with psycopg.connect(database_url) as conn:
        tokens, users = token_tables(conn)
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
            pool.submit(_insert_tokens, url, count=count, first=first)
            for url in (monolith_url, auth_url)
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started
