"""Input parsing for the memory page. Text rules come from the services' validation."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings

from memory.models import Kind, Source
from memory.selectors import STATUS_FILTERS
from memory.services.validation import MAX_TEXT_CHARS, MemoryFieldError, clean_text

FORGET_ALL_PHRASE = "forget everything"


def too_large_message(size: int) -> str:
    limit = settings.MEMORY_IMPORT_MAX_BYTES
    return (
        f"That file is {_megabytes(size)}; the limit is {_megabytes(limit)}. Nothing was imported."
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 104_858 else f"{size:,} bytes"


def _memory_text(value: str) -> str:
    try:
        return clean_text(value)
    except MemoryFieldError as error:
        if not (value or "").strip():
            raise forms.ValidationError("Write what should be remembered.") from None
        if len(value.strip()) > MAX_TEXT_CHARS:
            raise forms.ValidationError(
                f"That is {len(value.strip()):,} characters; a memory can hold "
                f"{MAX_TEXT_CHARS:,}. Split it into smaller memories."
            ) from None
        raise forms.ValidationError(error.message) from None


class MemoryTextForm(forms.Form):
    # No max_length: an over-long text gets our own clear error instead of a truncation.
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    def clean_text(self) -> str:
        return _memory_text(self.cleaned_data.get("text", ""))


class MemoryAddForm(MemoryTextForm):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.FACT)


class MemoryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, strip=True)
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *Kind.choices])
    source = forms.ChoiceField(required=False, choices=[("", "All sources"), *Source.choices])
    status = forms.ChoiceField(required=False, choices=STATUS_FILTERS)
    page = forms.IntegerField(required=False, min_value=1)

    def values(self) -> dict:
        """The filters, with anything invalid read as "no filter" (a URL is user input)."""
        if self.is_valid():
            data = self.cleaned_data
        else:
            data = {name: self.cleaned_data.get(name) for name in self.fields}
        return {
            "query": data.get("q") or "",
            "kind": data.get("kind") or "",
            "source": data.get("source") or "",
            "status": data.get("status") or "",
            "page": data.get("page") or 1,
        }


class MemorySettingsForm(forms.Form):
    paused = forms.BooleanField(required=False)
    auto_accept_extracted = forms.BooleanField(required=False)


class IdListField(forms.Field):
    """Checked boxes named `ids`: whole numbers; anything else is ignored."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = []
        for raw in value or []:
            try:
                ids.append(int(raw))
            except (TypeError, ValueError):
                continue
        return ids


class MemoryBulkReviewForm(forms.Form):
    ids = IdListField(required=False)
    action = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])

    def clean_ids(self) -> list[int]:
        ids = self.cleaned_data.get("ids") or []
        if not ids:
            raise forms.ValidationError("Select at least one memory first.")
        return ids


class MemoryForgetAllForm(forms.Form):
    confirm = forms.CharField(required=False, strip=True)
    permanently = forms.BooleanField(required=False)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data.get("confirm", "")
        if typed.lower() != FORGET_ALL_PHRASE:
            raise forms.ValidationError(f"Type “{FORGET_ALL_PHRASE}” to confirm.")
        return typed


class MemoryImportForm(forms.Form):
    file = forms.FileField(
        error_messages={
            "required": "Choose a memory export (.json) to import.",
            "empty": "That file is empty.",
        }
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MEMORY_IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_large_message(upload.size))
        try:
            return json.loads(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError("That file is not text; choose a .json export.") from None
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"That file is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). Nothing was imported."
            ) from None
        except RecursionError:
            raise forms.ValidationError(
                "That file is nested too deeply to be a memory export. Nothing was imported."
            ) from None
        except ValueError as error:  # e.g. a number with thousands of digits
            raise forms.ValidationError(
                f"That file is not a memory export we can read ({error}). Nothing was imported."
            ) from None
