"""Django's stock middleware without a thread hop per hook under ASGI.

In an async server Django runs every `MiddlewareMixin` hook (process_request,
process_view, process_response) through `sync_to_async`: a thread hop each, 15 of a
stream request's 18 before the backend call (issue 14). The hooks of the middleware
below only compute (headers, redirects, lazy objects, cookies) and touch neither the
database nor the network, so under ASGI they run inline on the event loop. The few
cases that do reach the database keep their hop: saving a modified session, storing
flash messages, and CSRF tokens kept in the session (CSRF_USE_SESSIONS).

Under WSGI (and Django's sync test client) nothing changes: the stock `__call__` runs.
Settings name these classes instead of Django's own (assistant/settings.py, MIDDLEWARE).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp import middleware as csp
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware import clickjacking, common, csrf, security


class InlineHooks:
    """Mixin for a MiddlewareMixin subclass: under ASGI, run its hooks on the event loop.

    Subclasses list the cases that need the database in `request_needs_thread` and
    `response_needs_thread`; those run in a thread, as Django's own `__acall__` would."""

    def __init__(self, get_response) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        view_hook = getattr(self, "process_view", None)
        if view_hook is not None and iscoroutinefunction(self):
            # Django adapts a sync process_view with a hop of its own; a coroutine it calls
            # as is. Only in an async chain: the sync chain keeps the plain method.
            async def process_view(request, view, args, kwargs):
                if self.request_needs_thread(request):
                    return await sync_to_async(view_hook)(request, view, args, kwargs)
                return view_hook(request, view, args, kwargs)

            self.process_view = markcoroutinefunction(process_view)

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def __acall__(self, request: HttpRequest):
        response = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            if self.request_needs_thread(request):
                response = await sync_to_async(process_request)(request)
            else:
                response = process_request(request)
        response = response or await self.get_response(request)  # type: ignore[attr-defined]
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_needs_thread(request, response):
                response = await sync_to_async(process_response)(request, response)
            else:
                response = process_response(request, response)
        return response


class SecurityMiddleware(InlineHooks, security.SecurityMiddleware):
    pass


class CSPMiddleware(InlineHooks, csp.CSPMiddleware):
    pass


class SessionMiddleware(InlineHooks, sessions.SessionMiddleware):
    """The session is loaded lazily (on first use, in the view's thread); only saving a
    modified one writes to the database."""

    def response_needs_thread(self, request, response) -> bool:
        session = request.session  # type: ignore[attr-defined]
        return session.modified or settings.SESSION_SAVE_EVERY_REQUEST


class CommonMiddleware(InlineHooks, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(InlineHooks, csrf.CsrfViewMiddleware):
    """The token lives in a cookie; with CSRF_USE_SESSIONS it is read from and written to
    the session (the database), so every hook keeps its thread then."""

    def request_needs_thread(self, request) -> bool:
        return settings.CSRF_USE_SESSIONS

    def response_needs_thread(self, request, response) -> bool:
        return settings.CSRF_USE_SESSIONS


class AuthenticationMiddleware(InlineHooks, auth.AuthenticationMiddleware):
    """Sets `request.user` as a lazy object: the user is read on first use, in a thread."""


class MessageMiddleware(InlineHooks, messages.MessageMiddleware):
    """Storing messages may write the session: only when messages were read or added."""

    def response_needs_thread(self, request, response) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(InlineHooks, clickjacking.XFrameOptionsMiddleware):
    pass
