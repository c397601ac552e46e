"""The audit trail: who looked at or tried to reach what, and when."""
