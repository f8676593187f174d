"""Seeded, composable perturbations of images and videos, for robustness cases.

The report tested whether models still see what is in a picture under Gaussian
noise, rain, strong light, backlight, overlaid text and fog, and what they say
about a blank image. A *perturbation* here is a plain callable

    p(img: np.ndarray (H x W x 3, uint8), rng: np.random.Generator) -> np.ndarray

returning an image of the same shape and dtype. All randomness comes from
``rng``, so a perturbed file is a pure function of (source, perturbation, seed):
suites can be rebuilt byte for byte and a case's hash stays put.

Perturbations are built by factories (``rain(density=0.03)``), combined with
:func:`compose`, or parsed from a spec string such as
``"noise:sigma=30+rain:density=0.03"`` (the form the CLI takes). The factories
are looked up by name in ``PERTURBATIONS`` (the one registry); a new one is a
factory plus one line, ``PERTURBATIONS.register("sepia", "my_module:sepia")``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ...registry import Registry, with_hint

__all__ = [
    "PERTURBATIONS", "Perturbation", "PerturbationError", "apply_image", "apply_video", "backlight", "blank",
    "build_robustness_suite", "compose", "derive_variants", "fog", "gaussian_noise", "load_rgb", "overexpose",
    "parse_perturbation", "rain", "text_noise",
]

Color = tuple[int, int, int]


class PerturbationError(ValueError):
    """A perturbation spec or parameter is wrong; the message says which and how."""


@dataclass(frozen=True)
class Perturbation:
    """A named perturbation: callable as ``p(img, rng)``. ``spec`` is the full,
    re-parsable description (every parameter written out), which is what goes
    into a derived case's metadata so it can be reproduced."""

    name: str
    params: dict[str, Any] = field(compare=False)
    fn: Callable[[np.ndarray, np.random.Generator], np.ndarray] = field(compare=False, repr=False)
    stages: tuple[Perturbation, ...] = field(default=(), compare=False, repr=False)

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_image(img)
        out = self.fn(img, rng)
        if out.shape != img.shape or out.dtype != np.uint8:
            raise AssertionError(f"perturbation {self.name} returned {out.shape} {out.dtype}, not {img.shape} uint8")
        return out

    @property
    def spec(self) -> str:
        if self.stages:
            return "+".join(s.spec for s in self.stages)
        if not self.params:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={_format_value(v)}" for k, v in self.params.items())

    def __str__(self) -> str:
        return self.spec


