#!/usr/bin/env python3
"""Container health probe: exit 0 when GET <url> answers 200, 1 otherwise.

Usage: healthcheck [URL]   (default http://127.0.0.1:8000/healthz)

/healthz answers 200 while the database and Redis answer; /healthz?live=1 checks the process only.

Standard library only, so it works without curl in the slim image. Redirects are not followed
(a redirect to HTTPS would otherwise make the probe fail), and the request is sent with
"Host: localhost" so the check does not depend on the deployment's ALLOWED_HOSTS.
"""

import http.client
import sys
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def main() -> int:
    url = urlsplit(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)
    conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(url.hostname or "127.0.0.1", url.port, timeout=5)
    try:
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        conn.request("GET", target, headers={"Host": "localhost"})
        status = conn.getresponse().status
    except OSError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if status != 200:
        print(f"healthcheck: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
