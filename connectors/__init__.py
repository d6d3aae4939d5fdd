"""Outside data (calendars, drives), synced incrementally and owned by one user."""
