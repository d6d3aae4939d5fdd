"""/team/connections/...: the connections pages again, on the active team's connections.

The same views as /connections/, each wrapped by in_team_space (membership checked on
every request: a member removed a moment ago gets 404 at once; a non-GET needs an admin,
and the views refuse members anything but reading). Mounted under the "team-connectors"
instance of the "connectors" namespace, so the pages' `connectors:` links stay in it.

Left out: the Google sign-in round trip (google-start, google-drive-start,
google-callback). Its callback finds the connection's owner from the signed-in user; it
would have to carry the team in a state bound to the user and the team, which it does not
yet, so Google Calendar and Google Drive are not offered for teams (the add list says so).
"""

from django.urls import URLPattern, path

from assistant.teams.spaces import in_team_space
from connectors.urls import urlpatterns as personal_patterns

NOT_FOR_TEAMS = {"google-start", "google-drive-start", "google-callback"}


def _team_patterns() -> list[URLPattern]:
    patterns = []
    for pattern in personal_patterns:
        if not isinstance(pattern, URLPattern) or pattern.name in NOT_FOR_TEAMS:
            continue
        view = in_team_space(pattern.callback)
        patterns.append(path(str(pattern.pattern), view, name=pattern.name))
    return patterns


app_name = "connectors"
urlpatterns = _team_patterns()
