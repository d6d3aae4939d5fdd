"""The proposed-event card under an answer: Confirm, Edit, Cancel (htmx, owner only)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from assistant import selectors
from assistant.services.event_proposals import (
    proposal_cancel,
    proposal_confirm,
    proposal_sources,
    proposal_update,
)


class ProposalForm(forms.Form):
    title = forms.CharField(max_length=500)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    location = forms.CharField(max_length=500, required=False)
    source = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args, sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s.pk, s.name) for s in sources]


def _card(request: HttpRequest, proposal, **extra) -> HttpResponse:
    context = {"proposal": proposal, **extra}
    return render(request, "assistant/event_proposal.html#card", context)


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.proposal_get_for_user(user=request.user, pk=pk)
    return _card(request, proposal_confirm(proposal=proposal))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.proposal_get_for_user(user=request.user, pk=pk)
    return _card(request, proposal_cancel(proposal=proposal))


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.proposal_get_for_user(user=request.user, pk=pk)
    sources = proposal_sources(user=request.user)
    if request.method == "GET":
        zone = ZoneInfo(proposal.time_zone)
        local, local_end = proposal.start.astimezone(zone), proposal.end.astimezone(zone)
        form = ProposalForm(
            sources=sources,
            initial={
                "title": proposal.title,
                "day": local.date(),
                "start_time": None if proposal.all_day else local.time(),
                "end_time": None if proposal.all_day else local_end.time(),
                "location": proposal.location,
                "source": proposal.source_id,
            },
        )
        return _card(request, proposal, form=form)
    form = ProposalForm(request.POST, sources=sources)
    if form.is_valid():
        data = form.cleaned_data
        try:
            proposal = proposal_update(
                proposal=proposal, title=data["title"], day=data["day"],
                start_time=data["start_time"], end_time=data["end_time"],
                source_id=data["source"], location=data["location"],
            )  # fmt: skip
            return _card(request, proposal)
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for name, messages in errors.items():
                form.add_error(name if name in form.fields else None, messages)
    return _card(request, proposal, form=form)
