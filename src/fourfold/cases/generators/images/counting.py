"""Counting shapes of one colour and kind among distractors."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, image_part, numeric, reference_problems, text_part, truth, user
from ..kit.blobs import classify, components, exact_mask
from ..kit.colours import PALETTE
from .picture import BACKGROUND, SHAPES, first_image, place, plural, save_png, scene


def _verify_count(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    probs = reference_problems(case, t.get("count"))
    arr, err = first_image(case, base)
    if arr is None:
        return probs + err
    comps = components(exact_mask(arr, PALETTE[t["colour"]]))
    found = sum(1 for c in comps if t.get("shape") in (None, classify(c)))
    if found != t["count"]:
        what = f"{t['colour']} {plural(t['shape']) if t.get('shape') else 'shapes'}"
        probs.append(f"counted {found} {what} in the image, ground truth says {t['count']}")
    return probs


@register("image/generalizability", "img_count_shapes", verify=_verify_count)
def count_shapes(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Count shapes of one colour (and kind) among distractors that share either
    the colour or the kind. The asked-about colour is drawn last so no other
    shape hides part of it, and same-coloured shapes never touch: the count can
    be re-derived as connected components of that exact colour."""
    w, h = 448, 336
    colours = rng.sample(sorted(PALETTE), 4)
    target = colours[0]
    by_shape = rng.random() < 0.7
    tshape = rng.choice(SHAPES) if by_shape else None
    n_target = rng.randint(2, 7)
    specs: list[tuple[str, str, int]] = []

    def size() -> int:
        return rng.randint(12, 22)

    if tshape:
        specs += [(tshape, target, size()) for _ in range(n_target)]
        specs += [(rng.choice([s for s in SHAPES if s != tshape]), target, size()) for _ in range(rng.randint(1, 3))]
        specs += [(tshape, rng.choice(colours[1:]), size()) for _ in range(rng.randint(2, 4))]
    else:
        specs += [(rng.choice(SHAPES), target, size()) for _ in range(n_target)]
    specs += [(rng.choice(SHAPES), rng.choice(colours[1:]), size()) for _ in range(rng.randint(2, 5))]
    rng.shuffle(specs)
    placed = place(rng, specs, w, h, max_overlap=0.15)
    # Asked-about colour last: nothing may cover (and so split or shrink) it.
    placed.sort(key=lambda sh: sh["colour"] == target)
    name = f"img_count_shapes_{index:05d}.png"
    path = save_png(scene(placed, w, h), media_dir, name)
    count = sum(1 for sh in placed if sh["colour"] == target and tshape in (None, sh["shape"]))
    what = f"{target} {plural(tshape)}" if tshape else f"{target} shapes (of any kind)"
    question = f"How many {what} are there in this image?" + NUM_SUFFIX
    return GeneratedCase(
        category="localisation",
        input=user(image_part(path), text_part(question)),
        reference=numeric(count),
        tags=["counting", "shapes"],
        truth={"colour": target, "shape": tshape, "count": count, "background": list(BACKGROUND),
               "shapes": placed},
    )
