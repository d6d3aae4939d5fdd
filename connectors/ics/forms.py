"""The form that adds a calendar subscription: its address (webcal:// accepted) and,
optionally, the name to show instead of the feed's own."""

from __future__ import annotations

from django import forms

from connectors.forms import address_clean


def webcal_to_https(url: str) -> str:
    """webcal:// and webcals:// are http(s) feeds named for calendar apps: fetch over https."""
    url = url.strip()
    for prefix in ("webcals://", "webcal://"):
        if url.lower().startswith(prefix):
            return "https://" + url[len(prefix) :]
    return url


class IcsForm(forms.Form):
    url = forms.CharField(
        label="Feed address",
        max_length=2000,
        help_text="The calendar's iCal/ICS link (https:// or webcal://), e.g. a public "
        "holiday calendar or the secret address from your calendar's settings.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/calendar.ics"}),
    )
    name = forms.CharField(
        label="Name (optional)",
        max_length=200,
        required=False,
        help_text="Shown instead of the name the feed gives itself.",
    )

    def clean_url(self) -> str:
        return address_clean(webcal_to_https(self.cleaned_data["url"]))
