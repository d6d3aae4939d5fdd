"""The account page (/account/): time zone and working hours; and "Your activity"."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from assistant.services.account_settings import (
    account_settings_get,
    account_settings_update,
    time_zone_choices,
)
from assistant.teams.audit import audit_actors_for_user, audit_csv_rows, audit_events_for_user
from assistant.teams.audit_models import AuditAction
from assistant.teams.audit_views import PAGE_SIZE, filters_from

DAY_CHOICES = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class AccountSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(required=False)
    work_start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    work_end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    work_days = forms.TypedMultipleChoiceField(
        choices=DAY_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one working day."},
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = [("", "The server's time zone")] + [(z, z) for z in time_zone_choices()]
        self.fields["time_zone"].choices = zones


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    current = account_settings_get(user=request.user)
    saved = False
    if request.method == "POST":
        form = AccountSettingsForm(request.POST)
        if form.is_valid():
            try:
                current = account_settings_update(user=request.user, **form.cleaned_data)
                saved = True
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, messages)
    else:
        form = AccountSettingsForm(
            initial={
                "time_zone": current.time_zone,
                "work_start": current.work_start,
                "work_end": current.work_end,
                "work_days": current.work_days,
            }
        )
    status = 200 if request.method == "GET" or saved else 400
    context = {"form": form, "saved": saved, "account": current}
    return render(request, "assistant/account.html", context, status=status)


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    """Your activity: the audit log of your personal memory and sources, and of what you
    did (only ever your own; team admins see team events on the team's page)."""
    filters = filters_from(request)
    events = audit_events_for_user(user_id=request.user.pk, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "actions": AuditAction.choices,
        "actors": audit_actors_for_user(user_id=request.user.pk),
        "query": query.urlencode(),
    }
    return render(request, "assistant/activity.html", context)


@login_required
@require_GET
def activity_csv(request: HttpRequest) -> StreamingHttpResponse:
    events = audit_events_for_user(user_id=request.user.pk, filters=filters_from(request))
    response = StreamingHttpResponse(
        audit_csv_rows(events.iterator(chunk_size=500)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="activity-{stamp}.csv"'
    return response
