"""The memory box: items a child keeps, suggestions from carers, and the bin."""
