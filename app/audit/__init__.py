"""The append-only log of every write: who, when, what, and the state before and after."""