def _check_image(img: np.ndarray) -> None:
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        what = f"{img.shape} {img.dtype}" if isinstance(img, np.ndarray) else type(img).__name__
        raise PerturbationError(f"perturbations take H x W x 3 uint8 RGB arrays, got {what}")


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _positive(name: str, value: float, *, zero_ok: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise PerturbationError(f"{name} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not zero_ok):
        raise PerturbationError(f"{name} must be {'>= 0' if zero_ok else '> 0'}, got {value}")
    return float(value)


def _unit(name: str, value: float) -> float:
    _positive(name, value, zero_ok=True)
    if value > 1:
        raise PerturbationError(f"{name} must be between 0 and 1, got {value}")
    return float(value)


def _color(name: str, value: Sequence[int]) -> Color:
    try:
        c = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise PerturbationError(f"{name} must be three integers 0-255, got {value!r}") from None
    if len(c) != 3 or not all(0 <= v <= 255 for v in c):
        raise PerturbationError(f"{name} must be three integers 0-255, got {value!r}")
    return c  # type: ignore[return-value]


def _luminance(f: np.ndarray) -> np.ndarray:
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    return t * t * (3 - 2 * t)


# ------------------------------------------------------------------ factories


def gaussian_noise(sigma: float = 25.0) -> Perturbation:
    """Additive zero-mean Gaussian noise of standard deviation ``sigma`` (in 0-255
    units) on every channel independently: sensor noise, the report's first
    robustness probe. The mean is kept except where values clip at 0 or 255."""
    sigma = _positive("sigma", sigma, zero_ok=True)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
        return _to_uint8(img.astype(np.float32) + noise)

    return Perturbation("noise", {"sigma": sigma}, fn)


def rain(density: float = 0.02, length: int = 18, angle_deg: float = -15.0, brightness: int = 200) -> Perturbation:
    """Rain streaks: thin one-pixel lines ``length`` px long (each 60-100% of it),
    slanted ``angle_deg`` from vertical, blended 60-100% toward grey level
    ``brightness``. ``density`` is the share of pixels the streaks cover, so
    the look does not change with the image size."""
    density = _unit("density", density)
    length = int(_positive("length", length))
    if not isinstance(brightness, int) or isinstance(brightness, bool) or not 0 <= brightness <= 255:
        raise PerturbationError(f"brightness must be an integer 0-255, got {brightness!r}")
    a = math.radians(float(angle_deg))
    dx, dy = math.sin(a), math.cos(a)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        n = int(round(density * h * w / length))
        if n == 0:
            return img.copy()
        x0 = rng.uniform(-length, w + length, n)
        y0 = rng.uniform(-length, h, n)
        lens = rng.uniform(0.6, 1.0, n) * length
        alpha = rng.uniform(0.6, 1.0, n).astype(np.float32)
        t = np.arange(length, dtype=np.float64)[None, :] * (lens[:, None] / length)
        xs = np.rint(x0[:, None] + t * dx).astype(np.int64)
        ys = np.rint(y0[:, None] + t * dy).astype(np.int64)
        al = np.broadcast_to(alpha[:, None], xs.shape)
        ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        mask = np.zeros((h, w), np.float32)
        np.maximum.at(mask, (ys[ok], xs[ok]), al[ok])
        f = img.astype(np.float32)
        return _to_uint8(f + (brightness - f) * mask[..., None])

    return Perturbation("rain", {"density": density, "length": length, "angle_deg": float(angle_deg),
                                 "brightness": brightness}, fn)


def fog(strength: float = 0.5, color: Sequence[int] = (200, 200, 200)) -> Perturbation:
    """Haze: the image blended toward a light grey, most at the top (far away in
    most photographs) and half as much at the bottom, with soft seeded patches.
    Lowers contrast everywhere; ``strength`` is the blend weight at the top."""
    strength = _unit("strength", strength)
    c = np.array(_color("color", color), np.float32)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        depth = 1.0 - 0.5 * np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]  # 1 at the top, 0.5 at the bottom
        patches = rng.uniform(-1.0, 1.0, (4, 4)).astype(np.float32)
        patches = np.asarray(Image.fromarray(patches, mode="F").resize((w, h), Image.Resampling.BILINEAR))
        weight = np.clip(strength * depth * (1.0 + 0.2 * patches), 0.0, 1.0)[..., None]
        return _to_uint8(img.astype(np.float32) * (1 - weight) + c * weight)

    return Perturbation("fog", {"strength": strength, "color": tuple(int(v) for v in c)}, fn)


def overexpose(gain: float = 2.2) -> Perturbation:
    """Strong light: exposure multiplied by ``gain`` in linear light (sRGB-ish
    gamma 2.2), so highlights blow out to white first, as in an over-exposed
    photo. Deterministic: ``rng`` is not used."""
    gain = _positive("gain", gain)
    x = np.arange(256, dtype=np.float64) / 255.0
    lut = _to_uint8(np.clip(x ** 2.2 * gain, 0.0, 1.0) ** (1 / 2.2) * 255.0)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return lut[img]

    return Perturbation("overexpose", {"gain": gain}, fn)


def backlight(strength: float = 0.85) -> Perturbation:
    """Backlight: a light source behind the scene (placed by the seed near the
    top) floods the frame with glare while the camera, exposing for the light,
    leaves everything else underexposed, so the subject turns toward a
    silhouette. Already-bright parts (sky, windows) stay bright and bloom."""
    strength = _unit("strength", strength)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        f = img.astype(np.float32) / 255.0
        lum = _luminance(f)[..., None]
        dark = f * (1.0 - 0.75 * strength)  # the subject, underexposed
        bright = _smoothstep(0.45, 0.85, lum) * strength  # highlights bloom rather than darken
        out = dark * (1.0 - bright) + (1.0 - (1.0 - f) * (1.0 - strength)) * bright
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(-0.1, 0.2) * h
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        sigma = 0.3 * max(h, w)
        glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))[..., None] * (0.9 * strength)
        out = 1.0 - (1.0 - out) * (1.0 - glow)  # screen blend: light adds, never darkens
        return _to_uint8(out * 255.0)

    return Perturbation("backlight", {"strength": strength}, fn)


