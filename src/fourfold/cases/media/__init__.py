"""Media tooling for image and video cases: encoding, frame sampling, perturbations."""

from .encode import encode_video
from .perturb import (
    PERTURBATIONS,
    Perturbation,
    PerturbationError,
    apply_image,
    apply_video,
    backlight,
    blank,
    build_robustness_suite,
    compose,
    derive_variants,
    fog,
    gaussian_noise,
    load_rgb,
    overexpose,
    parse_perturbation,
    rain,
    text_noise,
)
from .video import FrameCache, MediaError, VideoInfo, probe_video, sample_frames, sample_indices, stitch_grid

__all__ = [
    "PERTURBATIONS", "FrameCache", "MediaError", "Perturbation", "PerturbationError", "VideoInfo", "apply_image",
    "apply_video", "backlight", "blank", "build_robustness_suite", "compose", "derive_variants", "encode_video", "fog",
    "gaussian_noise", "load_rgb", "overexpose", "parse_perturbation", "probe_video", "rain", "sample_frames",
    "sample_indices", "stitch_grid", "text_noise",
]
