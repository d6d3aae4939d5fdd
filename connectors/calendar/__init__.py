"""What every calendar kind shares: iCalendar parsing and recurrence expansion
(ical.py), storing a sync's changes as events (apply.py), and reading events back for
a chat turn (selectors in connectors/selectors.py)."""
