"""Error bodies as Glance (WebOb) writes them, chosen by the Accept header.

python-glanceclient sends ``Accept: */*`` and parses the HTML page; openstacksdk and others ask
for JSON and get WebOb's flat ``{"message", "code", "title"}``; anything else gets plain text.
"""

from __future__ import annotations

import html
import json

from image_import.errors import GlanceError

_HTML = """<html>
 <head>
  <title>{status} {title}</title>
 </head>
 <body>
  <h1>{status} {title}</h1>
  {explanation}<br /><br />



 </body>
</html>"""


def render_error(error: GlanceError, accept: str | None) -> tuple[str, str]:
    """(content type, body) for an error response."""
    accept = (accept or "").lower()
    if "application/json" in accept and "text/html" not in accept:
        body = {"message": error.explanation, "code": f"{error.status} {error.title}", "title": error.title}
        return "application/json", json.dumps(body)
    if not accept or "*/*" in accept or "html" in accept:
        page = _HTML.format(status=error.status, title=error.title, explanation=html.escape(error.explanation))
        return "text/html; charset=UTF-8", page
    return "text/plain; charset=UTF-8", f"{error.status} {error.title}\n\n{error.explanation}\n\n"
