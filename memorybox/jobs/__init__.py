"""Background work on Huey: SQLite-backed by default, Redis when REDIS_URL is set."""
