"""Procedural video cases: short clips of flat-coloured shapes with exact answers.

Every clip is drawn pixel by pixel with numpy (no antialiasing), so each object
is one flat colour and can be found again in the *decoded* video by its colour.
That is what makes the ``verify`` functions possible: they decode the mp4 with
PyAV and re-derive the answer (track a centroid, count blobs, follow a cup,
re-run the collision simulator and compare positions) instead of trusting the
stored answer. Clips are 2-6 s at 8 fps and 320x240, written with
:func:`~fourfold.cases.media.encode.encode_video`, so the same ``rng`` gives
byte-identical files.

The collision cases are CLEVRER-style: a tiny deterministic 2-D elastic
simulator (:func:`~.physics.simulate`) produces the motion, and the questions about what
collides, what happens next, why a ball turned and what would happen without a
ball are all answered by running it (again, without that ball, or beyond the
clip's end).

Two more kinds of clip are rendered from a few stored parameters, so ``verify``
can recompute where everything must be: a thrown ball that may do something
physically impossible (turn back in mid-air, vanish and reappear elsewhere,
start rising while falling; read back from the ball's decoded track), and a
first-person walk through a hall of pillars drawn in perspective (turn left,
turn right or straight ahead; read back from the landmarks' shift and growth
between the first and last frames).

:func:`~.landscape.build_landscape_video` writes the video part of the built-in
``landscape`` suite (generated cases plus a few hand-drawn trustworthiness
clips: privacy, harmful requests, bias, benign look-alikes).

The modules register their generators on import, in the order below: the order
in which ``generate`` takes a cell's generators round-robin, so changing it
changes which cases a seed gives.
"""

from __future__ import annotations

# isort: off
from . import motion, tracking, events, prediction, navigation, collisions, causal, trust, landscape
# isort: on
from ..kit.blobs import blobs, centroid, colour_mask, nearest_colour
from ..kit.colours import COLOURS
from ..kit.raster import draw_shape
from . import physics
from .clip import BG, CAUSAL, FPS, GEN, GREY, TRUST, WALL, WHITE
from .landscape import LANDSCAPE_SOURCE, build_landscape_video
from .physics import SimResult, collide, render_balls, simulate
from .readback import decode_frames, probe

__all__ = ["BG", "CAUSAL", "COLOURS", "FPS", "GEN", "GREY", "LANDSCAPE_SOURCE", "TRUST", "WALL", "WHITE", "SimResult",
           "blobs", "build_landscape_video", "causal", "centroid", "collide", "collisions", "colour_mask", "decode_frames",
           "draw_shape", "events", "landscape", "motion", "navigation", "nearest_colour", "physics", "prediction", "probe",
           "render_balls", "simulate", "tracking", "trust"]
