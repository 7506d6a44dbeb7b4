"""Curation: proposals with evidence, reviewed into the open draft edition."""
