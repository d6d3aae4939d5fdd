"""The form that makes a personal API token (/account/tokens/): name, scopes, an optional
team (the `team:<id>` scope, among the user's teams) and an expiry within
settings.API_TOKEN_MAX_DAYS (0: a token may never expire)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from assistant.api.models import ApiToken
from assistant.teams.models import Team
from assistant.teams.selectors import teams_for_user

NEVER, ON_DATE = "never", "date"
PRESET_DAYS = (7, 30, 90)


def max_days() -> int:
    return settings.API_TOKEN_MAX_DAYS


def expiry_choices() -> list[tuple[str, str]]:
    """Never (when the site allows it), the presets within the limit, a date."""
    limit = max_days()
    choices = [] if limit else [(NEVER, "Never")]
    choices += [(str(d), f"In {d} days") for d in PRESET_DAYS if not limit or d <= limit]
    if limit and str(limit) not in dict(choices):
        choices.append((str(limit), f"In {limit} days (the longest allowed)"))
    return [*choices, (ON_DATE, "On a date")]


def _end_of(day: date) -> datetime:
    """The token works through `day` (the server's time zone) and stops at its end."""
    return timezone.make_aware(datetime.combine(day, time.max), timezone.get_current_timezone())


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="What uses it, e.g. “laptop editor” or “backup script”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "laptop editor"}),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Scopes",
        error_messages={"required": "Choose at least one scope."},
    )
    team = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Team",
        help_text="Also reach this team's memory and sources (while you are a member). "
        "The team's admins can see and revoke the token.",
    )
    expiry = forms.ChoiceField(label="Expires")
    expiry_date = forms.DateField(
        required=False,
        label="Expiry date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        memberships = teams_for_user(user=user)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.TypedChoiceField)
        team_field.choices = [("", "None: personal only")] + [
            (m.team_id, m.team.name) for m in memberships
        ]
        self._teams = {m.team_id: m.team for m in memberships}
        expiry = self.fields["expiry"]
        assert isinstance(expiry, forms.ChoiceField)
        expiry.choices = expiry_choices()
        expiry.initial = "30" if "30" in dict(expiry.choices) else expiry.choices[0][0]
        if max_days():
            expiry.help_text = f"Tokens on this server last at most {max_days()} days."

    def clean_team(self) -> Team | None:
        team_id = self.cleaned_data.get("team")
        if team_id is None:
            return None
        if team_id not in self._teams:
            raise forms.ValidationError("You are not a member of that team.")
        return self._teams[team_id]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        expiry = cleaned.get("expiry")
        if expiry is None:
            return cleaned
        today = timezone.localdate()
        if expiry == NEVER:
            cleaned["expires_at"] = None
        elif expiry == ON_DATE:
            day = cleaned.get("expiry_date")
            if day is None:
                self.add_error("expiry_date", "Pick the date the token stops working.")
                return cleaned
            if day < today:
                self.add_error("expiry_date", "The expiry date cannot be in the past.")
                return cleaned
            if max_days() and day > today + timedelta(days=max_days()):
                self.add_error("expiry_date", f"At most {max_days()} days from today.")
                return cleaned
            cleaned["expires_at"] = _end_of(day)
        else:
            cleaned["expires_at"] = timezone.now() + timedelta(days=int(expiry))
        return cleaned
