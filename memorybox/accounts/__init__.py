"""People: local authorities, user accounts, roles, sessions and invitations."""
