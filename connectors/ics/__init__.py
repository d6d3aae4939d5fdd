"""ICS subscriptions: a read-only calendar feed fetched over HTTP(S) (webcal:// too)."""
