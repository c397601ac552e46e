"""Family and past carers who send memories to one child (the letterbox)."""
