"""The result type of the inference API; it lives in ``yolox.utils.detections`` (shared with the
evaluators, so boxes are mapped back to pixels in one place)."""

from yolox.utils.detections import Detections, detections_from_postprocess

__all__ = ["Detections", "detections_from_postprocess"]
