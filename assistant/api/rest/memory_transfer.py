"""Export and import over the API: the same JSON and the same services as the memory
page's (memory/views/transfer.py). An import is checked whole before anything is written
(a malformed file changes nothing); a big one goes to the background like the page's.
Both need a space the user manages (a team's admins), like the page."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from assistant.api.rest.access import READ, ApiProblem, SpaceName, scoped, space_for, write_space
from assistant.api.rest.schemas import ImportOut
from memory.forms import too_large_message
from memory.hooks import BackgroundUnavailable, background_import_enqueue
from memory.services import (
    MemoryFieldError,
    MemoryImportError,
    memory_export,
    memory_import,
    memory_import_plan,
)

NOTHING = "Nothing was imported."
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A memory export, as GET /memories/export returns it.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _body(request: HttpRequest) -> Any:
    """The request's JSON, read up to the import limit (413 past it, 400 when unreadable)."""
    limit = settings.MEMORY_IMPORT_MAX_BYTES
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, "too_large", too_large_message(int(declared)))
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise ApiProblem(413, "too_large", too_large_message(len(raw)))
    if not raw.strip():
        raise ApiProblem(400, "invalid_json", f"Send a memory export as the body. {NOTHING}")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ApiProblem(400, "invalid_json", f"The body is not UTF-8 text. {NOTHING}") from None
    except json.JSONDecodeError as error:
        raise ApiProblem(
            400,
            "invalid_json",
            f"The body is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}). {NOTHING}",
        ) from None
    except (RecursionError, ValueError) as error:
        raise ApiProblem(
            400, "invalid_json", f"The body is not a memory export ({error}). {NOTHING}"
        ) from None


def add_transfer_routes(router: Router, *, errors: dict) -> None:
    @router.get(
        "/export",
        response={200: dict[str, Any], **errors},
        url_name="memory-export",
        summary="Export memories",
    )
    def memories_export(request: HttpRequest, space: SpaceName = "personal"):
        """Every memory of the space with its history, as the memory page exports it (and
        as /import takes it)."""
        where = space_for(scoped(request, READ), space)
        if not where.can_manage:
            raise ApiProblem(403, "team_admin_required", "This needs the admin role in the team.")
        return memory_export(owner=where.owner, changed_by=where.actor)

    @router.post(
        "/import",
        response={200: ImportOut, 202: ImportOut, **errors, 413: errors[400], 503: errors[400]},
        url_name="memory-import",
        summary="Import memories",
        openapi_extra=IMPORT_BODY,
    )
    def memories_import(request: HttpRequest, space: SpaceName = "personal"):
        """Import an export: memories already there (same text and kind) are skipped. The
        whole file is checked first: one bad record and nothing is imported (400). Files
        with more than MEMORY_IMPORT_SYNC_MAX_ITEMS memories import in the background
        (202, with the run's id)."""
        where = write_space(request, space)
        data = _body(request)
        try:
            count = len(memory_import_plan(data=data))
            if count > settings.MEMORY_IMPORT_SYNC_MAX_ITEMS:
                run = background_import_enqueue(
                    owner=where.owner,
                    data=data,
                    item_count=count,
                    label="the API",
                    requested_by=where.actor,
                )
                message = f"Importing {count:,} memories in the background."
                queued = {"status": "queued", "count": count, "message": message,
                          "run_id": getattr(run, "pk", None)}  # fmt: skip
                return Status(202, queued)
            result = memory_import(owner=where.owner, data=data, changed_by=where.actor)
        except (MemoryImportError, MemoryFieldError) as error:
            raise ApiProblem(
                400, "invalid_import", f"{NOTHING} The first problem: {error}"
            ) from None
        except BackgroundUnavailable as error:
            raise ApiProblem(503, "background_unavailable", str(error)) from None
        done = {"status": "imported", "added": result.added, "skipped": result.skipped,
                "count": count, "message": result.summary}  # fmt: skip
        return Status(200, done)
