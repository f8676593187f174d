"""Visual puzzles: spot the difference (two images), shortest path on a grid map,
and a labelling rule learnt in context from three examples.
"""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, image_part, numeric, reference_problems, text_part, truth, user
from ..kit.blobs import classify, components, exact_mask
from ..kit.colours import PALETTE, RGB
from .picture import BACKGROUND, SHAPES, draw_shape, first_image, load_font, load_images, place, save_png, scene

if TYPE_CHECKING:
    import numpy as np


_SPOT_BG: RGB = (246, 244, 236)


def _verify_spot(case: dict[str, Any], base: Path) -> list[str]:
    import numpy as np

    t = truth(case)
    probs = reference_problems(case, len(t["changes"]))
    arrs, err = load_images(case, base, 2)
    if err:
        return probs + err
    a, b = arrs
    if a.shape != b.shape:
        return [*probs, "the two images differ in size"]
    found = len(components(np.any(a != b, axis=-1)))
    if found != len(t["changes"]):
        probs.append(f"found {found} differing regions, ground truth says {len(t['changes'])}")
    return probs


@register("image/generalizability", "img_spot_difference", verify=_verify_spot)
def spot_difference(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Two scenes that differ in k places (a shape recoloured, removed or added).
    Shapes keep well apart, so each difference is one region of changed pixels."""
    w, h = 320, 240
    specs = [(rng.choice(SHAPES), rng.choice(sorted(PALETTE)), rng.randint(12, 20)) for _ in range(rng.randint(7, 10))]
    shapes = place(rng, specs, w, h, same_gap=10, other_gap=10)
    k = rng.randint(2, min(5, len(shapes)))
    kinds = [rng.choice(["recolour", "remove", "add"]) for _ in range(k)]
    targets = rng.sample(range(len(shapes)), sum(kd != "add" for kd in kinds))
    after = [dict(sh) for sh in shapes]
    changes: list[dict[str, Any]] = []
    removed: set[int] = set()
    ti = iter(targets)
    for kd in kinds:
        if kd == "add":
            continue
        i = next(ti)
        if kd == "recolour":
            new = rng.choice([c for c in sorted(PALETTE) if c != shapes[i]["colour"]])
            after[i]["colour"] = new
            changes.append({"kind": "recolour", "shape": i, "to": new})
        else:
            removed.add(i)
            changes.append({"kind": "remove", "shape": i})
    n_add = kinds.count("add")
    if n_add:
        # New shapes must keep clear of everything in either picture.
        added = place(rng, [(rng.choice(SHAPES), rng.choice(sorted(PALETTE)), rng.randint(12, 18))
                             for _ in range(n_add)], w, h, same_gap=10, other_gap=10, placed=shapes)
        for sh in added:
            after.append(sh)
            changes.append({"kind": "add", "shape": sh})
    after = [sh for i, sh in enumerate(after) if i not in removed]
    name_a, name_b = f"img_spot_difference_{index:05d}_a.png", f"img_spot_difference_{index:05d}_b.png"
    pa = save_png(scene(shapes, w, h, _SPOT_BG), media_dir, name_a)
    pb = save_png(scene(after, w, h, _SPOT_BG), media_dir, name_b)
    question = ("The two images above are almost the same. In how many places do they differ? (A shape that "
                "changed colour, disappeared or appeared counts as one difference.)" + NUM_SUFFIX)
    return GeneratedCase(
        category="multi_image",
        input=user(text_part("Image 1:"), image_part(pa), text_part("Image 2:"), image_part(pb), text_part(question)),
        reference=numeric(len(changes)),
        tags=["spot-the-difference", "multi-image"],
        truth={"shapes": shapes, "changes": changes},
    )


_GRID_COLOURS: dict[str, RGB] = {".": (255, 255, 255), "#": (45, 45, 45), "S": (60, 170, 80), "G": (220, 60, 60)}
_GRID_LINE: RGB = (175, 175, 175)


def bfs_steps(grid: list[str]) -> int | None:
    """Fewest 4-neighbour moves from S to G through non-wall cells."""
    rows, cols = len(grid), len(grid[0])
    start = next((r, c) for r in range(rows) for c in range(cols) if grid[r][c] == "S")
    dist = {start: 0}
    todo = deque([start])
    while todo:
        r, c = todo.popleft()
        if grid[r][c] == "G":
            return dist[(r, c)]
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] != "#" and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                todo.append((nr, nc))
    return None


def _verify_grid(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    probs = reference_problems(case, bfs_steps(t["grid"]))
    arr, err = first_image(case, base)
    if arr is None:
        return probs + err
    inverse = {v: k for k, v in _GRID_COLOURS.items()}
    parsed = []
    for r in range(len(t["grid"])):
        row = ""
        for c in range(len(t["grid"][0])):
            px = tuple(int(v) for v in arr[t["pad"] + r * t["cell"] + 5, t["pad"] + c * t["cell"] + 5])
            row += inverse.get(px, "?")
        parsed.append(row)
    if parsed != t["grid"]:
        probs.append("grid read from the image differs from the ground truth")
    elif bfs_steps(parsed) != t["steps"]:
        probs.append(f"shortest path in the image is {bfs_steps(parsed)}, ground truth says {t['steps']}")
    return probs


@register("image/generalizability", "img_grid_navigation", verify=_verify_grid)
def grid_navigation(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A maze-like grid with start, goal and walls; the answer is the BFS distance.
    ``verify`` re-reads every cell's colour and runs BFS again."""
    n = rng.randint(6, 9)
    cell, pad = 40, 12
    grid: list[str] = []
    steps: int | None = None
    while steps is None:
        cells = [["#" if rng.random() < 0.28 else "." for _ in range(n)] for _ in range(n)]
        free = [(r, c) for r in range(n) for c in range(n) if cells[r][c] == "."]
        if len(free) < 2:
            continue
        s, g = rng.sample(free, 2)
        if abs(s[0] - g[0]) + abs(s[1] - g[1]) < n // 2:
            continue
        cells[s[0]][s[1]], cells[g[0]][g[1]] = "S", "G"
        grid = ["".join(row) for row in cells]
        steps = bfs_steps(grid)
    size = n * cell + 2 * pad
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font = load_font(22, "DejaVuSans-Bold.ttf")
    for r, row in enumerate(grid):
        for c, ch in enumerate(row):
            x0, y0 = pad + c * cell, pad + r * cell
            draw.rectangle((x0, y0, x0 + cell, y0 + cell), fill=_GRID_COLOURS[ch], outline=_GRID_LINE, width=1)
            if ch in "SG":
                draw.text((x0 + cell // 2, y0 + cell // 2), ch, font=font, fill=(255, 255, 255), anchor="mm")
    path = save_png(img, media_dir, f"img_grid_navigation_{index:05d}.png")
    question = ("This is a map of a grid world. Black cells are walls, the green cell S is the start and the red "
                "cell G is the goal. Moving one cell at a time up, down, left or right, never into a wall, what is "
                "the smallest number of moves needed to go from S to G?" + NUM_SUFFIX)
    return GeneratedCase(category="embodied", input=user(image_part(path), text_part(question)),
                         reference=numeric(steps), tags=["navigation", "grid", "shortest-path"],
                         truth={"grid": grid, "steps": steps, "cell": cell, "pad": pad})


_NONCE = ("dax", "wug", "blicket", "fep", "toma", "zorp", "kiki", "bouba", "gazzer", "modi")
_ICL_SIZE = 192


def _single_shape(shape: str, colour: str, s: int, x: int, y: int) -> Image.Image:
    img = Image.new("RGB", (_ICL_SIZE, _ICL_SIZE), BACKGROUND)
    draw_shape(ImageDraw.Draw(img), shape, x, y, s, PALETTE[colour])
    return img


def _read_single_shape(arr: np.ndarray) -> tuple[str, str] | None:
    """(shape, colour) of the one palette-coloured component in an ICL picture."""
    for colour, rgb in sorted(PALETTE.items()):
        comps = components(exact_mask(arr, rgb))
        if len(comps) == 1:
            return classify(comps[0]), colour
    return None


def _verify_icl(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    key = 0 if t["rule"] == "shape" else 1
    mapping = {ex[key]: ex[2] for ex in t["examples"]}
    probs = reference_problems(case, mapping.get(t["query"][key], "?"))
    arrs, err = load_images(case, base, 4)
    if err:
        return probs + err
    for i, (arr, want) in enumerate(zip(arrs, [*t["examples"], t["query"]], strict=True)):
        got = _read_single_shape(arr)
        if got != (want[0], want[1]):
            probs.append(f"image {i + 1} shows {got}, ground truth says {(want[0], want[1])}")
    return probs


@register("image/generalizability", "img_icl_mapping", verify=_verify_icl)
def icl_mapping(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """Three labelled examples teach a rule (shape -> nonce word, or colour ->
    number); the query's other attribute is borrowed from a *different* example,
    so matching on the wrong attribute gives a wrong, checkable answer."""
    rule = rng.choice(["shape", "colour"])
    shapes = rng.sample(SHAPES, 3)
    colours = rng.sample(sorted(PALETTE), 3)
    words = rng.sample(_NONCE, 3) if rule == "shape" else [str(v) for v in rng.sample(range(1, 10), 3)]
    examples = [[shapes[i], colours[i], words[i]] for i in range(3)]
    k = rng.randrange(3)
    other = rng.choice([i for i in range(3) if i != k])
    if rule == "shape":
        query = [shapes[k], colours[other]]
    else:
        query = [shapes[other], colours[k]]
    parts: list[dict[str, Any]] = [text_part("Here are three examples, each with its label. Work out the labelling rule.")]
    for i, (shape, colour, word) in enumerate(examples):
        s = rng.randint(28, 60)
        img = _single_shape(shape, colour, s, rng.randint(s + 8, _ICL_SIZE - s - 9), rng.randint(s + 8, _ICL_SIZE - s - 9))
        parts += [text_part(f"Example {i + 1}:"), image_part(save_png(img, media_dir, f"img_icl_mapping_{index:05d}_ex{i + 1}.png")),
                  text_part(f"Label: {word}")]
    s = rng.randint(28, 60)
    qimg = _single_shape(query[0], query[1], s, rng.randint(s + 8, _ICL_SIZE - s - 9), rng.randint(s + 8, _ICL_SIZE - s - 9))
    parts += [text_part("Now this image:"), image_part(save_png(qimg, media_dir, f"img_icl_mapping_{index:05d}_query.png")),
              text_part("What is its label, following the same rule? Answer with the label only.")]
    return GeneratedCase(category="in_context_learning", input=user(*parts),
                         reference={"kind": "exact", "answer": words[k]},
                         tags=["in-context-learning", "multi-image", f"rule-{rule}"],
                         truth={"rule": rule, "examples": examples, "query": query})
