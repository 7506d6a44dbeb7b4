"""Batch decoding: JSON batches over the API, martyr lists as CSV/XLSX files, the CLI."""
