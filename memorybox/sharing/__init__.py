"""Consent-controlled sharing: collections, consents and their lifecycle (read by policy)."""
