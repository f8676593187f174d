"""Media tooling for image and video cases: encoding, frame sampling, perturbations."""

from .encode import encode_video

__all__ = ["encode_video"]
