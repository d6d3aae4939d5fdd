"""Live status of background work on the memory page: an htmx poller that stops itself.

While runs are waiting or running the section polls every 2 s; once nothing is pending
it answers HTTP 286 (htmx's "stop polling") without a trigger, and tells the page's list
and inbox to refresh, since new memories may have arrived. The memory page renders the
same section from `pipeline_context`, which it reaches through memory.hooks (memory
never imports the assistant). On a team's memory page the section shows the team
account's runs (a big team import) and polls the team twin of this view
(`team-memory:background`, run with `request.space` set by in_team_space).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from assistant.background.models import TaskRun
from memory.spaces import space_of
from memory.views.common import (
    INBOX_CHANGED,
    LIST_CHANGED,
    HtmxHttpRequest,
    announce,
    render_space,
    space_redirect,
)

RECENT_RUNS = 5
STOP_POLLING = 286  # htmx stops an "every" trigger on this status


def pipeline_context(*, user) -> dict:
    # Connector syncs have their own page (/connections/); this section is the memory's.
    runs = TaskRun.objects.owned_by(user).exclude(kind=TaskRun.Kind.SYNC)
    runs = runs.select_related("conversation")
    pending = list(runs.pending().order_by("created_at", "id")[:50])
    imports = [run for run in pending if run.kind == TaskRun.Kind.IMPORT]
    summaries = [run for run in pending if run.kind != TaskRun.Kind.IMPORT]
    conversations = {run.conversation_id or f"run-{run.pk}" for run in summaries}
    recent = list(runs.finished().order_by("-finished_at", "-id")[:RECENT_RUNS])
    return {
        "pipeline_pending": pending,
        "pipeline_imports": imports,
        "pipeline_pending_count": len(conversations),
        "pipeline_running": any(run.state == TaskRun.State.RUNNING for run in summaries),
        "pipeline_recent": recent,
        # A failure is shown opened, so the user sees the error without looking for it.
        "pipeline_last_failed": bool(recent) and recent[0].state == TaskRun.State.FAILED,
    }


@login_required
@require_GET
def status(request: HtmxHttpRequest) -> HttpResponse:
    space = space_of(request)  # the user's own, or the active team's (its account's runs)
    if not request.htmx:
        return space_redirect(request, "index") if space.is_team else redirect("memory:index")
    context = pipeline_context(user=space.owner)
    response = render_space(request, "memory/page.html#pipeline", context)
    if not context["pipeline_pending"]:
        response.status_code = STOP_POLLING
        if request.GET.get("was_pending"):
            announce(response, LIST_CHANGED, INBOX_CHANGED)
    return response
