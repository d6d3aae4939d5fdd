"""A real local stand-in for Google's OAuth and Calendar endpoints, for the tests.

It implements what the Google Calendar kind uses, with the response shapes of Google's
API reference: /auth (the consent page, which redirects straight back with a code, or
with error=access_denied), /token (code exchange with the PKCE check, refresh,
invalid_grant once revoked), /revoke, calendarList.list, events.list (sync tokens,
nextPageToken paging, 410 for a forgotten token) and events.insert.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"
READONLY_ONLY = "https://www.googleapis.com/auth/calendar.readonly"
SCOPES = f"{READONLY_ONLY} https://www.googleapis.com/auth/calendar.events"


def _error(code: int, message: str, reason: str, status: str) -> dict[str, Any]:
    detail = {"domain": "global", "reason": reason, "message": message}
    return {"error": {"code": code, "message": message, "status": status, "errors": [detail]}}


class FakeGoogle:
    def __init__(self) -> None:
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.refresh: dict[str, bool] = {}  # refresh token -> still valid
        self.calendars: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.version = itertools.count(1)
        self.now_version = 0
        self.forgotten_tokens: set[str] = set()
        self.pages: dict[str, list[dict[str, Any]]] = {}
        self.page_size = 2500
        self.deny = False
        self.granted_scope = SCOPES
        self.calls: Counter[str] = Counter()
        self.revoked: list[str] = []
        self.listings: list[dict[str, str]] = []  # the query of every events.list call
        google = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                google.dispatch(self, "GET")

            def do_POST(self) -> None:
                google.dispatch(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # What tests arrange -------------------------------------------------------------

    def calendar_add(self, calendar_id: str, summary: str, *, time_zone: str = "Europe/Paris",
                     role: str = "owner", primary: bool = False) -> None:  # fmt: skip
        self.calendars[calendar_id] = {
            "kind": "calendar#calendarListEntry", "etag": f'"{secrets.token_hex(4)}"',
            "id": calendar_id, "summary": summary, "timeZone": time_zone,
            "backgroundColor": "#9fe1e7", "accessRole": role, "primary": primary,
        }  # fmt: skip
        self.events.setdefault(calendar_id, {})

    def event_put(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Create or change an event (Google fills id, iCalUID, etag, status)."""
        event = {"kind": "calendar#event", "status": "confirmed", **event}
        event.setdefault("id", secrets.token_hex(8))
        base = event.get("recurringEventId") or event["id"]
        event.setdefault("iCalUID", f"{base}@google.com")
        event["etag"] = f'"{secrets.token_hex(6)}"'
        event["_v"] = self.now_version = next(self.version)
        self.events[calendar_id][event["id"]] = event
        return event

    def event_cancel(self, calendar_id: str, event_id: str) -> None:
        old = self.events[calendar_id][event_id]
        kept = {k: old[k] for k in ("id", "recurringEventId", "originalStartTime") if k in old}
        self.event_put(calendar_id, {**kept, "status": "cancelled"})

    def sync_tokens_forget(self) -> None:
        """Every sync token handed out so far now gets 410 Gone."""
        self.forgotten_tokens.add("*")
        self.forget_before = self.now_version

    def revoke_all(self) -> None:
        self.refresh = dict.fromkeys(self.refresh, False)
        self.access.clear()

    def access_expire(self) -> None:
        self.access = dict.fromkeys(self.access, 0.0)

    # The server -----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> FakeGoogle:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def dispatch(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = parts.path
        self.calls[f"{method} {path}"] += 1
        if path == "/auth" and method == "GET":
            return self._auth(request, query)
        if path == "/token" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            return self._token(request, form)
        if path == "/revoke" and method == "POST":
            token = parse_qs(raw.decode()).get("token", [""])[0] or query.get("token", "")
            self.revoked.append(token)
            self.refresh.pop(token, None)
            self.access.pop(token, None)
            return self._json(request, 200, {})
        if not self._authorized(request):
            return self._json(request, 401, _error(
                401, "Request had invalid authentication credentials.", "authError",
                "UNAUTHENTICATED"))  # fmt: skip
        if path == "/calendar/v3/users/me/calendarList" and method == "GET":
            return self._json(request, 200, {"kind": "calendar#calendarList", "etag": '"l"',
                                             "items": list(self.calendars.values())})  # fmt: skip
        segments = path.split("/")
        if (
            path.startswith("/calendar/v3/calendars/")
            and len(segments) == 6
            and segments[5] == "events"
        ):
            calendar_id = unquote(segments[4])
            if calendar_id not in self.events:
                return self._json(request, 404, _error(404, "Not Found", "notFound", "NOT_FOUND"))
            if method == "POST":
                return self._insert(request, calendar_id, json.loads(raw or b"{}"))
            return self._list(request, calendar_id, query)
        return self._json(request, 404, _error(404, "Not Found", "notFound", "NOT_FOUND"))

    def _json(self, request: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=UTF-8")
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _auth(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert query["access_type"] == "offline" and query["prompt"] == "consent"
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        back: dict[str, str] = {"state": query["state"]}
        if self.deny:
            back["error"] = "access_denied"
        else:
            code = "4/" + secrets.token_urlsafe(12)
            self.codes[code] = {"redirect_uri": query["redirect_uri"],
                                "challenge": query["code_challenge"]}  # fmt: skip
            back |= {"code": code, "scope": query["scope"]}
        request.send_response(302)
        request.send_header("Location", query["redirect_uri"] + "?" + urlencode(back))
        request.end_headers()

    def _client_ok(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return unquote(client_id) == CLIENT_ID and unquote(secret) == CLIENT_SECRET

    def _token(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if not self._client_ok(request, form):
            return self._json(request, 401, {"error": "invalid_client",
                                             "error_description": "Unauthorized"})  # fmt: skip
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if (issued is None or issued["redirect_uri"] != form.get("redirect_uri")
                    or challenge.decode().rstrip("=") != issued["challenge"]):  # fmt: skip
                return self._json(request, 400, {"error": "invalid_grant",
                                                 "error_description": "Bad Request"})  # fmt: skip
            refresh = "1//" + secrets.token_urlsafe(16)
            self.refresh[refresh] = True
            return self._json(request, 200, self._access_token() | {"refresh_token": refresh})
        if grant == "refresh_token":
            if not self.refresh.get(form.get("refresh_token", "")):
                return self._json(request, 400, {"error": "invalid_grant",
                    "error_description": "Token has been expired or revoked."})  # fmt: skip
            return self._json(request, 200, self._access_token())
        return self._json(request, 400, {"error": "unsupported_grant_type"})

    def _access_token(self) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(16)
        self.access[token] = time.time() + 3599
        return {"access_token": token, "expires_in": 3599, "scope": self.granted_scope,
                "token_type": "Bearer"}  # fmt: skip

    def _authorized(self, request: BaseHTTPRequestHandler) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        return header.startswith("Bearer ") and self.access.get(token, 0) > time.time()

    def _list(
        self, request: BaseHTTPRequestHandler, calendar_id: str, query: dict[str, str]
    ) -> None:
        assert query.get("singleEvents") == "false" and query.get("showDeleted") == "true"
        self.listings.append(query)
        size = min(int(query.get("maxResults", 250)), self.page_size)
        if "pageToken" in query:
            remaining = self.pages.pop(query["pageToken"])
        else:
            since = 0
            if "syncToken" in query:
                token = query["syncToken"]
                since = int(token.rsplit("-", 1)[1])
                if "*" in self.forgotten_tokens and since <= self.forget_before:
                    return self._json(request, 410, _error(
                        410, "Sync token is no longer valid, a full sync is required.",
                        "fullSyncRequired", "GONE"))  # fmt: skip
            events = sorted(self.events[calendar_id].values(), key=lambda e: e["_v"])
            remaining = [e for e in events if e["_v"] > since]
            remaining.append({"_sync": f"st-{calendar_id}-{self.now_version}"})
        sync_marker = remaining[-1]
        page, rest = remaining[:size], remaining[size:]
        items = [{k: v for k, v in e.items() if k != "_v"} for e in page if "_sync" not in e]
        body = {"kind": "calendar#events", "etag": '"p"', "summary": calendar_id,
                "timeZone": self.calendars[calendar_id]["timeZone"], "accessRole": "owner",
                "items": items}  # fmt: skip
        if rest:
            token = secrets.token_urlsafe(8)
            self.pages[token] = rest
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = sync_marker["_sync"]
        return self._json(request, 200, body)

    def _insert(
        self, request: BaseHTTPRequestHandler, calendar_id: str, body: dict[str, Any]
    ) -> None:
        if self.calendars[calendar_id]["accessRole"] not in ("owner", "writer"):
            return self._json(
                request, 403, _error(403, "Forbidden", "forbidden", "PERMISSION_DENIED")
            )
        event = self.event_put(
            calendar_id, {**body, "htmlLink": "https://calendar.google.com/event?eid=x"}
        )
        return self._json(request, 200, {k: v for k, v in event.items() if k != "_v"})
