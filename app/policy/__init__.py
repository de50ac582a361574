"""The policy core: support policies, business calendars and deadlines.

Plain Python (stdlib + zoneinfo only): frozen dataclasses and pure functions. Time is always passed
in, never read from the clock; holiday dates are resolved at the edge (app.schemas) and handed in.
"""
