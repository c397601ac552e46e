"""Moving a child to another authority on the same service."""
