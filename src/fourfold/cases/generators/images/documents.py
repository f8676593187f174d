"""Documents and handwriting: a shop receipt, a table of scores, a handwritten sum."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .. import GeneratedCase, register
from ..kit.answers import NUM_SUFFIX, image_part, numeric, reference_problems, text_part, truth, user
from ..kit.colours import RGB
from .picture import first_image, load_font, save_png

_ITEMS = ("Coffee", "Green tea", "Bagel", "Croissant", "Orange juice", "Muffin", "Sandwich", "Salad", "Soup",
          "Cookie", "Water", "Yogurt", "Brownie", "Lemonade", "Pretzel", "Waffle")
_SHOPS = ("CORNER CAFE", "BLUE DOOR BAKERY", "MARKET STREET DELI", "SUNRISE DINER", "THE DAILY GRIND")
_STUDENTS = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun")
_SUBJECTS = ("Math", "Art", "Music", "History", "Biology", "Physics")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _receipt_answer(t: dict[str, Any]) -> float | str:
    items = t["items"]
    q = t["question"]
    if q == "total":
        return sum(it["qty"] * it["cents"] for it in items) / 100
    if q == "which":
        return next(it["name"] for it in items if it["cents"] == t["cents"])
    if q == "price":
        return items[t["i"]]["cents"] / 100
    if q == "count":
        return sum(it["qty"] for it in items)
    raise ValueError(f"unknown receipt question {q!r}")


def _verify_receipt(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    probs = reference_problems(case, _receipt_answer(t))
    if t["question"] == "which" and sum(it["cents"] == t["cents"] for it in t["items"]) != 1:
        probs.append("the asked-about price is not unique on the receipt")
    return probs + first_image(case, base)[1]


@register("image/generalizability", "img_receipt", verify=_verify_receipt)
def receipt(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A shop receipt (quantity, item, unit price, line total, TOTAL). No OCR is
    available offline, so ``verify`` recomputes the answer from the stored items."""
    n = rng.randint(3, 6)
    names = rng.sample(_ITEMS, n)
    cents = rng.sample(range(95, 1295, 5), n)
    items = [{"name": nm, "qty": rng.randint(1, 3), "cents": c} for nm, c in zip(names, cents, strict=True)]
    shop = rng.choice(_SHOPS)
    date = f"20{rng.randint(19, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    font = load_font(15, "DejaVuSansMono.ttf")
    bold = load_font(17, "DejaVuSansMono-Bold.ttf")
    w, line_h = 340, 22
    h = 40 + line_h * (n + 7)
    img = Image.new("RGB", (w, h), (252, 250, 242))
    draw = ImageDraw.Draw(img)
    y = 16
    draw.text((w // 2, y), shop, font=bold, fill=(20, 20, 20), anchor="mt")
    y += line_h + 4
    draw.text((w // 2, y), date, font=font, fill=(60, 60, 60), anchor="mt")
    y += line_h
    draw.text((16, y), "-" * 34, font=font, fill=(90, 90, 90))
    y += line_h
    for it in items:
        draw.text((16, y), f"{it['qty']} x {it['name']}", font=font, fill=(20, 20, 20))
        draw.text((224, y), _money(it["cents"]), font=font, fill=(20, 20, 20), anchor="ra")
        draw.text((w - 16, y), _money(it["qty"] * it["cents"]), font=font, fill=(20, 20, 20), anchor="ra")
        y += line_h
    draw.text((16, y), "-" * 34, font=font, fill=(90, 90, 90))
    y += line_h
    total = sum(it["qty"] * it["cents"] for it in items)
    draw.text((16, y), "TOTAL", font=bold, fill=(0, 0, 0))
    draw.text((w - 16, y), _money(total), font=bold, fill=(0, 0, 0), anchor="ra")
    y += line_h + 6
    draw.text((w // 2, y), "THANK YOU!", font=font, fill=(60, 60, 60), anchor="mt")
    path = save_png(img, media_dir, f"img_receipt_{index:05d}.png")
    q = rng.choice(["total", "which", "price", "count"])
    t: dict[str, Any] = {"question": q, "items": items, "shop": shop, "date": date}
    if q == "total":
        text = "What is the total amount on this receipt?" + NUM_SUFFIX
        ref = numeric(total / 100, 0.005)
    elif q == "which":
        it = rng.choice(items)
        t["cents"] = it["cents"]
        text = f"Which item on this receipt has a unit price of {_money(it['cents'])}? Answer with the item name only."
        ref = {"kind": "exact", "answer": it["name"]}
    elif q == "price":
        t["i"] = rng.randrange(n)
        text = f"What is the unit price of {items[t['i']]['name']} on this receipt?" + NUM_SUFFIX
        ref = numeric(items[t["i"]]["cents"] / 100, 0.005)
    else:
        text = "How many items were bought in total (add up the quantities)?" + NUM_SUFFIX
        ref = numeric(sum(it["qty"] for it in items))
    return GeneratedCase(category="ocr", input=user(image_part(path), text_part(text)), reference=ref,
                         tags=["document", "receipt", q], truth=t)


def _table_answer(t: dict[str, Any]) -> float | str:
    rows, subjects = t["rows"], t["subjects"]
    q = t["question"]
    if q == "cell":
        return rows[t["i"]]["scores"][t["j"]]
    if q == "best":
        col = [r["scores"][t["j"]] for r in rows]
        return rows[col.index(max(col))]["name"]
    if q == "sum":
        return sum(rows[t["i"]]["scores"])
    raise ValueError(f"unknown table question {q!r} over {subjects}")


def _verify_table(case: dict[str, Any], base: Path) -> list[str]:
    t = truth(case)
    probs = reference_problems(case, _table_answer(t))
    if t["question"] == "best":
        col = [r["scores"][t["j"]] for r in t["rows"]]
        if col.count(max(col)) != 1:
            probs.append("the best score is tied")
    return probs + first_image(case, base)[1]


@register("image/generalizability", "img_score_table", verify=_verify_table)
def score_table(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """A ruled table of students' scores: read a cell, find a column's maximum, or
    add up a row (reading plus a little arithmetic)."""
    n = rng.randint(4, 6)
    k = 3
    names = rng.sample(_STUDENTS, n)
    subjects = rng.sample(_SUBJECTS, k)
    rows = [{"name": nm, "scores": [rng.randint(40, 100) for _ in range(k)]} for nm in names]
    font = load_font(15)
    bold = load_font(15, "DejaVuSans-Bold.ttf")
    col_w = [110, 90, 90, 90]
    row_h = 30
    x0, y0 = 14, 14
    w = x0 * 2 + sum(col_w)
    h = y0 * 2 + row_h * (n + 1)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((x0, y0, w - x0, y0 + row_h), fill=(222, 230, 242))
    for r in range(n + 2):
        draw.line([(x0, y0 + r * row_h), (w - x0, y0 + r * row_h)], fill=(90, 90, 90), width=1)
    xs = [x0]
    for cw in col_w:
        xs.append(xs[-1] + cw)
    for x in xs:
        draw.line([(x, y0), (x, y0 + (n + 1) * row_h)], fill=(90, 90, 90), width=1)
    header = ["Name", *subjects]
    for c, label in enumerate(header):
        draw.text(((xs[c] + xs[c + 1]) // 2, y0 + row_h // 2), label, font=bold, fill=(0, 0, 0), anchor="mm")
    for r, row in enumerate(rows, 1):
        cy = y0 + r * row_h + row_h // 2
        draw.text((xs[0] + 8, cy), row["name"], font=font, fill=(0, 0, 0), anchor="lm")
        for c, s in enumerate(row["scores"], 1):
            draw.text(((xs[c] + xs[c + 1]) // 2, cy), str(s), font=font, fill=(0, 0, 0), anchor="mm")
    path = save_png(img, media_dir, f"img_score_table_{index:05d}.png")
    q = rng.choice(["cell", "best", "sum"])
    t: dict[str, Any] = {"question": q, "rows": rows, "subjects": subjects}
    if q == "best":
        t["j"] = rng.randrange(k)
        col = [r["scores"][t["j"]] for r in rows]
        if col.count(max(col)) > 1:
            q = t["question"] = "cell"
    if q == "cell":
        t["i"], t["j"] = rng.randrange(n), t.get("j", rng.randrange(k))
        text = f"In this table, what is {rows[t['i']]['name']}'s score in {subjects[t['j']]}?" + NUM_SUFFIX
        ref = numeric(rows[t["i"]]["scores"][t["j"]])
    elif q == "best":
        text = f"In this table, who has the highest score in {subjects[t['j']]}? Answer with the name only."
        ref = {"kind": "exact", "answer": _table_answer(t)}
    else:
        t["i"] = rng.randrange(n)
        text = f"In this table, what is the sum of {rows[t['i']]['name']}'s three scores?" + NUM_SUFFIX
        ref = numeric(sum(rows[t["i"]]["scores"]))
    return GeneratedCase(category="ocr", input=user(image_part(path), text_part(text)), reference=ref,
                         tags=["document", "table", q], truth=t)


_INK: RGB = (25, 35, 95)
_HAND_FONTS = ("DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSans.ttf", "DejaVuSansMono-Oblique.ttf")


def _arith(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _verify_handwritten(case: dict[str, Any], base: Path) -> list[str]:
    import numpy as np

    t = truth(case)
    probs = reference_problems(case, _arith(t["a"], t["op"], t["b"]))
    arr, err = first_image(case, base)
    if arr is None:
        return probs + err
    dark = (np.abs(arr.astype(int) - np.asarray(_INK)).sum(axis=-1) < 60).sum()
    if dark < 300:
        probs.append(f"almost no ink in the image ({dark} pixels)")
    return probs


@register("image/generalizability", "img_handwritten_math", verify=_verify_handwritten)
def handwritten_math(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """"37 + 48 =" written glyph by glyph with random size, rotation, thickness and
    offsets on ruled paper: reading it is the hard part, the sum is easy."""
    op = rng.choice(["+", "-", "×"])
    if op == "×":
        a, b = rng.randint(12, 49), rng.randint(3, 9)
    else:
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        if op == "-" and b > a:
            a, b = b, a
    text = f"{a} {op} {b} ="
    font_name = rng.choice(_HAND_FONTS)
    canvas = Image.new("L", (1000, 200), 0)
    x = 20
    for ch in text:
        if ch == " ":
            x += rng.randint(10, 22)
            continue
        size = rng.randint(54, 68)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        gd = ImageDraw.Draw(glyph)
        stroke = rng.randint(1, 3)
        gd.text((size, size), ch, font=load_font(size, font_name), fill=255, anchor="mm", stroke_width=stroke,
                stroke_fill=255)
        glyph = glyph.rotate(rng.uniform(-14, 14), resample=Image.Resampling.BICUBIC)
        shear = rng.uniform(-0.25, 0.1)
        glyph = glyph.transform(glyph.size, Image.Transform.AFFINE, (1, shear, -shear * size, 0, 1, 0),
                                resample=Image.Resampling.BICUBIC)
        box = glyph.getbbox()
        if box is None:
            continue
        glyph = glyph.crop(box)
        y = 100 - glyph.height // 2 + rng.randint(-9, 9)
        canvas.paste(glyph, (x, y), glyph)
        x += glyph.width + rng.randint(3, 12)
    box = canvas.getbbox() or (0, 0, 1, 1)
    canvas = canvas.crop((max(box[0] - 24, 0), max(box[1] - 24, 0), box[2] + 24, box[3] + 24))
    if canvas.width > 448:
        canvas = canvas.resize((448, max(1, round(canvas.height * 448 / canvas.width))), Image.Resampling.LANCZOS)
    paper = Image.new("RGB", canvas.size, (252, 251, 244))
    pd = ImageDraw.Draw(paper)
    for ly in range(12, canvas.height, 28):
        pd.line([(0, ly), (canvas.width, ly)], fill=(200, 215, 235), width=1)
    # Quantise the ink mask to a few levels: a handful of colours, a small PNG.
    levels = canvas.point(lambda v: min(255, (v // 64) * 85))
    paper.paste(Image.new("RGB", canvas.size, _INK), (0, 0), levels)
    path = save_png(paper, media_dir, f"img_handwritten_math_{index:05d}.png")
    question = "This is a handwritten calculation. What is its result?" + NUM_SUFFIX
    return GeneratedCase(category="ocr", input=user(image_part(path), text_part(question)),
                         reference=numeric(_arith(a, op, b)), tags=["handwriting", "math"],
                         truth={"a": a, "op": op, "b": b, "text": text, "font": font_name})
