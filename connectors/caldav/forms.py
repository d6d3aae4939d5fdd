"""The form that connects a CalDAV account: server address, user name, password."""

from __future__ import annotations

from django import forms

from connectors.forms import address_clean


class CalDavForm(forms.Form):
    url = forms.CharField(
        label="Server address",
        max_length=2000,
        help_text="Nextcloud: https://HOST/remote.php/dav/ · Radicale: https://HOST:5232/ · "
        "Fastmail: https://caldav.fastmail.com/ · iCloud: https://caldav.icloud.com/",
        widget=forms.URLInput(attrs={"placeholder": "https://cloud.example.org/remote.php/dav/"}),
    )
    username = forms.CharField(label="User name", max_length=300)
    password = forms.CharField(
        label="Password",
        max_length=1000,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="iCloud and Fastmail need an app-specific password.",
    )

    def clean_url(self) -> str:
        return address_clean(self.cleaned_data["url"])
