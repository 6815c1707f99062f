"""PostgreSQL for the tests: SQLAlchemyStores on a test server, each on a tenant of its own.

The server is the database at ``$CUSTBOND_TEST_POSTGRES_URL`` (by default the one
``.ci/run`` sets up: ``postgresql+psycopg://custbond:custbond@127.0.0.1:5432/custbond_test``).
Every store made here opens a new tenant, so tests need no cleanup, never see each
other's rows, and exercise tenancy as they go. When no server answers, a test that asks
for one is skipped with a message that says how to run it; with
``CUSTBOND_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets) it fails instead.

For tests/stores.py: ``pytest.param(make_store, id="postgres", marks=pytest.mark.postgres)``;
for a worker process that opens its own store: ``postgres_url()``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import sqlalchemy

    from custbond.storage.sqlalchemy import SQLAlchemyStore

URL_VARIABLE = "CUSTBOND_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "CUSTBOND_REQUIRE_POSTGRES"
DEFAULT_URL = "postgresql+psycopg://custbond:custbond@127.0.0.1:5432/custbond_test"
# Seconds to wait for the server to answer, unless the URL says (?connect_timeout=...).
CONNECT_TIMEOUT = 3


def url() -> str:
    """The test server's URL, password and all."""
    return os.environ.get(URL_VARIABLE) or DEFAULT_URL


def unavailable(why: str) -> NoReturn:
    """Skip the test (or fail it, when a server is required) for want of a server."""
    message = (
        f"no PostgreSQL server for the SQLAlchemyStore tests: {why}. To run them, set"
        f" {URL_VARIABLE} to the URL of a database they may create tables in (default"
        f" {DEFAULT_URL}), or run .ci/run, which sets one up"
    )
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1 requires it)", pytrace=False)
    pytest.skip(message)


def _connect_args(parsed: sqlalchemy.URL, **more: Any) -> dict[str, Any]:
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    return {**timeout, **more}


@functools.cache
def _engine() -> sqlalchemy.Engine | str:
    """One engine for the whole run (stores made from it share its pool), or why not."""
    try:
        import sqlalchemy  # noqa: PLC0415 - the extra may be missing: then the tests skip
    except ImportError:
        return "SQLAlchemy is not installed (pip install 'custbond[postgres]')"
    try:
        parsed = sqlalchemy.make_url(url())
        engine = sqlalchemy.create_engine(parsed, connect_args=_connect_args(parsed))
    except (sqlalchemy.exc.ArgumentError, ImportError, ValueError) as error:
        return f"{URL_VARIABLE}={url()!r} is not a URL SQLAlchemy can use ({error})"
    shown = parsed.render_as_string(hide_password=True)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0]
        return f"{shown} cannot be reached ({reason})"
    return engine


def engine() -> sqlalchemy.Engine:
    """The test server's engine; skips (or fails) the test when there is none."""
    found = _engine()
    if isinstance(found, str):
        unavailable(found)
    return found


def postgres_url() -> str:
    """The test server's URL (password and all), for a store another process opens;
    skips (or fails) the test when no server answers there."""
    engine()
    return url()


def fresh_tenant() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


def make_store(*, tenant: str | None = None) -> SQLAlchemyStore:
    """A store on the test server for ``tenant``, by default a new one (so: empty)."""
    from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415 - see _engine

    return SQLAlchemyStore(engine(), tenant=fresh_tenant() if tenant is None else tenant)


@contextlib.contextmanager
def fresh_schema(**connect_args: Any) -> Iterator[sqlalchemy.Engine]:
    """An engine on the test server whose tables go to a new, empty PostgreSQL schema
    (its ``search_path``), dropped afterwards: for tests of creating and migrating the
    schema, which must not touch the tables the other tests share."""
    import sqlalchemy  # noqa: PLC0415 - engine() has skipped when it is missing

    base = engine()
    name = f"custbond_test_{uuid.uuid4().hex[:12]}"
    with base.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    scoped = sqlalchemy.create_engine(
        base.url,
        connect_args=_connect_args(base.url, options=f"-c search_path={name}", **connect_args),
    )
    try:
        yield scoped
    finally:
        scoped.dispose()
        with base.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')


@contextlib.contextmanager
def another_engine(**connect_args: Any) -> Iterator[sqlalchemy.Engine]:
    """An engine of its own on the test database, with driver settings of its own
    (``options="-c lock_timeout=100"``), disposed afterwards."""
    import sqlalchemy  # noqa: PLC0415 - engine() has skipped when it is missing

    base = engine()
    other = sqlalchemy.create_engine(
        base.url, connect_args=_connect_args(base.url, **connect_args)
    )
    try:
        yield other
    finally:
        other.dispose()
