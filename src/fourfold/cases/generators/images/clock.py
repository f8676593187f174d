"""Reading an analog clock; the reference is a regex accepting the time in digits or words."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from .. import GeneratedCase, register
from ..kit.answers import image_part, text_part, truth, user
from ..kit.blobs import exact_mask
from ..kit.colours import RGB
from .picture import first_image, load_font, save_png

if TYPE_CHECKING:
    import numpy as np


_HOUR_WORDS = ("twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")
_MINUTE_WORDS = {5: "five", 10: "ten", 15: "quarter", 20: "twenty", 25: "twenty-five", 30: "half"}
_TENS = {0: "", 1: "ten", 2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}
_ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_CLOCK_HOUR: RGB = (150, 20, 20)
_CLOCK_MINUTE: RGB = (20, 40, 140)


def _minutes_in_words(m: int) -> str:
    if m < 10:
        return f"oh {_ONES[m]}"
    if m < 20:
        teens = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                 "eighteen", "nineteen")
        return teens[m - 10]
    return (_TENS[m // 10] + (f"-{_ONES[m % 10]}" if m % 10 else "")).strip()


def time_pattern(h: int, m: int) -> str:
    """A regex accepting the time as H:MM (12- or 24-hour, optional leading zero,
    ':' or '.') or in words ("three forty", "twenty to four", "half past three")."""
    h12 = h % 12 or 12
    hours = {str(h12), f"{h12:02d}"} | ({str(h12 + 12)} if h12 != 12 else {"0", "00"})
    digits = rf"(?<![\d:.])(?:{'|'.join(sorted(hours, key=lambda s: (-len(s), s)))})[:.h]{m:02d}(?!\d)"
    hw = _HOUR_WORDS[h12 % 12]
    nxt = _HOUR_WORDS[(h12 + 1) % 12]
    words = []
    if m == 0:
        words.append(rf"{hw}\s*o['’]?\s*clock")
        words.append(rf"{hw}\s+sharp")
    else:
        spoken = _minutes_in_words(m).replace("-", r"[\s-]").replace(" ", r"[\s-]")
        words.append(rf"{hw}[\s-]{spoken}(?![\s-]*(?:one|two|three|four|five|six|seven|eight|nine)\b)")
    dash = r"[\s-]"
    if m in _MINUTE_WORDS:
        past = _MINUTE_WORDS[m].replace("-", dash)
        words.append(rf"(?<!twenty )(?<!twenty-)(?:a\s+)?{past}\s+past\s+{hw}\b")
    if 60 - m in _MINUTE_WORDS and m:
        to = _MINUTE_WORDS[60 - m].replace("-", dash)
        words.append(rf"(?<!twenty )(?<!twenty-)(?:a\s+)?{to}\s+(?:to|till|before)\s+{nxt}\b")
    return "|".join([digits, *[rf"\b{w}" for w in words]])


def _ray_angle(arr: np.ndarray, rgb: RGB, cx: float, cy: float, r0: float, r1: float) -> tuple[float, int]:
    """Clockwise angle from 12 o'clock (degrees) of the ray from (cx, cy) that meets
    the most pixels of colour ``rgb`` between radii r0 and r1, and that count."""
    import numpy as np

    theta = np.deg2rad(np.arange(0, 360, 0.5))[:, None]
    rad = np.linspace(r0, r1, 40)[None, :]
    xs = np.rint(cx + rad * np.sin(theta)).astype(int).clip(0, arr.shape[1] - 1)
    ys = np.rint(cy - rad * np.cos(theta)).astype(int).clip(0, arr.shape[0] - 1)
    hit = exact_mask(arr, rgb)[ys, xs].sum(axis=1)
    best = int(hit.max())
    if best == 0:
        return float("nan"), 0
    angles = np.arange(0, 360, 0.5)[hit == best]
    vec = np.exp(1j * np.deg2rad(angles)).sum()  # circular mean of the tied angles
    return float(np.rad2deg(np.angle(vec)) % 360), best


def _verify_clock(case: dict[str, Any], base: Path) -> list[str]:
    import re

    t = truth(case)
    h, m = t["hour"], t["minute"]
    probs: list[str] = []
    ref = case.get("reference") or {}
    canonical = f"{h}:{m:02d}"
    if ref.get("kind") != "regex" or not re.search(ref.get("pattern", "$^"), f"It is {canonical}.", re.I):
        probs.append(f"reference does not accept {canonical}")
    wrong = f"{h % 12 + 1}:{(m + 25) % 60:02d}"
    if ref.get("kind") == "regex" and re.search(ref["pattern"], f"It is {wrong}.", re.I):
        probs.append(f"reference also accepts the wrong time {wrong}")
    arr, err = first_image(case, base)
    if arr is None:
        return probs + err
    cx, cy, r = t["cx"], t["cy"], t["radius"]
    a_min, n_min = _ray_angle(arr, _CLOCK_MINUTE, cx, cy, 0.58 * r, 0.74 * r)
    a_hour, n_hour = _ray_angle(arr, _CLOCK_HOUR, cx, cy, 0.15 * r, 0.42 * r)
    if not n_min or not n_hour:
        return [*probs, "clock hands not found in the image"]
    mm = round(a_min / 6) % 60
    hh = round((a_hour - mm * 0.5) / 30) % 12
    if (mm, hh) != (m, h % 12):
        probs.append(f"hands read {hh or 12}:{mm:02d}, ground truth says {canonical}")
    exp_hour = ((h % 12) * 30 + m * 0.5) % 360
    for name, got, want in (("minute", a_min, m * 6.0), ("hour", a_hour, exp_hour)):
        if abs((got - want + 180) % 360 - 180) > 3:
            probs.append(f"{name} hand at {got:.1f} degrees, expected {want:.1f}")
    return probs


@register("image/generalizability", "img_clock", verify=_verify_clock)
def analog_clock(rng: random.Random, index: int, media_dir: Path) -> GeneratedCase:
    """An analog clock face at a random five-minute time. The hands have their
    own flat colours so ``verify`` can find their angles by casting rays."""
    h, m = rng.randint(1, 12), rng.randrange(0, 60, 5)
    size = 320
    cx = cy = size // 2
    r = 140
    face = rng.choice([(250, 248, 240), (255, 255, 255), (240, 244, 250)])
    img = Image.new("RGB", (size, size), rng.choice([(255, 255, 255), (230, 230, 230), (214, 226, 214)]))
    draw = ImageDraw.Draw(img)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=face, outline=(0, 0, 0), width=5)
    for k in range(60):
        a = math.radians(k * 6)
        r0 = r * (0.86 if k % 5 == 0 else 0.92)
        draw.line([(cx + r0 * math.sin(a), cy - r0 * math.cos(a)),
                   (cx + (r - 8) * math.sin(a), cy - (r - 8) * math.cos(a))],
                  fill=(0, 0, 0), width=4 if k % 5 == 0 else 1)
    numerals = rng.random() < 0.75
    if numerals:
        font = load_font(20, "DejaVuSans-Bold.ttf")
        for k in range(1, 13):
            a = math.radians(k * 30)
            draw.text((cx + 0.72 * r * math.sin(a), cy - 0.72 * r * math.cos(a)), str(k), font=font,
                      fill=(0, 0, 0), anchor="mm")
    am = math.radians(m * 6)
    ah = math.radians((h % 12) * 30 + m * 0.5)
    # Minute hand first, hour hand over it: the minute hand's outer part (beyond
    # the hour hand's length) always stays visible for verify.
    draw.line([(cx, cy), (cx + 0.8 * r * math.sin(am), cy - 0.8 * r * math.cos(am))], fill=_CLOCK_MINUTE, width=5)
    draw.line([(cx, cy), (cx + 0.5 * r * math.sin(ah), cy - 0.5 * r * math.cos(ah))], fill=_CLOCK_HOUR, width=9)
    draw.ellipse((cx - 7, cy - 7, cx + 7, cy + 7), fill=(0, 0, 0))
    path = save_png(img, media_dir, f"img_clock_{index:05d}.png")
    question = rng.choice([
        "What time does this clock show? Answer in the form H:MM.",
        "Read the time on this analog clock. Answer in the form H:MM.",
    ])
    return GeneratedCase(
        category="ocr",
        input=user(image_part(path), text_part(question)),
        reference={"kind": "regex", "pattern": time_pattern(h, m)},
        tags=["clock", "time", "numerals" if numerals else "no-numerals"],
        truth={"hour": h, "minute": m, "cx": cx, "cy": cy, "radius": r,
               "hour_hand_rgb": list(_CLOCK_HOUR), "minute_hand_rgb": list(_CLOCK_MINUTE)},
    )
