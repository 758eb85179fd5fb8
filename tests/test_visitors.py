"""Telling visitors apart behind a proxy (liif/page/visitors.py), at unit level: no server is started."""

import pytest

from liif import settings
from liif.page.visitors import client_key


@pytest.fixture
def behind_a_proxy(monkeypatch):
    monkeypatch.setenv(settings.CLIENT_HEADER, "X-Forwarded-For")
    monkeypatch.delenv(settings.TRUSTED_PROXIES, raising=False)
    return monkeypatch


def test_the_visitor_is_the_entry_the_proxy_appended_not_the_clients_own_claim(behind_a_proxy):
    """A client may send any X-Forwarded-For; the proxy appends what it saw. Rotating the left part must
    not make a new visitor."""
    keys = {client_key({"x-forwarded-for": f"10.0.0.{n}, 203.0.113.7"}, "127.0.0.1") for n in range(30)}
    assert keys == {"203.0.113.7"}
    assert client_key({"x-forwarded-for": "198.51.100.2"}, "127.0.0.1") == "198.51.100.2"


def test_more_trusted_proxies_count_from_the_right(behind_a_proxy):
    behind_a_proxy.setenv(settings.TRUSTED_PROXIES, "2")
    header = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.1.1.1"}  # claim, visitor, our first proxy
    assert client_key(header, "127.0.0.1") == "203.0.113.7"
    assert client_key({"x-forwarded-for": "203.0.113.7"}, "127.0.0.1") == "203.0.113.7"  # fewer than 2


def test_without_the_header_setting_the_socket_decides(monkeypatch):
    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)
    assert client_key({"x-forwarded-for": "6.6.6.6"}, "192.0.2.1") == "192.0.2.1"
    assert client_key({}, None) == "unknown"


def test_an_unusable_proxy_count_falls_back_to_one(behind_a_proxy):
    behind_a_proxy.setenv(settings.TRUSTED_PROXIES, "two")
    assert settings.trusted_proxies() is None
    assert client_key({"x-forwarded-for": "6.6.6.6, 203.0.113.7"}, None) == "203.0.113.7"
