"""Google Calendar: an OAuth connection whose calendars sync through the Calendar API."""
