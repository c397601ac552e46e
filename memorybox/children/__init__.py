"""Children and the real care relationships around them: placements and allocations."""
