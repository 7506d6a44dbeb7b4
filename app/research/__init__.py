"""Researchers' queries: search, listings with facets and paging, order of battle, exports."""
