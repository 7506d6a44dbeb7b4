"""API keys, roles, and the FastAPI dependencies that guard every write."""
