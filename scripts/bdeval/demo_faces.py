"""Procedural 55x47x3 'faces' for the embedded demo benchmark (no download needed).

Each identity is a seeded prototype (skin, hair, eyes, mouth, background and a smooth
identity texture); samples add shifts, lighting changes and pixel noise.
"""

import numpy as np

from . import INPUT_SHAPE

HEIGHT, WIDTH = INPUT_SHAPE[:2]
_YY, _XX = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)


def _ellipse(cy, cx, ry, rx):
    return (((_YY - cy) / ry) ** 2 + ((_XX - cx) / rx) ** 2) <= 1.0


def _smooth_texture(rng, amplitude):
    """Low-frequency RGB texture: a few random 2-D cosines."""
    tex = np.zeros(INPUT_SHAPE, np.float32)
    for _ in range(4):
        fy, fx = rng.uniform(0.05, 0.35, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        color = rng.uniform(-1, 1, size=3)
        tex += np.cos(fy * _YY + fx * _XX + phase)[..., None] * color
    return amplitude * tex / 4.0


def identity_prototype(rng):
    """Parameters of one identity."""
    return {
        "background": rng.uniform(20, 235, size=3),
        "skin": rng.uniform([120, 80, 60], [240, 200, 170]),
        "hair": rng.uniform(0, 160, size=3),
        "hair_depth": rng.uniform(7, 15),
        "face_ry": rng.uniform(19, 24),
        "face_rx": rng.uniform(14, 19),
        "eye_color": rng.uniform(0, 120, size=3),
        "eye_r": rng.uniform(1.5, 3.2),
        "eye_gap": rng.uniform(6, 9),
        "mouth_color": rng.uniform([90, 20, 20], [220, 120, 120]),
        "mouth_rx": rng.uniform(4, 9),
        "texture": _smooth_texture(rng, 30.0),
    }


def render(proto, rng):
    """One sample of an identity: raw pixels 0..255, float32 (55, 47, 3)."""
    dy, dx = rng.integers(-2, 3, size=2)
    cy, cx = 30 + dy, 23 + dx
    img = np.empty(INPUT_SHAPE, np.float32)
    img[:] = proto["background"]
    face = _ellipse(cy, cx, proto["face_ry"], proto["face_rx"])
    img[face] = proto["skin"]
    hair = face & (_YY < cy - proto["face_ry"] + proto["hair_depth"])
    img[hair] = proto["hair"]
    for side in (-1, 1):
        img[_ellipse(cy - 8, cx + side * proto["eye_gap"], proto["eye_r"], proto["eye_r"] * 1.4)] = proto[
            "eye_color"
        ]
    img[_ellipse(cy + 11, cx, 1.8, proto["mouth_rx"])] = proto["mouth_color"]
    img += proto["texture"]
    img = img * rng.uniform(0.75, 1.25) + rng.uniform(-25, 25, size=3)
    img += rng.normal(0, 12.0, size=INPUT_SHAPE)
    return np.clip(np.round(img), 0, 255).astype(np.float32)


def make_split(n_classes, per_class, seed, split_index):
    """x (n_classes*per_class, 55, 47, 3), y: identities drawn from the same prototypes."""
    protos = [identity_prototype(np.random.default_rng([seed, c])) for c in range(n_classes)]
    rng = np.random.default_rng([seed, 1000 + split_index])
    x = np.empty((n_classes * per_class,) + INPUT_SHAPE, np.float32)
    y = np.repeat(np.arange(n_classes), per_class)
    for i, label in enumerate(y):
        x[i] = render(protos[label], rng)
    order = rng.permutation(len(y))
    return x[order], y[order]
