"""The Content-Security-Policy: scripts, styles and connections from this site only.

No inline script, no eval (htmx runs with allowEval off, see base.html), no inline <style>.
The one inline style the pages carry is the column alignment markdown-it writes on table
cells; the sanitiser (assistant/templatetags/chat_markdown.py) keeps exactly these values,
and the policy allows exactly these, by hash.
"""

from __future__ import annotations

import base64
import hashlib

from csp.constants import NONE, SELF, UNSAFE_HASHES

TABLE_ALIGN_STYLES = ("text-align:left", "text-align:center", "text-align:right")


def style_hash(style: str) -> str:
    digest = hashlib.sha256(style.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def policy() -> dict:
    """django-csp 4 settings (CONTENT_SECURITY_POLICY); enforced, DEBUG or not."""
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            "style-src-attr": [UNSAFE_HASHES, *(style_hash(s) for s in TABLE_ALIGN_STYLES)],
            "img-src": [SELF, "data:"],
            "font-src": [SELF],
            "connect-src": [SELF],
            "object-src": [NONE],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }
