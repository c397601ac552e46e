"""Telling people things: the in-app notification centre, and email when configured."""
