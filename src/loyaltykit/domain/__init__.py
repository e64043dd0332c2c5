"""The pure domain model: no I/O, no clock, no global state."""
