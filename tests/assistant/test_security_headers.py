"""HTTPS settings, cookies, HSTS and the Content-Security-Policy; nh3 keeps only text-align."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from assistant.config import env_proxy_ssl_header
from assistant.csp import TABLE_ALIGN_STYLES, style_hash
from assistant.services.conversations import conversation_create
from assistant.templatetags.chat_markdown import markdown_to_safe_html, sanitize_html

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / app / "templates" for app in ("assistant", "memory", "connectors")]


def csp_directives(response) -> dict[str, list[str]]:
    assert "Content-Security-Policy-Report-Only" not in response
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_every_page_is_sent_with_an_enforced_strict_csp(owner_client, owner):
    conversation = conversation_create(owner=owner, profile="fast", incognito=False)
    pages = ["/", f"/c/{conversation.pk}/", "/memory/"]
    responses = [owner_client.get(page) for page in pages] + [Client().get("/accounts/login/")]
    for response in responses:
        assert response.status_code == 200
        directives = csp_directives(response)
        assert directives["default-src"] == ["'self'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        # The only inline styles allowed: table column alignment, by hash.
        assert directives["style-src-attr"] == [
            "'unsafe-hashes'",
            *(style_hash(style) for style in TABLE_ALIGN_STYLES),
        ]


def test_htmx_runs_without_eval_or_injected_styles(owner_client):
    page = owner_client.get("/").text
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page)[1])
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]


INLINE = [
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on handler (needs eval)"),
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"""(hx-vals|hx-vars)\s*=\s*['"]\s*js:""", re.I), "js: expression"),
]


def test_templates_have_no_inline_script_or_style():
    found = []
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            for pattern, what in INLINE:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_debug_off_defaults_are_secure():
    environment = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(settings.DATA_DIR),
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-test-secret-that-is-only-for-this-test",
    }
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        environment.pop(name, None)
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "CONTENT_SECURITY_POLICY",
    ]
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is False  # the proxy may redirect; opt in
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["assistant.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return Client(HTTP_HOST="assistant.example.com")  # built after: middleware reads settings


def test_behind_a_tls_proxy_https_is_enforced(production, db):
    plain = production.get("/accounts/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://assistant.example.com/accounts/login/"

    # The proxy says the client used HTTPS: the page, with HSTS, CSP and secure cookies.
    response = production.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert "Content-Security-Policy" in response
    assert response.cookies["csrftoken"]["secure"] is True
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("X-Forwarded-Proto", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Ssl=on", ("HTTP_X_FORWARDED_SSL", "on")),
        ("", None),
    ],
)
def test_proxy_ssl_header_setting(monkeypatch, value, expected):
    monkeypatch.setenv("X_PROXY", value)
    assert env_proxy_ssl_header("X_PROXY") == expected


def test_proxy_ssl_header_setting_rejects_junk(monkeypatch):
    monkeypatch.setenv("X_PROXY", "HTTP_X_FORWARDED_PROTO: https")
    with pytest.raises(ImproperlyConfigured, match="is not a header name"):
        env_proxy_ssl_header("X_PROXY")


def test_sanitiser_keeps_only_text_align_in_style():
    html = (
        '<table><tr><td style="color:red; text-align: center">a</td>'
        '<td style="position:fixed; top:0; left:0">b</td>'
        '<th style="TEXT-ALIGN:right;background:url(https://evil.example/x)">c</th>'
        '<td style="text-align:justify">d</td></tr></table>'
    )
    clean = sanitize_html(html)
    assert '<td style="text-align:center">a</td>' in clean
    assert "<td>b</td>" in clean
    assert '<th style="text-align:right">c</th>' in clean
    assert "<td>d</td>" in clean
    for dropped in ("color", "position", "top:", "background", "evil.example", "justify"):
        assert dropped not in clean


def test_markdown_table_alignment_survives_in_the_csp_allowed_form():
    html = markdown_to_safe_html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    styles = set(re.findall(r'style="([^"]*)"', html))
    assert styles == set(TABLE_ALIGN_STYLES)
