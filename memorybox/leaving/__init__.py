"""Leaving care: keeping the box for life, a young person's own sign-in, deleting an account."""
