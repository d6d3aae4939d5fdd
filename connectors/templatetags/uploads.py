"""{% upload_max_bytes %}: the largest file an upload accepts (DOCUMENT_MAX_BYTES), for the
upload forms of the files page and the chat, whose views are not the uploads'."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def upload_max_bytes() -> int:
    return settings.DOCUMENT_MAX_BYTES
