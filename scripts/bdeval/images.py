"""PNG/JPEG face images: read one, validated, as a 55x47x3 float32 array of raw pixels."""

import os

import numpy as np
from PIL import Image

from . import INPUT_SHAPE
from .errors import InputError
from .outputs import atomic_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def load_image(path):
    if os.path.isdir(str(path)):
        raise InputError(path, "is a folder, not an image file")
    if not os.path.isfile(str(path)):
        raise InputError(path, "no such file")
    try:
        with Image.open(str(path)) as img:
            img.load()
            rgb = img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise InputError(path, "not a readable PNG/JPEG image") from None
    height, width = INPUT_SHAPE[:2]
    if rgb.size != (width, height):
        raise InputError(
            path,
            "image is {} high x {} wide, expected {} high x {} wide".format(
                rgb.size[1], rgb.size[0], height, width
            ),
        )
    return np.asarray(rgb, dtype=np.float32)


def save_image(path, pixels):
    """Write one 55x47x3 image (raw 0..255) as PNG."""
    with atomic_path(path) as tmp:
        Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8)).save(tmp, format="PNG")


def list_images(paths):
    """Expand folders into their PNG/JPEG files (sorted); keep files as given."""
    found = []
    for path in paths:
        if os.path.isdir(str(path)):
            for name in sorted(os.listdir(str(path))):
                full = os.path.join(str(path), name)
                if name.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(full):
                    found.append(full)
        else:
            found.append(str(path))
    return found
