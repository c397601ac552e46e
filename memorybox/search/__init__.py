"""Find anything: the child's tags and a full-text index of their box and story, searched
through one interface on PostgreSQL (full-text search) and SQLite (FTS5).

Importing this package (as ``memorybox.models`` and policy do) makes the ORM session keep the
index in step on every flush (``memorybox.search.index``).
"""

from memorybox.search import index

__all__ = ["index"]
