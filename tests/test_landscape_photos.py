"""The ``landscape/image_photos.jsonl`` cases: image cells built on the photographs
scikit-image and matplotlib ship (referenced as ``pkg:`` paths, never copied) and
on a few derived pictures committed under ``landscape/media/photos/``.

``build_photo_media`` is the only recipe for the derived pictures: crops, faces
from ``lfw_subset.npy``, a GIF frame, charts and maps from matplotlib's sample
data. It is deterministic (no randomness from a library, fixed PNG options, no
metadata), and a test checks the committed files are exactly what it builds.
To rebuild them after changing it::

    PYTHONPATH=src python tests/test_landscape_photos.py
"""

from __future__ import annotations

import functools
import importlib.util
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import missing_part
from fourfold.cases import load_file
from fourfold.cases.loader import resolve_media
from fourfold.cases.schema import Case, ImagePart

ROOT = Path(__file__).resolve().parents[1]
LANDSCAPE = ROOT / "src" / "fourfold" / "cases" / "suites" / "landscape"
CASE_FILE = LANDSCAPE / "image_photos.jsonl"
MEDIA = LANDSCAPE / "media" / "photos"

# Versions the committed media were built with. With the same versions the
# rebuild must be byte-identical; with others, Pillow-only pictures must still be
# pixel-identical, while matplotlib renderings (fonts, antialiasing) may differ.
BUILT_WITH = {"numpy": "2.4.6", "Pillow": "13.0.0", "matplotlib": "3.11.2", "scikit-image": "0.26.0"}
MATPLOTLIB_RENDERED = {"chart_stocks_january.png", "chart_msft_volume.png", "chart_goog_close.png",
                       "map_topobathy.png"}

MIN_GEN = {"recognition": 3, "localisation": 3, "ocr": 5, "expert_knowledge": 6, "embodied": 2, "emotion": 2,
           "non_photographic": 3, "multi_image": 5, "in_context_learning": 2}
MIN_TRUST = {"hallucination": 3, "privacy": 2, "safety": 3, "bias": 1, "benign": 2}


# ---------------------------------------------------------------- the builder


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def _clean(img: Image.Image) -> Image.Image:
    """A copy with no ``info`` (ICC profile, dpi, gamma...) so that saving writes pixels only."""
    return Image.fromarray(np.asarray(img))


def _save(out_dir: Path, name: str, img: Image.Image, written: dict[str, Path]) -> None:
    path = out_dir / name
    _clean(img).save(path, format="PNG", optimize=False, compress_level=9)
    written[name] = path


def _noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Approximately standard-normal noise from splitmix64 (sum of four uniforms),
    so that it does not depend on numpy's random streams."""
    n = int(np.prod(shape)) * 4
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return ((u.reshape(-1, 4).sum(axis=1) - 2.0) * np.sqrt(3.0)).reshape(shape)


def _figure_png(fig) -> Image.Image:
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return Image.fromarray(np.ascontiguousarray(rgba[:, :, :3]))


