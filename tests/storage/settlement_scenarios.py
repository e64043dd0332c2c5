"""Hypothesis strategies for the histories of loyaltykit.testing.settlement."""

from __future__ import annotations

from hypothesis import strategies as st

from loyaltykit.testing.settlement import (
    CUSTOMERS,
    EXPIRY_ACTIONS,
    RELEASE_ACTIONS,
    T0,
    Step,
    play,
    snapshot,
)

__all__ = ["CUSTOMERS", "T0", "Step", "play", "release_step", "snapshot", "step"]

step = st.tuples(
    st.sampled_from(EXPIRY_ACTIONS),
    st.sampled_from(CUSTOMERS),
    st.integers(1, 60),
    st.integers(1, 20),
)
release_step = st.tuples(
    st.sampled_from(RELEASE_ACTIONS),
    st.sampled_from(CUSTOMERS[:2]),
    st.integers(1, 60),
    st.integers(1, 8),
)
