"""The form that connects a WebDAV drive: the address of the files, user name, password."""

from __future__ import annotations

from django import forms

from connectors.forms import address_clean


class WebDavForm(forms.Form):
    url = forms.CharField(
        label="WebDAV address",
        max_length=2000,
        help_text="Nextcloud and ownCloud: https://HOST/remote.php/dav/files/USER/ (in Files > "
        "Settings > WebDAV). Any WebDAV server: the address of the folder to read.",
        widget=forms.URLInput(
            attrs={"placeholder": "https://cloud.example.org/remote.php/dav/files/ana/"}
        ),
    )
    username = forms.CharField(label="User name", max_length=300)
    password = forms.CharField(
        label="Password or app password",
        max_length=1000,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="With two-factor login, create an app password (Nextcloud: Settings > "
        "Security > Devices & sessions).",
    )

    def clean_url(self) -> str:
        return address_clean(self.cleaned_data["url"])