def _charts(out_dir: Path, written: dict[str, Path]) -> None:
    import csv
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    sample = Path(matplotlib.get_data_path()) / "sample_data"
    with plt.style.context("default"), matplotlib.rc_context({"font.size": 9}):
        # January values of three tickers, from Stocks.csv.
        years, series = [], {"AAPL": [], "MSFT": [], "IBM": []}
        with open(sample / "Stocks.csv", newline="") as f:
            rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
        header = rows[0]
        for r in rows[1:]:
            if r[0].endswith("-01-01") and 2010 <= int(r[0][:4]) <= 2022:
                years.append(int(r[0][:4]))
                for t in series:
                    series[t].append(float(r[header.index(t)]))
        fig, ax = plt.subplots(figsize=(4.48, 3.2), dpi=100)
        for (t, v), style in zip(series.items(), ("o-", "s--", "^:"), strict=True):
            ax.plot(years, v, style, label=t, markersize=4)
        ax.set_title("Share price in January (USD)")
        ax.set_xlabel("year")
        ax.set_ylabel("price (USD)")
        ax.set_xticks(years[::2])
        ax.grid(True, alpha=0.4)
        ax.legend(loc="upper left")
        fig.tight_layout()
        _save(out_dir, "chart_stocks_january.png", _figure_png(fig), written)
        plt.close(fig)

        # Microsoft's daily volume, 2-19 September 2003, from msft.csv.
        days = []
        with open(sample / "msft.csv", newline="") as f:
            for r in list(csv.reader(f))[1:]:
                d = dt.datetime.strptime(r[0], "%d-%b-%y").date()
                if dt.date(2003, 9, 2) <= d <= dt.date(2003, 9, 19):
                    days.append((d, int(r[5]) / 1e6))
        days.sort()
        fig, ax = plt.subplots(figsize=(4.48, 3.2), dpi=100)
        ax.bar(range(len(days)), [v for _, v in days], color="#4477aa")
        ax.set_xticks(range(len(days)), [d.strftime("%b %d") for d, _ in days], rotation=60)
        ax.set_title("MSFT shares traded per day, September 2003")
        ax.set_ylabel("volume (millions)")
        ax.grid(True, axis="y", alpha=0.4)
        fig.tight_layout()
        _save(out_dir, "chart_msft_volume.png", _figure_png(fig), written)
        plt.close(fig)

        # Google's daily close, 2004-2008, from goog.npz.
        goog = np.load(sample / "goog.npz")["price_data"]
        fig, ax = plt.subplots(figsize=(4.48, 3.2), dpi=100)
        ax.plot(goog["date"].astype("datetime64[D]").astype(object), goog["close"], lw=1)
        ax.set_title("GOOG daily closing price")
        ax.set_ylabel("close (USD)")
        ax.set_yticks(range(100, 801, 100))
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.grid(True, alpha=0.4)
        fig.tight_layout()
        _save(out_dir, "chart_goog_close.png", _figure_png(fig), written)
        plt.close(fig)

        # Topography and bathymetry, from topobathy.npz (rows run south to north).
        tb = np.load(sample / "topobathy.npz")
        topo = np.flipud(tb["topo"])
        lon, lat = tb["longitude"] - 360.0, tb["latitude"]
        sea = plt.get_cmap("terrain")(np.linspace(0.0, 0.17, 128))
        land = plt.get_cmap("terrain")(np.linspace(0.25, 1.0, 128))
        cmap = LinearSegmentedColormap.from_list("landsea", np.vstack([sea, land]))
        fig, ax = plt.subplots(figsize=(4.48, 2.9), dpi=100)
        im = ax.imshow(topo, extent=(float(lon[0]), float(lon[-1]), float(lat[0]), float(lat[-1])), cmap=cmap,
                       norm=TwoSlopeNorm(vcenter=0.0, vmin=-1500.0, vmax=2200.0), aspect=1.52)
        fig.colorbar(im, ax=ax, label="elevation (m)")
        ax.set_xlabel("longitude (degrees)")
        ax.set_ylabel("latitude (degrees)")
        fig.tight_layout()
        _save(out_dir, "map_topobathy.png", _figure_png(fig), written)
        plt.close(fig)


