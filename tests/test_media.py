"""Video sampling, the frame cache and perturbations, on real files made here:
clips are encoded with the project's own H.264 writer (or PyAV directly, for
variable frame rates and other containers), each frame painted with a grey level
that encodes its index, so a decoded frame says which one it is."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from fourfold.cases import load_file
from fourfold.cases.media import video as video_mod
from fourfold.cases.media.encode import encode_video
from fourfold.cases.media.perturb import (
    PERTURBATIONS,
    PerturbationError,
    apply_image,
    apply_video,
    backlight,
    blank,
    compose,
    derive_variants,
    fog,
    gaussian_noise,
    overexpose,
    parse_perturbation,
    rain,
    text_noise,
)
from fourfold.cases.media.video import (
    FrameCache,
    MediaError,
    probe_video,
    sample_frames,
    sample_indices,
    stitch_grid,
)

SIZE = 64
STEP = 7  # grey levels 10, 17, 24, ...: far enough apart to survive lossy coding


def level(k: int) -> int:
    return 10 + STEP * k


def frame_for(k: int, size: int = SIZE) -> np.ndarray:
    return np.full((size, size, 3), level(k), np.uint8)


def index_of(im: Image.Image) -> int:
    return round((np.asarray(im, dtype=np.float64).mean() - 10) / STEP)


def make_clip(path: Path, n: int, fps: int = 8) -> Path:
    return encode_video((frame_for(k) for k in range(n)), path, fps=fps)


def make_pyav_clip(path: Path, pts_ms: list[int], *, fmt: str = "mp4", rate: int = 30) -> Path:
    """A clip whose frame k is shown at ``pts_ms[k]`` milliseconds (``rate`` is the
    nominal rate the encoder is told, which sets the last frame's duration)."""
    with av.open(str(path), "w", format=fmt) as c:
        s = c.add_stream("libx264", rate=rate)
        s.width = s.height = SIZE
        s.pix_fmt = "yuv420p"
        s.time_base = s.codec_context.time_base = Fraction(1, 1000)
        for k, p in enumerate(pts_ms):
            f = av.VideoFrame.from_ndarray(frame_for(k), format="rgb24")
            f.pts, f.time_base = p, Fraction(1, 1000)
            for pk in s.encode(f):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    return path


# ------------------------------------------------------------------ sampling


def test_sample_indices_centres_of_segments() -> None:
    assert sample_indices(16, 16) == list(range(16))
    assert sample_indices(32, 16) == list(range(1, 32, 2))
    assert sample_indices(17, 16) == [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16]
    assert sample_indices(100, 4) == [12, 37, 62, 87]
    assert sample_indices(5, 16) == [0, 1, 2, 3, 4]
    assert sample_indices(1, 1) == [0]
    with pytest.raises(MediaError, match="no video frames"):
        sample_indices(0, 16)
    with pytest.raises(ValueError):
        sample_indices(10, 0)


@pytest.mark.parametrize("n_total", [7, 16, 17, 31, 34])
def test_sample_frames_returns_the_right_frames(tmp_path: Path, n_total: int) -> None:
    clip = make_clip(tmp_path / f"c{n_total}.mp4", n_total)
    frames = sample_frames(clip, 16)
    assert [index_of(f) for f in frames] == sample_indices(n_total, 16)
    assert all(f.mode == "RGB" and f.size == (SIZE, SIZE) for f in frames)
    assert [index_of(f) for f in sample_frames(clip, 4)] == sample_indices(n_total, 4)


def test_fewer_frames_than_asked_returns_all(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "short.mp4", 5)
    assert [index_of(f) for f in sample_frames(clip, 16)] == [0, 1, 2, 3, 4]


def test_variable_frame_rate_is_sampled_by_time(tmp_path: Path) -> None:
    # Three quick frames, a frame held for ~1 s, four quick ones, then two held long.
    pts = [0, 100, 150, 200, 1050, 1100, 1150, 1200, 2500, 3500]
    clip = make_pyav_clip(tmp_path / "vfr.mp4", pts)
    info = probe_video(clip)
    assert info.frames == 10
    assert 3.5 < info.duration_s < 4.6  # 3.5 s to the last frame, plus its display time
    assert info.fps == pytest.approx(info.frames / info.duration_s)
    got = [index_of(f) for f in sample_frames(clip, 4)]
    # The clip lasts ~3.53 s; the centres of four equal segments (0.44, 1.33, 2.21,
    # 3.09 s) fall on frames 3, 7, 7 and 8, whatever is on screen then; the
    # long-held frame 7 is picked twice. By index it would be frames 1, 3, 6, 8.
    end = info.duration_s * 1000
    assert got == [max(k for k, p in enumerate(pts) if p <= (i + 0.5) * end / 4) for i in range(4)]
    assert got == [3, 7, 7, 8]
    assert sample_indices(10, 4) == [1, 3, 6, 8]


def test_probe_counts_frames_when_the_container_does_not_say(tmp_path: Path) -> None:
    clip = make_pyav_clip(tmp_path / "clip.mkv", [k * 125 for k in range(9)], fmt="matroska", rate=8)
    with av.open(str(clip)) as c:
        assert c.streams.video[0].frames == 0  # Matroska records no frame count
    info = probe_video(clip)
    assert (info.frames, info.width, info.height, info.codec) == (9, SIZE, SIZE, "h264")
    assert info.fps == pytest.approx(8.0)
    assert info.duration_s == pytest.approx(9 / 8)
    assert [index_of(f) for f in sample_frames(clip, 3)] == sample_indices(9, 3)


def test_raw_stream_without_timestamps_is_sampled_by_index(tmp_path: Path) -> None:
    path = tmp_path / "raw.h264"
    with av.open(str(path), "w", format="h264") as c:
        s = c.add_stream("libx264", rate=8)
        s.width = s.height = SIZE
        s.pix_fmt = "yuv420p"
        for k in range(20):
            for pk in s.encode(av.VideoFrame.from_ndarray(frame_for(k), format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    assert probe_video(path).frames == 20
    assert [index_of(f) for f in sample_frames(path, 8)] == sample_indices(20, 8)


def test_probe_constant_rate(tmp_path: Path) -> None:
    info = probe_video(make_clip(tmp_path / "c.mp4", 20, fps=10))
    assert info.frames == 20 and info.fps == pytest.approx(10.0) and info.duration_s == pytest.approx(2.0)


def test_long_clip_seeks_to_exact_frames_without_decoding_everything(tmp_path: Path) -> None:
    # Frame k carries its index in a small corner patch; levels stay distinct for 300 frames.
    n_total = 300
    path = tmp_path / "long2.mp4"
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=25)
        s.width = s.height = SIZE
        s.pix_fmt = "yuv420p"
        s.options = {"g": "12", "keyint_min": "12", "sc_threshold": "0", "crf": "10"}
        for k in range(n_total):
            a = np.zeros((SIZE, SIZE, 3), np.uint8)
            a[:32, :, :] = 16 + 8 * (k // 30)  # tens digit-ish, 10 levels
            a[32:, :, :] = 16 + 8 * (k % 30)  # 30 levels
            for pk in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)

    def decode_index(im: Image.Image) -> int:
        a = np.asarray(im, dtype=np.float64)
        hi = round((a[4:28].mean() - 16) / 8)
        lo = round((a[36:60].mean() - 16) / 8)
        return 30 * hi + lo

    stats: dict[str, int] = {}
    got = [decode_index(f) for f in sample_frames(path, 16, stats=stats)]
    assert got == sample_indices(n_total, 16)
    assert stats["frames"] == n_total
    assert stats["decoded"] < n_total / 2, stats  # keyframe seeks skipped most of the clip
    assert stats["seeks"] > 1


@pytest.mark.parametrize("content", [b"", b"not a video at all " * 100])
def test_empty_or_garbage_file_is_a_media_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad clip.mp4"
    bad.write_bytes(content)
    with pytest.raises(MediaError, match="cannot decode") as e:
        sample_frames(bad)
    assert str(bad) in str(e.value)
    with pytest.raises(MediaError) as e:
        probe_video(bad)
    assert str(bad) in str(e.value)


def test_mp4_without_video_stream_has_no_video_frames(tmp_path: Path) -> None:
    path = tmp_path / "audio-only.mp4"
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=16000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate, fr.pts = 16000, 0
        for pk in s.encode(fr):
            c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    with pytest.raises(MediaError, match="no video frames") as e:
        sample_frames(path)
    assert str(e.value).startswith(str(path))
    assert isinstance(e.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        sample_frames(tmp_path / "nope.mp4")


# ------------------------------------------------------------------ grid


def test_stitch_grid_size_and_tiles() -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    frames = [Image.new("RGB", (100, 50), c) for c in colours]  # wide frames: letterboxed top and bottom
    grid = stitch_grid(frames, cols=4, tile=224)
    assert grid.size == (4 * 224, 2 * 224)
    a = np.asarray(grid)
    for i, c in enumerate(colours):
        r, col = divmod(i, 4)
        cy, cx = r * 224 + 112, col * 224 + 112
        assert tuple(a[cy, cx]) == c
        assert tuple(a[r * 224 + 5, cx]) == (0, 0, 0)  # letterbox bar above the picture
        assert tuple(a[cy, col * 224 + 2]) == c  # full tile width
    assert tuple(a[224 + 112, 2 * 224 + 112]) == (0, 0, 0)  # unused tiles stay empty
    assert stitch_grid([Image.new("RGB", (30, 60))] * 16).size == (896, 896)
    with pytest.raises(ValueError):
        stitch_grid([])


# ------------------------------------------------------------------ frame cache


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_frame_cache_decodes_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = make_clip(tmp_path / "c.mp4", 31)
    calls = []
    real = video_mod.sample_frames
    monkeypatch.setattr(video_mod, "sample_frames", lambda p, n=16, **kw: calls.append(p) or real(p, n, **kw))
    cache = FrameCache(tmp_path / "cache")
    first = cache.frames(clip, sha(clip), n=16)
    assert len(calls) == 1
    assert [p.name for p in first] == [f"frame-{i:02d}.png" for i in range(16)]
    assert first[0].parent == tmp_path / "cache" / f"{sha(clip)}-16"
    assert [index_of(Image.open(p)) for p in first] == sample_indices(31, 16)
    again = FrameCache(tmp_path / "cache").frames(clip, sha(clip), n=16)  # a new process, same cache
    assert again == first and len(calls) == 1
    grid = cache.grid(clip, sha(clip), n=16, cols=4, tile=224)
    assert Image.open(grid).size == (896, 896) and len(calls) == 1
    assert cache.grid(clip, sha(clip)) == grid
    cache.frames(clip, sha(clip), n=4)  # another n is another entry
    assert len(calls) == 2
    assert cache.frames(clip, None, n=4) == cache.frames(clip, sha(clip), n=4)  # no digest: hashed here
    assert len(calls) == 2
    manifest = json.loads((first[0].parent / "manifest.json").read_text())
    assert manifest["frames"] == [p.name for p in first]


def test_frame_cache_threads_share_one_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = make_clip(tmp_path / "c.mp4", 17)
    calls = []
    real = video_mod.sample_frames
    monkeypatch.setattr(video_mod, "sample_frames", lambda p, n=16, **kw: calls.append(p) or real(p, n, **kw))
    cache = FrameCache(tmp_path / "cache")
    results: list[list[Path]] = []
    threads = [threading.Thread(target=lambda: results.append(cache.frames(clip, sha(clip)))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and all(r == results[0] for r in results)


def test_frame_cache_survives_partial_writes(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", 9)
    digest = sha(clip)
    root = tmp_path / "cache"
    # A writer that crashed (pid 999999 is not running) left a half-written temp dir ...
    stale = root / f".tmp-{digest}-16-999999-abcd"
    stale.mkdir(parents=True)
    (stale / "frame-00.png").write_bytes(b"\x89PNG truncated")
    # ... and someone deleted files from a finished entry for another n.
    broken = root / f"{digest}-4"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"frames": ["frame-00.png", "frame-01.png"]}))
    cache = FrameCache(root)
    frames = cache.frames(clip, digest)
    assert [index_of(Image.open(p)) for p in frames] == list(range(9))
    assert not stale.exists()
    assert [index_of(Image.open(p)) for p in cache.frames(clip, digest, n=4)] == sample_indices(9, 4)
    assert not any(p.name.startswith(".tmp-") for p in root.iterdir())


def test_frame_cache_default_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert FrameCache().root == tmp_path / "fourfold" / "frames"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert FrameCache().root == Path.home() / ".cache" / "fourfold" / "frames"


# ------------------------------------------------------------------ perturbations


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def photo_like(h: int = 96, w: int = 128) -> np.ndarray:
    """Smooth gradients plus a textured square: contrast to lose, room to brighten."""
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack([xx * 200 // w + 20, yy * 200 // h + 20, (xx + yy) * 100 // (h + w) + 60], axis=-1)
    a[h // 4:h // 2, w // 4:w // 2] = (np.indices((h // 4, w // 4)).sum(0) % 2 * 160 + 40)[..., None]
    return a.astype(np.uint8)


ALL = {
    "noise": gaussian_noise(25), "rain": rain(), "fog": fog(), "overexpose": overexpose(), "backlight": backlight(),
    "text": text_noise(), "blank": blank(),
}


@pytest.mark.parametrize("name", list(ALL))
def test_shape_dtype_and_determinism(name: str) -> None:
    p = ALL[name]
    img = photo_like()
    before = img.copy()
    a, b = p(img, rng(1)), p(img, rng(1))
    assert a.shape == img.shape and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes()
    assert np.array_equal(img, before)  # the input is never modified
    random = name in ("noise", "rain", "fog", "backlight", "text")
    assert (p(img, rng(2)).tobytes() != a.tobytes()) == random
    assert name in PERTURBATIONS


def test_rejects_non_rgb_uint8() -> None:
    with pytest.raises(PerturbationError):
        gaussian_noise()(np.zeros((4, 4), np.uint8), rng())
    with pytest.raises(PerturbationError):
        gaussian_noise()(np.zeros((4, 4, 3), np.float32), rng())


def test_blank_is_constant() -> None:
    out = blank()(photo_like(), rng())
    assert (out == 255).all()
    out = blank((10, 20, 30))(photo_like(), rng())
    assert (out.reshape(-1, 3) == (10, 20, 30)).all()


def test_gaussian_noise_keeps_mean_raises_std() -> None:
    flat = np.full((128, 128, 3), 128, np.uint8)
    out = gaussian_noise(25)(flat, rng()).astype(np.float64)
    assert abs(out.mean() - 128) < 0.5
    assert 23 < out.std() < 27
    assert (gaussian_noise(0)(flat, rng()) == flat).all()


def test_overexpose_brightens() -> None:
    img = photo_like()
    out = overexpose(2.2)(img, rng())
    assert out.mean() > img.mean() + 20
    assert (out >= img).all()  # a gain above 1 never darkens a pixel
    assert (overexpose(1.0)(img, rng()).astype(int) - img).max() <= 1


def test_fog_lowers_contrast_most_at_the_top() -> None:
    img = photo_like()
    out = fog(0.6)(img, rng()).astype(np.float64)
    assert out.std() < img.std() * 0.75
    grey = np.full((96, 128, 3), 60, np.uint8)
    hazy = fog(0.6)(grey, rng()).astype(np.float64)
    assert hazy[:10].mean() > hazy[-10:].mean() + 10  # far (top) is hazier than near (bottom)


def test_rain_adds_thin_bright_streaks() -> None:
    dark = np.full((128, 128, 3), 20, np.uint8)
    out = rain(density=0.03)(dark, rng())
    bright = (out.max(axis=2) > 100)
    share = bright.mean()
    assert 0.01 < share < 0.06  # about the requested coverage, no more
    # thin: few bright pixels have bright neighbours on both sides horizontally
    both = bright[:, 1:-1] & bright[:, :-2] & bright[:, 2:]
    assert both.sum() < 0.1 * bright.sum()
    assert (out[~bright] == 20).all()  # nothing else changes


def test_backlight_darkens_subject_and_brightens_background() -> None:
    img = np.full((100, 100, 3), 200, np.uint8)  # bright sky ...
    img[40:, 30:70] = 70  # ... and a darker subject in front of it
    out = backlight(0.85)(img, rng()).astype(np.float64)
    assert out[70:, 35:65].mean() < 70 * 0.8  # the subject turns toward a silhouette
    assert out[:20].mean() > 200  # the background glows
    assert out[:20].mean() - out[70:, 35:65].mean() > 130 - 5  # more contrast between them than before


def test_text_noise_changes_a_minority_of_pixels() -> None:
    img = photo_like(128, 160)
    out = text_noise(n=12)(img, rng())
    changed = (out != img).any(axis=2).mean()
    assert 0.005 < changed < 0.3
    words_only = text_noise(n=3, words=["zzz"])(img, rng())
    assert (words_only != img).any()


def test_compose_order_matters() -> None:
    img = photo_like()
    noisy_then_blank = compose(gaussian_noise(30), blank())(img, rng())
    blank_then_noisy = compose(blank((128, 128, 128)), gaussian_noise(30))(img, rng())
    assert (noisy_then_blank == 255).all()
    assert blank_then_noisy.std() > 20
    c = compose(gaussian_noise(5), rain())
    assert c.spec == "noise:sigma=5+rain:density=0.02,length=18,angle_deg=-15,brightness=200"
    assert c(img, rng(3)).tobytes() == c(img, rng(3)).tobytes()


def test_parse_perturbation() -> None:
    p = parse_perturbation("noise:sigma=30+rain:density=0.03")
    assert p.spec == "noise:sigma=30+rain:density=0.03,length=18,angle_deg=-15,brightness=200"
    img = photo_like()
    assert p(img, rng(4)).tobytes() == compose(gaussian_noise(30), rain(density=0.03))(img, rng(4)).tobytes()
    assert parse_perturbation(p.spec).spec == p.spec  # the spec round-trips
    assert parse_perturbation("blank:color=black")(img, rng()).max() == 0
    assert (parse_perturbation("blank:color=#102030")(img, rng())[0, 0] == (16, 32, 48)).all()
    assert parse_perturbation("text:words=cat/dog,n=2").params["words"] == ("cat", "dog")
    assert parse_perturbation(" FOG ").name == "fog"
    assert parse_perturbation("gaussian_noise:sigma=3").spec == "noise:sigma=3"  # aliases become canonical


@pytest.mark.parametrize(("spec", "message"), [
    ("rian", "unknown perturbation 'rian'; did you mean 'rain'?"),
    ("txt_noise", "did you mean 'text'?"),
    ("noise:sigm=3", "noise: unknown parameter 'sigm'; did you mean 'sigma'?"),
    ("noise:sigma=loud", "noise: sigma must be a number, got 'loud'"),
    ("noise:sigma=-1", "noise: sigma must be >= 0"),
    ("rain:density=2", "rain: density must be between 0 and 1"),
    ("text:n=2.5", "text: n must be an integer"),
    ("noise+", "empty perturbation"),
    ("", "empty perturbation spec"),
    ("noise:sigma", "expected key=value"),
    ("blank:color=pink", "must be a colour"),
])
def test_parse_perturbation_errors(spec: str, message: str) -> None:
    with pytest.raises(PerturbationError) as e:
        parse_perturbation(spec)
    assert message in str(e.value)


# ------------------------------------------------------------------ files


def test_apply_image_is_reproducible(tmp_path: Path) -> None:
    src = tmp_path / "src.png"
    Image.fromarray(photo_like()).save(src)
    p = parse_perturbation("noise:sigma=20+text:n=3")
    a = apply_image(src, tmp_path / "a.png", p, seed=7)
    b = apply_image(src, tmp_path / "b.png", p, seed=7)
    c = apply_image(src, tmp_path / "c.png", p, seed=8)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert Image.open(a).size == (128, 96)
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (10, 8), (0, 0, 0, 0)).save(rgba)
    out = apply_image(rgba, tmp_path / "rgba-out.jpg", overexpose(1.0), seed=0)
    assert np.asarray(Image.open(out)).min() > 240  # transparency shows as white


def test_apply_video_keeps_frames_size_fps(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "src.mp4", 12, fps=6)
    p = parse_perturbation("noise:sigma=10")
    a = apply_video(src, tmp_path / "a.mp4", p, seed=1)
    b = apply_video(src, tmp_path / "b.mp4", p, seed=1)
    c = apply_video(src, tmp_path / "c.mp4", p, seed=2)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    info, orig = probe_video(a), probe_video(src)
    assert (info.frames, info.width, info.height) == (orig.frames, orig.width, orig.height)
    assert info.fps == pytest.approx(orig.fps)
    # each frame got its own noise, and the content is still the source's
    frames = sample_frames(a, 12)
    assert [index_of(f) for f in frames] == list(range(12))
    assert apply_video(src, tmp_path / "d.mp4", blank(), seed=1, fps=3) and probe_video(tmp_path / "d.mp4").fps == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_derive_variants(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    (suite / "media").mkdir(parents=True)
    Image.fromarray(photo_like()).save(suite / "media" / "pic.png")
    make_clip(suite / "media" / "clip.mp4", 6)
    case = {
        "id": "mine/img-001", "cell": "image/generalizability", "category": "recognition",
        "input": [{"role": "user", "content": [{"type": "image", "path": "media/pic.png"},
                                               {"type": "video", "path": "media/clip.mp4"},
                                               {"type": "text", "text": "What is shown?"}]}],
        "reference": {"kind": "exact", "answer": "gradient"},
        "metadata": {"source": "test", "tags": ["x"]},
    }
    out_dir = tmp_path / "out"
    variants = derive_variants(case, suite, ["noise:sigma=30", "rain+fog"], seed=5, out_media_dir=out_dir / "media",
                               relative_to=out_dir)
    assert [v["id"] for v in variants] == ["mine/img-001:noise-sigma-30", "mine/img-001:rain-fog"]
    for v, name in zip(variants, ["noise:sigma=30", "rain+fog"], strict=True):
        assert (v["cell"], v["category"], v["reference"]) == (case["cell"], case["category"], case["reference"])
        assert v["metadata"] == {"source": "test", "tags": ["x", "perturbed"], "perturbation": name,
                                 "perturbation_seed": 5, "original": "mine/img-001"}
        img, vid, text = v["input"][0]["content"]
        assert text == {"type": "text", "text": "What is shown?"}
        assert img["path"].startswith("media/") and img["path"].endswith(".png")
        assert vid["path"].endswith(".mp4") and (out_dir / vid["path"]).is_file()
        assert img["sha256"] == sha(out_dir / img["path"])
    assert case["input"][0]["content"][0]["path"] == "media/pic.png"  # the original is untouched
    # the metadata alone reproduces a file
    again = apply_image(suite / "media" / "pic.png", tmp_path / "again.png", parse_perturbation("noise:sigma=30"), 5)
    assert again.read_bytes() == (out_dir / variants[0]["input"][0]["content"][0]["path"]).read_bytes()
    # the variants are valid cases
    jsonl = out_dir / "variants.jsonl"
    jsonl.write_text("".join(json.dumps(v) + "\n" for v in variants))
    assert len(load_file(jsonl)) == 2
    assert derive_variants({"id": "t", "input": "text only"}, suite, ["noise"], 0, out_dir) == []
    with pytest.raises(PerturbationError, match="did you mean 'rain'"):
        derive_variants(case, suite, ["rian"], 0, out_dir)


# ------------------------------------------------------------------ the built-in cases


SUITE = Path(__file__).resolve().parents[1] / "src" / "fourfold" / "cases" / "suites" / "landscape"


def test_robustness_suite_is_valid_and_small() -> None:
    cases = load_file(SUITE / "robustness.jsonl")
    assert len(cases) >= 10
    assert all(lc.case.cell == "image/trustworthiness" and lc.case.category == "robustness" for lc in cases)
    assert [lc.case.id for lc in cases] == [f"landscape/image-trust/robustness-{i:02d}" for i in range(1, len(cases) + 1)]
    kinds = {lc.case.reference.kind for lc in cases}
    assert "acknowledge_absent" in kinds and "rubric" not in kinds
    perturbations = {lc.case.metadata.model_extra["perturbation"].split(":")[0] for lc in cases}
    assert {"noise", "rain", "overexpose", "backlight", "text", "blank"} <= perturbations
    for lc in cases:
        (part,) = lc.case.media()
        path = lc.media_path(part)
        assert path.stat().st_size < 150_000, path
        assert max(Image.open(path).size) <= 448


def test_robustness_suite_rebuilds_byte_for_byte(tmp_path: Path) -> None:
    from fourfold.cases.media.perturb import build_robustness_suite

    out = build_robustness_suite(tmp_path)
    assert out.read_bytes() == (SUITE / "robustness.jsonl").read_bytes()
    for f in sorted((tmp_path / "media" / "robustness").iterdir()):
        assert f.read_bytes() == (SUITE / "media" / "robustness" / f.name).read_bytes(), f.name
    assert sorted(os.listdir(tmp_path / "media" / "robustness")) == sorted(
        os.listdir(SUITE / "media" / "robustness"))
