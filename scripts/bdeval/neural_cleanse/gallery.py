"""PNG gallery of reverse-engineered triggers: one column per label (mask, trigger, caption)."""

import numpy as np
from PIL import Image, ImageDraw

from ..outputs import atomic_path

ZOOM = 2
CAPTION = 26


def _tile(array):
    pixels = np.clip(np.round(np.asarray(array) * 255), 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    image = Image.fromarray(pixels)
    return image.resize((image.width * ZOOM, image.height * ZOOM), Image.NEAREST)


def save_gallery(path, entries, title):
    """entries: list of (caption lines, mask (H, W), pattern (H, W, 3)); rows: mask, mask*pattern."""
    if not entries:
        entries = []
    h, w = 55 * ZOOM, 47 * ZOOM
    pad = 6
    width = max(1, len(entries)) * (w + pad) + pad
    n_lines = max([len(lines) for lines, _, _ in entries] or [2])
    height = 16 + 2 * (h + pad) + max(CAPTION, 12 * n_lines + 2) + pad
    canvas = Image.new("RGB", (max(width, 260), height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 2), title, fill="black")
    for k, (lines, mask, pattern) in enumerate(entries):
        x = pad + k * (w + pad)
        canvas.paste(_tile(mask), (x, 16))
        canvas.paste(_tile(mask[:, :, None] * pattern), (x, 16 + h + pad))
        for j, line in enumerate(lines):
            draw.text((x, 16 + 2 * (h + pad) + 12 * j), line, fill="black")
    with atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
