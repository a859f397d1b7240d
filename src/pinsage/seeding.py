"""Seeds derived from a base seed and the coordinates of a random draw (epoch, batch, rank, attempt).

Every random draw of a run is seeded by where it happens, not by what ran before it, so a resumed run,
a run with more DataLoader workers and a data-parallel rank all draw exactly what an uninterrupted
one-process run draws at the same place.
"""

from __future__ import annotations

_MIX = 1_000_003  # a prime larger than any epoch, batch or rank count, so coordinates never collide


def derive_seed(base: int, *coordinates: int) -> int:
    """A seed for the draw at `coordinates` (outermost first) of a run seeded with `base`."""
    seed = base
    for value in coordinates:
        seed = seed * _MIX + value
    return seed % (2**31)  # DGL's seed is a C int; torch and numpy accept this range too
