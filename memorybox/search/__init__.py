"""Find anything: the child's tags and a full-text index of their box and story, searched
through one interface on PostgreSQL (full-text search) and SQLite (FTS5)."""
