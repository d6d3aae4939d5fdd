"""The team settings form (admins and the owner)."""

from __future__ import annotations

from django import forms

from assistant.profiles import profile_choices
from assistant.teams.services import RETENTION_MAX_DAYS


class TeamSettingsForm(forms.Form):
    members_may_invite = forms.BooleanField(
        required=False, label="Members may invite people (as members)"
    )
    allowed_profiles = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Models allowed in team chats",
        help_text="None ticked: all. A chat already using a model you untick switches to the "
        "first allowed one at its next answer.",
    )
    extraction_enabled = forms.BooleanField(
        required=False,
        label="Learn memories from team chats",
        help_text="Off: the assistant neither summarises team chats nor extracts memories "
        "from them. (What it learns always goes to each member's own memory, never to the "
        "team's.)",
    )
    chat_retention_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=RETENTION_MAX_DAYS,
        label="Delete team chats untouched for (days)",
        help_text=f"1 to {RETENTION_MAX_DAYS}; empty: keep them. Checked once a day.",
    )

    limit_requests_per_minute = forms.IntegerField(
        required=False,
        min_value=1,
        label="Requests a minute (whole team)",
        help_text="Empty: the site's limit. Each member's own limit applies too.",
    )
    limit_tokens_per_day = forms.IntegerField(
        required=False,
        min_value=1,
        label="Tokens a day (whole team, UTC days)",
        help_text="Empty: the site's limit. Counts the tokens of team chats and of API "
        "tokens that reach the team.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["allowed_profiles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p.key, f"{p.label} ({p.model})") for p in profile_choices()]

    @classmethod
    def for_team(cls, team) -> TeamSettingsForm:
        return cls(
            initial={
                "members_may_invite": team.members_may_invite,
                "allowed_profiles": list(team.allowed_profiles or []),
                "extraction_enabled": team.extraction_enabled,
                "chat_retention_days": team.chat_retention_days,
                "limit_requests_per_minute": team.limit_requests_per_minute,
                "limit_tokens_per_day": team.limit_tokens_per_day,
            }
        )
