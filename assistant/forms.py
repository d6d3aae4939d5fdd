from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from assistant.services.conversations import validate_message_text


class MessageForm(forms.Form):
    # No max_length here: an over-long message gets our own clear error, not a truncation.
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    def clean_text(self) -> str:
        try:
            return validate_message_text(self.cleaned_data.get("text", ""))
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0], code=error.code) from None

    @property
    def max_chars(self) -> int:
        return settings.MAX_MESSAGE_CHARS
