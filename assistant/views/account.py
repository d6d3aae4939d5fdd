"""The account page (/account/): time zone and working hours."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from assistant.services.account_settings import (
    account_settings_get,
    account_settings_update,
    time_zone_choices,
)

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
