"""The named flat colours generated pictures and clips are drawn in. The names
are what questions use; the values are what ``verify`` looks for again."""

from __future__ import annotations

RGB = tuple[int, int, int]

#: Pictures (PNG, lossless): flat, well separated colours, found again pixel by
#: pixel with an exact match.
PALETTE: dict[str, RGB] = {"red": (220, 40, 40), "blue": (40, 90, 220), "green": (40, 160, 70),
                           "yellow": (235, 190, 20), "purple": (140, 70, 190), "orange": (240, 130, 30)}

#: Clips (H.264, lossy): chromatic colours only, found again by their hue, which
#: survives chroma subsampling, fog (blending with grey) and rain (grey streaks).
#: Their hue directions are at least ~45 degrees apart, so no two are confused.
COLOURS: dict[str, RGB] = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (30, 70, 230),
                           "yellow": (240, 220, 20), "magenta": (210, 40, 210), "cyan": (20, 200, 220)}
NAMES: tuple[str, ...] = tuple(COLOURS)
