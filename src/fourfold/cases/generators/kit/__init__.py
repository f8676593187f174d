"""The shared kit every generator package draws on.

- :mod:`.answers`: building a case's input and reference, and checking a stored
  reference against the answer a ``verify`` function re-derives;
- :mod:`.colours`: the named flat colours pictures and clips are drawn in;
- :mod:`.blobs`: finding drawn objects again in decoded pixels (exact-colour and
  hue masks, connected components, centroids, shape from fill ratio);
- :mod:`.raster`: hard-edged numpy drawing (one flat colour per object);
- :mod:`.dags`: directed-graph helpers (reachability, d-separation, back-door).

Nothing here registers a generator, and nothing imports numpy, Pillow or PyAV
at import time: listing the generators must stay cheap.
"""
