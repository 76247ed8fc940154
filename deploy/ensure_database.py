"""Creates the PostgreSQL database a URL names when it is missing; SQLite URLs need nothing."""

import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        return
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


if __name__ == "__main__":
    for database_url in sys.argv[1:]:
        if database_url:
            ensure_database(database_url)
