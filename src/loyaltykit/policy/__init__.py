"""The policy engine: programs, conditions and their evaluation."""