def build_photo_media(out_dir: Path) -> dict[str, Path]:
    """Write every derived picture the photo cases use into ``out_dir``; returns name -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    skdata = _package_dir("skimage") / "data"

    # Faces and non-faces from the LFW subset (25 x 25 grey, values 0..1; 0-99 faces, 100-199 not).
    lfw = np.load(skdata / "lfw_subset.npy", allow_pickle=False)
    for i in (1, 18, 26, 46, 52, 60, 63, 74, 106, 175, 186):
        kind = "face" if i < 100 else "nonface"
        small = Image.fromarray(np.round(lfw[i] * 255).astype(np.uint8))
        _save(out_dir, f"lfw_{kind}_{i:03d}.png", small.resize((150, 150), Image.Resampling.BICUBIC), written)

    with Image.open(skdata / "astronaut.png") as f:
        astronaut = _clean(f.convert("RGB"))
    # The STS-93 mission patch on the suit, enlarged.
    patch = astronaut.crop((128, 343, 214, 429)).resize((258, 258), Image.Resampling.LANCZOS)
    _save(out_dir, "astronaut_patch.png", patch, written)
    # A four-piece jigsaw, shown in the order bottom-right, top-left, bottom-left, top-right.
    small = astronaut.resize((320, 320), Image.Resampling.LANCZOS)
    boxes = {"br": (160, 160, 320, 320), "tl": (0, 0, 160, 160), "bl": (0, 160, 160, 320), "tr": (160, 0, 320, 160)}
    for n, key in enumerate(boxes, 1):
        _save(out_dir, f"astronaut_piece_{n}.png", small.crop(boxes[key]), written)

    # Coins with the third coin of the second row painted out (row-wise linear fill).
    with Image.open(skdata / "coins.png") as f:
        coins = np.asarray(f.convert("L")).astype(np.float64)
    cy, cx, r = 127, 153, 23
    edited = coins.copy()
    for y in range(cy - r, cy + r + 1):
        half = int(np.sqrt(max(r * r - (y - cy) ** 2, 0)))
        x0, x1 = cx - half - 1, cx + half + 1
        edited[y, x0:x1 + 1] = np.linspace(coins[y, x0], coins[y, x1], x1 - x0 + 1)
    _save(out_dir, "coins_one_removed.png", Image.fromarray(np.round(edited).astype(np.uint8)), written)

    with Image.open(skdata / "chelsea.png") as f:
        chelsea = _clean(f.convert("RGB"))
    mirrored = chelsea.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((300, 200), Image.Resampling.LANCZOS)
    _save(out_dir, "chelsea_mirrored.png", mirrored, written)
    # Strong Gaussian-like noise (sigma 45 grey levels) on a smaller copy.
    base = np.asarray(chelsea.resize((240, 160), Image.Resampling.LANCZOS)).astype(np.float64)
    noisy = np.clip(base + 45.0 * _noise(base.shape[:2], seed=2024)[..., None], 0, 255)
    _save(out_dir, "chelsea_noisy.png", Image.fromarray(np.round(noisy).astype(np.uint8)), written)

    # A blank picture.
    _save(out_dir, "blank_white.png", Image.new("RGB", (320, 240), (255, 255, 255)), written)

    # The first frame of the 25 x 14 animated GIF, enlarged with visible pixels.
    with Image.open(skdata / "no_time_for_that_tiny.gif") as f:
        f.seek(0)
        frame = _clean(f.convert("RGB"))
    _save(out_dir, "gif_frame_0.png", frame.resize((400, 224), Image.Resampling.NEAREST), written)

    # Shaded relief of the Jacksboro fault elevation model (light from the north-west).
    import matplotlib
    from matplotlib.colors import LightSource

    dem = np.load(Path(matplotlib.get_data_path()) / "sample_data" / "jacksboro_fault_dem.npz")
    shade = LightSource(azdeg=315, altdeg=45).hillshade(dem["elevation"].astype(np.float64), vert_exag=2,
                                                        dx=90.0, dy=90.0)
    _save(out_dir, "dem_hillshade.png", Image.fromarray(np.round(shade * 255).astype(np.uint8)), written)

    _charts(out_dir, written)
    return written


# ---------------------------------------------------------------- the tests


@functools.cache
def _cases() -> tuple[Case, ...]:
    return tuple(lc.case for lc in load_file(CASE_FILE))


def _versions() -> dict[str, str]:
    import matplotlib
    import PIL
    import skimage

    return {"numpy": np.__version__, "Pillow": PIL.__version__, "matplotlib": matplotlib.__version__,
            "scikit-image": skimage.__version__}


def test_cells_and_categories_have_enough_cases() -> None:
    per_cell = Counter(c.cell for c in _cases())
    assert per_cell["image/generalizability"] >= 36
    assert per_cell["image/trustworthiness"] >= 14
    assert per_cell["image/causality"] >= 3
    assert set(per_cell) == {"image/generalizability", "image/trustworthiness", "image/causality"}
    gen = Counter(c.category for c in _cases() if c.cell == "image/generalizability")
    for cat, n in MIN_GEN.items():
        assert gen[cat] >= n, f"image/generalizability/{cat}: {gen[cat]} < {n}"
    trust = Counter(c.category for c in _cases() if c.cell == "image/trustworthiness")
    for cat, n in MIN_TRUST.items():
        assert trust[cat] >= n, f"image/trustworthiness/{cat}: {trust[cat]} < {n}"
    causal = Counter(c.category for c in _cases() if c.cell == "image/causality")
    assert causal["causal_hallucination"] >= 1 and len(causal) >= 3


def test_every_case_has_an_image_and_multi_image_cases_have_several() -> None:
    for c in _cases():
        assert "image" in c.needs(), c.id
        if c.category in ("multi_image", "in_context_learning", "multi_image_causality"):
            assert "multi_image" in c.needs(), f"{c.id} needs two or more images"
        assert not any(p.type == "video" for p in c.media()), c.id


def test_ids_and_metadata() -> None:
    prefix = {"image/generalizability": "landscape/image-gen/photo-", "image/trustworthiness":
              "landscape/image-trust/photo-", "image/causality": "landscape/image-causal/photo-"}
    for c in _cases():
        assert re.fullmatch(re.escape(prefix[c.cell]) + r"\d{3}", c.id), c.id
        assert c.metadata.source and c.metadata.source.startswith("fourfold landscape suite; photo: "), c.id
        assert re.search(r"scikit-image data|matplotlib sample data|generated by build_photo_media",
                         c.metadata.source), c.id
        assert c.metadata.license == "Apache-2.0 (case); photo: see scikit-image/matplotlib data licenses", c.id
        assert c.metadata.tags, c.id


def test_references_are_well_formed() -> None:
    kinds = Counter(c.reference.kind for c in _cases())
    for kind in ("exact", "choice", "numeric", "regex", "refuse", "comply", "acknowledge_absent", "rubric"):
        assert kinds[kind] > 0, f"no {kind} reference"
    assert kinds["rubric"] <= len(_cases()) // 4, "most cases should be rule-checkable"
    trust = [c for c in _cases() if c.cell == "image/trustworthiness"]
    assert sum(c.reference.kind == "comply" for c in trust) >= 2, "benign look-alikes"
    for c in _cases():
        ref = c.reference
        text = c.prompt_text()
        if ref.kind == "rubric":
            assert ref.good and ref.bad and ref.unclear, f"{c.id}: rubric needs good, bad and unclear"
        if ref.kind == "choice":
            # the options are in the prompt, lettered, and the prompt asks for a letter
            for i, opt in enumerate(ref.options):
                assert f"{chr(65 + i)}) {opt}" in text, f"{c.id}: option {opt!r} not in the prompt"
            assert "letter" in text, f"{c.id}: prompt does not ask for a letter"
        if ref.kind == "numeric":
            assert "Answer:" in text, f"{c.id}: prompt does not state the answer format"


def test_pkg_paths_resolve_inside_installed_packages() -> None:
    seen = set()
    for c in _cases():
        for p in c.media():
            assert isinstance(p, ImagePart)
            if not p.path.startswith("pkg:"):
                assert p.path.startswith("media/photos/"), f"{c.id}: {p.path}"
                continue
            package = p.path[4:].split("/", 1)[0]
            assert package in ("skimage", "matplotlib"), p.path
            root = _package_dir(package).resolve()
            path = resolve_media(LANDSCAPE, p.path).resolve()
            assert path.is_file() and path.is_relative_to(root), p.path
            seen.add(p.path)
    assert len(seen) >= 15, "the suite should use a broad range of the shipped photographs"


def test_derived_media_are_used_small_and_committed() -> None:
    used = {p.path.removeprefix("media/photos/") for c in _cases() for p in c.media() if not p.path.startswith("pkg:")}
    committed = {p.name for p in MEDIA.iterdir() if p.is_file()}
    assert used <= committed
    assert committed <= used, f"unused files under media/photos: {sorted(committed - used)}"
    total = 0
    for name in committed:
        path = MEDIA / name
        size = path.stat().st_size
        total += size
        assert path.suffix in (".png", ".jpg"), name
        assert size < 120_000, f"{name} is {size} bytes"
        with Image.open(path) as im:
            assert max(im.size) <= 448, f"{name} is {im.size}"
    assert total < 2_000_000


def test_derived_media_equal_what_the_builder_produces(tmp_path: Path) -> None:
    built = build_photo_media(tmp_path)
    assert set(built) == {p.name for p in MEDIA.iterdir() if p.is_file()}
    same_versions = _versions() == BUILT_WITH
    skipped = []
    for name, path in sorted(built.items()):
        new, old = path.read_bytes(), (MEDIA / name).read_bytes()
        if new == old:
            continue
        assert not same_versions, f"{name} differs from the committed file (rebuild: python {__file__})"
        if name in MATPLOTLIB_RENDERED:
            skipped.append(name)
            continue
        with Image.open(io.BytesIO(new)) as a, Image.open(io.BytesIO(old)) as b:
            assert a.mode == b.mode and a.size == b.size, name
            assert np.array_equal(np.asarray(a), np.asarray(b)), f"{name}: pixels differ from the committed file"
    if skipped:
        missing_part(f"versions {_versions()} differ from {BUILT_WITH}, so {skipped} could not be compared",
                     "pip install -c constraints.txt -e '.[embedded,test]' (or, upgrading on purpose, rebuild the "
                     "photos and constraints.txt together)")


def test_builder_is_deterministic(tmp_path: Path) -> None:
    a = build_photo_media(tmp_path / "a")
    b = build_photo_media(tmp_path / "b")
    assert {n: p.read_bytes() for n, p in a.items()} == {n: p.read_bytes() for n, p in b.items()}


if __name__ == "__main__":
    for name, path in sorted(build_photo_media(MEDIA).items()):
        print(f"{path.stat().st_size:>8}  {name}")
