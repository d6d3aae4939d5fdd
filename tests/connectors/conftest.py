"""A real CalDAV peer for the connector tests: one Radicale per test session, a fresh
login per test (so tests never see each other's calendars)."""

from __future__ import annotations

import itertools
import secrets

import pytest

from connectors.bench.radicale import RadicaleAccount, radicale_server, radicale_user_add

_users = itertools.count(1)


@pytest.fixture(scope="session")
def radicale_session(tmp_path_factory):
    with radicale_server(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture
def radicale(radicale_session):
    """The running server, with a new user added for this test (`radicale.test_user`)."""
    name = f"user{next(_users)}"
    password = secrets.token_urlsafe(12)
    radicale_user_add(radicale_session, name, password)
    radicale_session.test_user = (name, password)
    return radicale_session


@pytest.fixture
def radicale_account(radicale) -> RadicaleAccount:
    """This test's login on Radicale, with no calendars yet."""
    name, password = radicale.test_user
    return RadicaleAccount(radicale, name, password)
