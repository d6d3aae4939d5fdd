"""What every kind's form shares."""

from __future__ import annotations

from django import forms

from connectors.base import ConnectorError
from connectors.net import url_check


def address_clean(url: str) -> str:
    """A server or feed address from a form, checked by connectors.net.url_check; its
    refusal (with the hint) becomes the field's error."""
    try:
        return url_check(url)
    except ConnectorError as error:
        raise forms.ValidationError(f"{error.message} {error.hint}".strip(), code="url") from error
