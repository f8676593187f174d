"""Image generators: synthetic pictures whose answer is known exactly.

The report found counting, localisation and chart OCR weak, multi-image reasoning
hard for every model, blank images a reliable trigger for invented content, and
image causality far behind description. Each generator here probes one of those
with a freshly drawn picture (no contamination) and an answer computed while
drawing it, and most can re-derive that answer from the saved PNG alone, so a
drawing bug cannot ship a wrong reference.

Rules every generator follows, because case files must be reproducible byte for
byte from (seed, generator, index):

- randomness only from the ``random.Random`` passed in (never numpy's global
  state, never the clock);
- flat colours drawn without antialiasing wherever ``verify`` reads colours back;
- fonts are the DejaVu files that ship with matplotlib, loaded with Pillow's
  BASIC layout engine (raqm may or may not be installed), never a system font;
- PNGs saved with fixed options and no timestamps; matplotlib figures with the
  Agg backend, a fixed dpi, default rc parameters and no "Software" tag;
- file names derived from the generator name and the index.

Heavy imports (numpy, matplotlib) happen inside the functions that need them:
``fourfold`` imports every generator module to list them, and that must stay fast.

The modules register their generators on import, in the order below: the order
in which ``generate`` takes a cell's generators round-robin, so changing it
changes which cases a seed gives.
"""

from __future__ import annotations

# isort: off
from . import counting, clock, charts, documents, graphs, puzzles, trust, landscape
# isort: on
from ..kit.blobs import classify, components
from ..kit.colours import PALETTE
from .clock import time_pattern
from .landscape import (
    LANDSCAPE_FILE,
    LANDSCAPE_MEDIA,
    LANDSCAPE_PLAN,
    LANDSCAPE_SEED,
    build_landscape_images,
    render_versions,
)
from .picture import SHAPES, image_paths
from .puzzles import bfs_steps

__all__ = ["LANDSCAPE_FILE", "LANDSCAPE_MEDIA", "LANDSCAPE_PLAN", "LANDSCAPE_SEED", "PALETTE", "SHAPES", "bfs_steps",
           "build_landscape_images", "charts", "classify", "clock", "components", "counting", "documents", "graphs",
           "image_paths", "landscape", "puzzles", "render_versions", "time_pattern", "trust"]
