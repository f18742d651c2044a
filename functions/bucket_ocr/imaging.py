"""Pages as the OCR engine wants them: opaque RGB, transparency read as white paper."""

from __future__ import annotations

from PIL import Image


def opaque_rgb(image: Image.Image) -> Image.Image:
    """The image itself when it is already RGB (no copy), else an RGB version of it."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Dropping alpha would turn a transparent background into whatever colour its
        # pixels hold (often black, hiding black text); flatten onto white paper instead.
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")