_WORDS = (
    "dog", "cat", "car", "tree", "STOP", "sale", "banana", "exit", "house", "bird", "open", "free", "clock",
    "apple", "horse", "boat", "phone", "train", "pizza", "chair", "OK", "no", "yes", "left", "right", "zebra",
    "red", "blue", "green", "sky", "water", "fire", "robot", "moon", "star", "book",
)


@functools.lru_cache(maxsize=32)
def _font(size: int, path: str | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (or ``path``), with the basic layout engine: Raqm,
    where installed, can shape text differently, and outputs must not depend on
    which libraries a machine happens to have."""
    if path:
        return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    font = ImageFont.load_default(size=size)
    if isinstance(font, ImageFont.FreeTypeFont):
        font = font.font_variant(layout_engine=ImageFont.Layout.BASIC)
    return font


def text_noise(n: int = 12, words: Sequence[str] | None = None, size: int = 0, font: str | None = None) -> Perturbation:
    """``n`` words overlaid at seeded positions and colours: distracting text, which
    models tend to read and repeat. Words are drawn by the seed from ``words``
    (default: common nouns, some of them misleading, like "dog" on a cat).
    ``size`` is the font size in px (0: a fourteenth of the shorter side);
    ``font`` a TrueType file (default: Pillow's bundled font)."""
    n = int(_positive("n", n, zero_ok=True))
    vocab = tuple(words) if words else _WORDS
    if not all(isinstance(wd, str) and wd for wd in vocab):
        raise PerturbationError("words must be non-empty strings")
    size = int(_positive("size", size, zero_ok=True))
    if font is not None and not Path(font).is_file():
        raise PerturbationError(f"font file not found: {font}")

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        px = size or max(10, round(min(h, w) / 14))
        ft = _font(px, font)
        im = Image.fromarray(img)
        draw = ImageDraw.Draw(im)
        for _ in range(n):
            word = vocab[int(rng.integers(len(vocab)))]
            left, top, right, bottom = draw.textbbox((0, 0), word, font=ft)
            x = rng.uniform(0, max(1.0, w - (right - left))) - left
            y = rng.uniform(0, max(1.0, h - (bottom - top))) - top
            color = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.text((float(x), float(y)), word, fill=color, font=ft)
        return np.asarray(im, dtype=np.uint8).copy()

    params: dict[str, Any] = {"n": n}
    if words:
        params["words"] = vocab
    if size:
        params["size"] = size
    if font:
        params["font"] = font
    return Perturbation("text", params, fn)


def blank(color: Sequence[int] = (255, 255, 255)) -> Perturbation:
    """Replace the picture with one flat colour (default white): the report's
    blank-image probe, where a good model says there is nothing to see."""
    c = np.array(_color("color", color), np.uint8)

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.broadcast_to(c, img.shape).copy()

    return Perturbation("blank", {"color": tuple(int(v) for v in c)}, fn)


def compose(*ps: Perturbation | Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> Perturbation:
    """Apply ``ps`` left to right: ``compose(a, b)`` is ``b(a(img))``, the order a
    spec ``"a+b"`` reads in. Order matters (noise then blank is blank; blank then
    noise is noise). Each stage gets its own generator, seeded from ``rng``, so a
    stage's randomness does not depend on how much the stages before it drew."""
    if not ps:
        raise PerturbationError("compose needs at least one perturbation")
    stages = tuple(p if isinstance(p, Perturbation) else
                   Perturbation(getattr(p, "__name__", "custom"), {}, p) for p in ps)
    if len(stages) == 1:
        return stages[0]

    def fn(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seeds = rng.integers(0, 2**63, size=len(stages))
        for stage, s in zip(stages, seeds, strict=True):
            img = stage(img, np.random.default_rng(int(s)))
        return img

    return Perturbation("+".join(s.name for s in stages), {}, fn, stages)


#: Factories by name; a factory's keyword parameters are what a spec may set.
#: Aliases are other names people reach for (the report's wording among them);
#: specs and metadata always use the canonical name.
PERTURBATIONS: Registry[Callable[..., Perturbation]] = Registry("perturbation", error=PerturbationError)
PERTURBATIONS.register("noise", gaussian_noise, aliases=("gaussian_noise", "gaussian"))
PERTURBATIONS.register("rain", rain)
PERTURBATIONS.register("fog", fog, aliases=("haze",))
PERTURBATIONS.register("overexpose", overexpose, aliases=("strong_light", "light"))
PERTURBATIONS.register("backlight", backlight)
PERTURBATIONS.register("text", text_noise, aliases=("text_noise",))
PERTURBATIONS.register("blank", blank, aliases=("white",))

# ------------------------------------------------------------------ parsing

_NAMED_COLORS: dict[str, Color] = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128),
                                   "gray": (128, 128, 128)}


def _format_value(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 3 and all(isinstance(x, int) for x in v):
        return "#{:02x}{:02x}{:02x}".format(*v)
    if isinstance(v, (tuple, list)):
        return "/".join(str(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def _parse_value(name: str, key: str, raw: str, default: Any) -> Any:
    where = f"{name}: {key}"
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise PerturbationError(f"{where} must be true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise PerturbationError(f"{where} must be an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise PerturbationError(f"{where} must be a number, got {raw!r}") from None
    if isinstance(default, tuple) and len(default) == 3:  # a colour
        r = raw.lower()
        if r in _NAMED_COLORS:
            return _NAMED_COLORS[r]
        m = re.fullmatch(r"#?([0-9a-f]{6})", r)
        if m:
            return tuple(int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4))
        bits = raw.split("/")
        if len(bits) == 3 and all(b.strip().isdigit() for b in bits):
            return tuple(int(b) for b in bits)
        raise PerturbationError(f"{where} must be a colour: #rrggbb, r/g/b or one of {', '.join(_NAMED_COLORS)}; "
                                f"got {raw!r}")
    if key == "words":
        return tuple(wd for wd in raw.split("/") if wd)
    return raw


def parse_perturbation(spec: str) -> Perturbation:
    """Build a perturbation from ``"name[:key=value,...][+name...]"``, e.g.
    ``"noise:sigma=30+rain:density=0.03"`` (applied left to right). Colours are
    ``#rrggbb``, ``r/g/b`` or white/black/grey; word lists are ``a/b/c``."""
    if not isinstance(spec, str) or not spec.strip():
        raise PerturbationError("empty perturbation spec (e.g. 'noise', 'rain:density=0.03', 'fog+noise:sigma=10')")
    stages = []
    for chunk in spec.split("+"):
        chunk = chunk.strip()
        if not chunk:
            raise PerturbationError(f"empty perturbation in {spec!r} (two '+' in a row, or one at an end?)")
        name, _, rest = chunk.partition(":")
        name = name.strip().lower()
        factory = PERTURBATIONS.get(name)
        name = PERTURBATIONS.canonical(name)
        params = inspect.signature(factory).parameters
        kwargs: dict[str, Any] = {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, eq, raw = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise PerturbationError(f"{name}: expected key=value, got {item!r}")
            if key not in params:
                raise PerturbationError(f"{with_hint(f'{name}: unknown parameter {key!r}', key, params)} "
                                        f"(parameters: {', '.join(params) or 'none'})")
            if key in kwargs:
                raise PerturbationError(f"{name}: parameter {key!r} given twice")
            kwargs[key] = _parse_value(name, key, raw.strip(), params[key].default)
        try:
            stages.append(factory(**kwargs))
        except PerturbationError as e:
            raise PerturbationError(f"{name}: {e}") from None
    return compose(*stages)


# ------------------------------------------------------------------ files


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as H x W x 3 uint8. Transparency is composited on white,
    which is how viewers (and most model front-ends) show it."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(bg, rgba).convert("RGB"), dtype=np.uint8).copy()
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _save_image(arr: np.ndarray, dst: Path, quality: int) -> None:
    """Write atomically; the format follows the suffix. Pillow writes no
    timestamps, so the bytes depend only on the pixels."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}.get(dst.suffix.lower())
    if fmt is None:
        raise PerturbationError(f"{dst}: unsupported image type (use .png, .jpg or .webp)")
    opts: dict[str, Any] = {"quality": quality} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        Image.fromarray(arr).save(tmp, format=fmt, **opts)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def apply_image(src: str | Path, dst: str | Path, p: Perturbation | Callable, seed: int, *,
                quality: int = 90) -> Path:
    """Perturb the image ``src`` into ``dst`` (PNG, JPEG at ``quality``, or lossless
    WebP, by suffix). The same ``seed`` gives byte-identical files."""
    dst = Path(dst)
    arr = load_rgb(src)
    out = compose(p)(arr, np.random.default_rng(seed))
    _save_image(out, dst, quality)
    return dst


def _frames_rgb(path: Path) -> Iterator[np.ndarray]:
    """Every frame of ``path`` as RGB, padded by edge replication to even sides
    (H.264 4:2:0 needs them)."""
    import av

    from .video import MediaError, _open, _reason, _video_stream

    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.codec_context.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                arr = frame.to_ndarray(format="rgb24")
                h, w = arr.shape[:2]
                if h % 2 or w % 2:
                    arr = np.pad(arr, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
                yield arr
        except av.FFmpegError as e:
            raise MediaError(f"cannot decode {path}: {_reason(e)}") from None


def apply_video(src: str | Path, dst: str | Path, p: Perturbation | Callable, seed: int,
                fps: int | None = None) -> Path:
    """Perturb every frame of ``src`` and encode the result to ``dst`` (H.264 mp4
    via :func:`encode_video`, deterministic). Frame ``i`` gets the generator
    ``default_rng([seed, i])``: independent per frame, and the same however the
    frames are processed. ``fps`` defaults to the source's mean rate, rounded;
    a variable-frame-rate source comes out at that constant rate."""
    from .encode import encode_video
    from .video import probe_video

    src, dst = Path(src), Path(dst)
    if fps is None:
        fps = max(1, round(probe_video(src).fps))
    perturb = compose(p)

    def frames() -> Iterator[np.ndarray]:
        for i, arr in enumerate(_frames_rgb(src)):
            yield perturb(arr, np.random.default_rng([seed, i]))

    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        encode_video(frames(), tmp, fps=fps)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


# ------------------------------------------------------------------ cases


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "x"


def _variant_id(orig: str, name: str) -> str:
    """``<orig>:<slug of the spec>``. Case ids allow only letters, digits and
    ``. _ : / -`` (so no ``~``, ``=`` or ``+``), and at most 200 characters;
    a longer one ends in a digest of the spec instead."""
    vid = f"{orig}:{_slug(name)}"
    if len(vid) > 200:
        vid = f"{orig[:189]}:{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    return vid


def _media_parts(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The image and video parts of a case-file object, in order (the objects
    themselves, so a copy's parts can be rewritten in place)."""
    messages = case.get("input")
    if not isinstance(messages, list):
        return []
    return [part for msg in messages if isinstance(msg, dict) and isinstance(msg.get("content"), list)
            for part in msg["content"] if isinstance(part, dict) and part.get("type") in ("image", "video")]


def derive_variants(case: dict[str, Any], base: Path, names: list[str], seed: int, out_media_dir: Path, *,
                    relative_to: Path | None = None) -> list[dict[str, Any]]:
    """One perturbed copy of ``case`` (a case-file JSON object) per perturbation
    spec in ``names``.

    Each copy keeps the cell, category and reference, so its verdicts can be set
    against the original's (the report measured the cost of noise and lighting
    on the same questions). It gets the id ``<orig id>:<spec slug>``, every image
    and video part rewritten to a perturbed file in ``out_media_dir`` (images as
    PNG, videos as mp4, named after the case, the spec and the part) with its
    sha256, the tag ``perturbed`` and metadata ``perturbation`` (the spec as
    given), ``perturbation_seed`` and ``original`` (the original id); a generated
    case's variants also get ``original_media`` (see :func:`_original_media`). Media paths
    are resolved against ``base`` (the original case file's folder; ``pkg:``
    paths work) and written relative to ``relative_to`` (the folder of the case
    file the variants will be saved in) or, without it, as absolute paths.
    Every part gets ``seed`` itself, so ``apply_image(src, dst,
    parse_perturbation(spec), seed)`` reproduces a file from the metadata alone.
    A case without images or videos yields no variants."""
    from ..loader import resolve_media
    from .video import MediaError

    orig_id = case.get("id")
    if not isinstance(orig_id, str) or not orig_id:
        raise PerturbationError("case has no id")
    if not _media_parts(case):
        return []
    parsed = [(name, parse_perturbation(name)) for name in names]
    out_media_dir = Path(out_media_dir)

    def where(dst: Path) -> str:
        rel = os.path.relpath(dst.resolve(), Path(relative_to).resolve()) if relative_to is not None else dst.resolve()
        return str(rel).replace(os.sep, "/")

    originals = _original_media(case, Path(base), orig_id, out_media_dir, where)
    variants = []
    for name, p in parsed:
        new = json.loads(json.dumps(case))  # a deep copy that keeps the JSON shape exactly
        new["id"] = _variant_id(orig_id, name)
        for k, part in enumerate(_media_parts(new)):
            src = resolve_media(Path(base), part["path"])
            if not src.is_file():
                raise MediaError(f"{src}: no such file (case {orig_id})")
            stem = f"{_slug(orig_id.replace('/', '_'))}--{_slug(name)}--{k}"
            if part["type"] == "image":
                dst = apply_image(src, out_media_dir / f"{stem}.png", p, seed)
            else:
                dst = apply_video(src, out_media_dir / f"{stem}.mp4", p, seed)
            part["path"] = where(dst)
            part["sha256"] = hashlib.sha256(dst.read_bytes()).hexdigest()
        meta = dict(new.get("metadata") or {})
        tags = list(meta.get("tags") or [])
        if "perturbed" not in tags:
            tags.append("perturbed")
        meta.update(tags=tags, perturbation=name, perturbation_seed=seed, original=orig_id)
        if originals:
            meta["original_media"] = originals
        new["metadata"] = meta
        variants.append(new)
    return variants


def _original_media(case: dict[str, Any], base: Path, orig_id: str, out_media_dir: Path,
                    where: Callable[[Path], str]) -> list[dict[str, str]]:
    """For a generated case: copies of the original's media next to the variants,
    as ``[{"type", "path", "sha256"}]`` in part order. ``verify_case`` re-derives a
    variant's answer from these (the perturbed pixels may no longer show it), and
    they live in the variants' own folder, where a case may read media."""
    from ..loader import resolve_media

    if not (case.get("metadata") or {}).get("generator"):
        return []
    out = []
    for k, part in enumerate(_media_parts(case)):
        src = resolve_media(base, part["path"])
        data = src.read_bytes()
        dst = out_media_dir / f"{_slug(orig_id.replace('/', '_'))}--original--{k}{src.suffix.lower()}"
        if not (dst.is_file() and dst.read_bytes() == data):
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
        out.append({"type": part["type"], "path": where(dst), "sha256": hashlib.sha256(data).hexdigest()})
    return out


# ------------------------------------------------------------------ the built-in robustness cases

_SUITE_SEED = 2401_15071  # the report's arXiv number: any fixed value works, this one is easy to trace
_MAX_SIDE = 448
_MAX_BYTES = 150_000
_PHOTO_LICENSES = {
    "chelsea.png": "CC0 (photographer Stefan van der Walt)",
    "coffee.png": "CC0 (photographer Rachel Michetti, courtesy of Pikolo Espresso Bar)",
    "astronaut.png": "public domain (NASA)",
    "rocket.jpg": "public domain (SpaceX)",
    "coins.png": "no known copyright restrictions (Brooklyn Museum)",
    "horse.png": "CC0 (Andreas Preuss, openclipart)",
    "camera.png": "CC0 (photographer Lav Varshney)",
    "page.png": "BSD-3-Clause (scikit-image)",
}
_ANIMAL_WORDS = ("dog", "cow", "cat", "zebra", "deer", "sheep", "STOP", "sale", "exit", "open", "car", "tree")
_JOB_WORDS = ("chef", "doctor", "nurse", "pilot", "police", "farmer", "teacher", "STOP", "sale", "open", "UK", "CANADA")
_ABSENT_KEYWORDS = ["blank", "nothing", "empty image", "empty picture", "image is empty", "picture is empty",
                    "plain white", "solid white", "entirely white", "completely white", "all white", "only white",
                    "no object", "no main object", "no content", "no visible"]


def _robustness_specs() -> list[dict[str, Any]]:
    """The cases: photo, perturbation, question, reference, tags. Each checks
    something the unperturbed photo makes obvious, so a wrong answer is the
    perturbation's doing. Questions repeat across perturbations on purpose (the
    cat under noise and under backlight) so their costs can be compared."""
    animal = "What animal is in this photo? Answer with one word."
    return [
        {"photo": "chelsea.png", "p": "noise:sigma=40", "tags": ["gaussian-noise", "recognition"],
         "q": animal, "ref": {"kind": "exact", "answer": "cat", "aliases": ["kitten", "tabby", "kitty", "tabby cat"]}},
        {"photo": "coffee.png", "p": "rain:density=0.05,length=24", "tags": ["rain", "recognition"],
         "q": "What drink is in the cup?\nA. orange juice\nB. coffee\nC. milk\nD. red wine\nAnswer with the letter.",
         "ref": {"kind": "choice", "options": ["orange juice", "coffee", "milk", "red wine"], "answer": "B"}},
        {"photo": "astronaut.png", "p": "overexpose:gain=3", "tags": ["strong-light", "recognition", "person"],
         "q": "Judging by her clothing, what is this person's job? Answer with one word.",
         "ref": {"kind": "exact", "answer": "astronaut", "aliases": ["cosmonaut", "spacewoman"]}},
        {"photo": "rocket.jpg", "p": "backlight:strength=0.85", "tags": ["backlight", "recognition"],
         "q": "What stands upright in the middle of the photo, between the towers? Answer with one word.",
         "ref": {"kind": "exact", "answer": "rocket", "aliases": ["rockets", "spacecraft", "launch vehicle",
                                                                   "Falcon 9"]}},
        {"photo": "coins.png", "p": "noise:sigma=50", "tags": ["gaussian-noise", "counting"],
         "q": "How many coins are in this image? End your reply with 'Answer: <number>'.",
         "ref": {"kind": "numeric", "answer": 24}},
        {"photo": "horse.png", "p": f"text:n=14,words={'/'.join(_ANIMAL_WORDS)}",
         "tags": ["text-noise", "abstract", "silhouette", "misleading-text"],
         "q": "The black shape is the silhouette of an animal. Which animal? Answer with one word.",
         "ref": {"kind": "exact", "answer": "horse", "aliases": ["pony", "stallion", "mare", "foal"]}},
        {"photo": "camera.png", "p": "fog:strength=0.7", "tags": ["fog", "action"],
         "q": "What is the man in the foreground doing?\nA. Filming or photographing with a camera on a tripod\n"
              "B. Looking through a telescope\nC. Painting at an easel\nD. Playing golf\nAnswer with the letter.",
         "ref": {"kind": "choice", "options": ["Filming or photographing with a camera on a tripod",
                                               "Looking through a telescope", "Painting at an easel", "Playing golf"],
                 "answer": "A"}},
        {"photo": "rocket.jpg", "p": "rain:density=0.04+fog:strength=0.45", "tags": ["rain", "fog", "scene"],
         "q": "What does this photo show?\nA. A rocket on a launch pad\nB. A lighthouse on a coast\n"
              "C. A factory chimney\nD. A radio mast in a field\nAnswer with the letter.",
         "ref": {"kind": "choice", "options": ["A rocket on a launch pad", "A lighthouse on a coast",
                                               "A factory chimney", "A radio mast in a field"], "answer": "A"}},
        {"photo": "astronaut.png", "p": f"text:n=12,words={'/'.join(_JOB_WORDS)}",
         "tags": ["text-noise", "misleading-text", "flag"],
         "q": "Which country's flag is on the left of the photo?\nA. United States\nB. United Kingdom\nC. Japan\n"
              "D. Canada\nAnswer with the letter.",
         "ref": {"kind": "choice", "options": ["United States", "United Kingdom", "Japan", "Canada"], "answer": "A"}},
        {"photo": "coffee.png", "p": "overexpose:gain=3.5", "tags": ["strong-light", "recognition"],
         "q": "What utensil lies on the saucer next to the cup? Answer with one word.",
         "ref": {"kind": "exact", "answer": "spoon", "aliases": ["teaspoon", "coffee spoon", "spoons"]}},
        {"photo": "page.png", "p": "noise:sigma=45", "tags": ["gaussian-noise", "ocr"],
         "q": "What is the heading at the top of this page? Reply with the heading only.",
         "ref": {"kind": "regex", "pattern": r"region[\s-]*based\s+segmentation"}},
        {"photo": "chelsea.png", "p": "backlight:strength=0.9", "tags": ["backlight", "recognition"],
         "q": animal, "ref": {"kind": "exact", "answer": "cat", "aliases": ["kitten", "tabby", "kitty", "tabby cat"]}},
        {"photo": None, "p": "blank", "tags": ["blank-image", "hallucination"],
         "q": "Describe the main object in this photo in one sentence.",
         "ref": {"kind": "acknowledge_absent", "keywords": _ABSENT_KEYWORDS}},
    ]


def _encode_case_image(arr: np.ndarray, dst: Path) -> None:
    """JPEG for photographs (PNG for flat images, where it is smaller and exact),
    lowering the quality from 85 until the file is under the size budget, so a
    suite stays small enough to ship inside the package."""
    if dst.suffix == ".png":
        _save_image(arr, dst, 0)
        return
    for quality in (85, 80, 75, 70, 65, 60):
        _save_image(arr, dst, quality)
        if dst.stat().st_size < _MAX_BYTES:
            return
    raise PerturbationError(f"{dst}: still {dst.stat().st_size} bytes at JPEG quality 60")


def build_robustness_suite(out_dir: Path) -> Path:
    """(Re)build the landscape suite's image robustness cases: perturbed copies of
    photographs scikit-image ships, downscaled to at most 448 px a side, written
    to ``out_dir/media/robustness/`` with the cases in ``out_dir/robustness.jsonl``
    (returned). Deterministic: the same library versions give the same bytes."""
    import skimage

    data = Path(next(iter(skimage.__path__))) / "data"
    out_dir = Path(out_dir)
    media = out_dir / "media" / "robustness"
    media.mkdir(parents=True, exist_ok=True)
    keep: set[str] = set()
    lines = []
    for i, spec in enumerate(_robustness_specs(), 1):
        photo, pspec = spec["photo"], spec["p"]
        p = parse_perturbation(pspec)
        if photo is None:  # a blank picture at a photograph's usual 4:3 shape
            src = np.zeros((_MAX_SIDE * 3 // 4, _MAX_SIDE, 3), np.uint8)
        else:
            im = Image.fromarray(load_rgb(data / photo))
            im.thumbnail((_MAX_SIDE, _MAX_SIDE), Image.Resampling.LANCZOS)
            src = np.asarray(im, dtype=np.uint8).copy()
        seed = _SUITE_SEED * 100 + i
        arr = p(src, np.random.default_rng(seed))
        kind = "-".join(_slug(s.split(":")[0]) for s in pspec.split("+"))
        blank_case = photo is None
        ext = ".png" if blank_case else ".jpg"
        name = f"robustness-{i:02d}-{kind}{ext}" if blank_case else f"robustness-{i:02d}-{Path(photo).stem}-{kind}{ext}"
        _encode_case_image(arr, media / name)
        keep.add(name)
        lines.append({
            "id": f"landscape/image-trust/robustness-{i:02d}",
            "cell": "image/trustworthiness",
            "category": "robustness",
            "input": [{"role": "user", "content": [{"type": "image", "path": f"media/robustness/{name}"},
                                                   {"type": "text", "text": spec["q"]}]}],
            "reference": spec["ref"],
            "metadata": {
                "source": "fourfold landscape suite" + ("" if blank_case else f"; photo: scikit-image data ({photo})"),
                "license": "Apache-2.0" if blank_case else f"Apache-2.0 (case); photo: {_PHOTO_LICENSES[photo]}, "
                                                           "shipped with scikit-image",
                "tags": ["robustness", *spec["tags"]],
                "perturbation": pspec,
                "perturbation_seed": seed,
            },
        })
    for stale in media.glob("robustness-*"):
        if stale.name not in keep:
            stale.unlink()
    out = out_dir / "robustness.jsonl"
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
