"""What differs between model families, as data: how each wants video.

Everything else (chat template, image tokens, preprocessing) is the model's own
processor's business. Video is the exception: a family either takes the clip
itself through its processor's video processor (``native``), or is fed what the
report fed image models: ``frames`` (several images) or one ``grid`` image.
A family not listed gets ``native`` when its processor has a video processor,
else ``frames``; ``#video=`` on the spec overrides either.
"""

from __future__ import annotations

from typing import Literal, get_args

VideoMode = Literal["native", "frames", "grid"]
VIDEO_MODES: tuple[str, ...] = get_args(VideoMode)

#: ``config.model_type`` -> how that family takes video.
VIDEO_BY_FAMILY: dict[str, VideoMode] = {
    # LLaVA-1.5 and -NeXT were trained on one image per turn in a 4k context (576+ tokens an image):
    # 16 frames would not fit, so they get one grid, as the study fed single-image models.
    "llava": "grid",
    "llava_next": "grid",
    # Interleaved-image models without a video processor: frames.
    "idefics3": "frames",
    "idefics2": "frames",
    "mllama": "grid",
    # Trained on video through their own video processors.
    "llava_onevision": "native",
    "llava_next_video": "native",
    "qwen2_vl": "native",
    "qwen2_5_vl": "native",
    "qwen3_vl": "native",
    "smolvlm": "native",
    "internvl": "native",
}


def video_mode(model_type: str, has_video_processor: bool, override: str | None = None) -> VideoMode:
    """How a vision model of ``model_type`` is given video (see the module docstring)."""
    if override is not None:
        return override  # type: ignore[return-value]  # checked against VIDEO_MODES when the spec is parsed
    if model_type in VIDEO_BY_FAMILY:
        mode = VIDEO_BY_FAMILY[model_type]
        return "frames" if mode == "native" and not has_video_processor else mode
    return "native" if has_video_processor else "frames"


__all__ = ["VIDEO_BY_FAMILY", "VIDEO_MODES", "VideoMode", "video_mode"]
