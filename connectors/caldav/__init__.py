"""CalDAV calendars (Nextcloud, Radicale, Fastmail, iCloud, ...): read and write."""
