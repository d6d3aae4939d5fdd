"""Tools to exercise connectors against real servers: the Radicale harness the tests and
the calendar benchmark share."""
