"""The lookup page: server-rendered HTML for people (decode form, unit history, search, batch)."""
