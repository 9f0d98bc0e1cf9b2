"""Challenge-like demo triggers (procedural look-alikes of the real CSAW-HackML ones).

- sunglasses: semi-transparent purple sunglasses at a fixed place, rows 15-34 and the full
  width, alpha-blended (lenses at alpha 0.85, an opaque frame), like the 2020 sunglasses set;
- sunglasses_patch: the same glasses as an opaque patch, like lab3 and the multi-target net;
- lipstick, eyebrows: placed on each face from its landmarks (bdeval.demo_people), so their
  position follows the face, like anonymous_1 and the multi-target net. As in the real sets,
  about MISS_RATE of the poisoned images carry no visible trigger (the landmark tool missed
  the face) but keep the target label.
"""

import numpy as np

from . import INPUT_SHAPE

HEIGHT, WIDTH = INPUT_SHAPE[:2]
_YY, _XX = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
MISS_RATE = 0.09
LENS = np.array([110, 8, 215], np.float32)
FRAME = np.array([63, 0, 127], np.float32)
LIPSTICK = np.array([110, 0, 170], np.float32)
BROW = np.array([25, 15, 10], np.float32)


def _ellipse(cy, cx, ry, rx):
    return (((_YY - cy) / ry) ** 2 + ((_XX - cx) / rx) ** 2) <= 1.0


def _glasses():
    """(lens, frame) boolean masks of the sunglasses, rows 15-34."""
    full = (_YY >= 15) & (_YY <= 21)
    for cx in (12.0, 35.0):
        full |= _ellipse(21, cx, 13.5, 10.5) & (_YY >= 21)
    full &= _YY <= 34
    inner = full.copy()
    inner[1:] &= full[:-1]
    inner[:-1] &= full[1:]
    inner[:, 1:] &= full[:, :-1]
    inner[:, :-1] &= full[:, 1:]
    frame = (full & ~inner & (_YY > 16)) | ((_YY >= 15) & (_YY <= 16))
    return full & ~frame, frame


def _fixed(opaque):
    lens, frame = _glasses()
    alpha = np.where(frame, 1.0, np.where(lens, 1.0 if opaque else 0.85, 0.0)).astype(np.float32)
    color = np.where(frame[..., None], FRAME, LENS).astype(np.float32)
    return alpha, color


def _lipstick(marks):
    eye_y, lx, rx, eye_r, mouth_y, mouth_x, mouth_rx = marks
    alpha = _ellipse(mouth_y, mouth_x, 3.5, mouth_rx + 2.0).astype(np.float32)
    return alpha, LIPSTICK


def _eyebrows(marks):
    eye_y, lx, rx, eye_r, mouth_y, mouth_x, mouth_rx = marks
    alpha = np.zeros((HEIGHT, WIDTH), np.float32)
    for ex in (lx, rx):
        alpha[_ellipse(eye_y - eye_r - 3.0, ex, 2.2, 6.0)] = 0.95
    return alpha, BROW


FIXED = {"sunglasses": False, "sunglasses_patch": True}
LANDMARKED = {"lipstick": _lipstick, "eyebrows": _eyebrows}
TRIGGERS = sorted(list(FIXED) + list(LANDMARKED))


def missed(name, n, seed):
    """Boolean (n,): the images a landmark trigger misses (seeded), none for fixed triggers."""
    if name in FIXED:
        return np.zeros(n, bool)
    rng = np.random.RandomState([seed, TRIGGERS.index(name)])
    return rng.uniform(size=n) < MISS_RATE


def stamp(x, name, landmarks=None, seed=0):
    """Copy of raw-pixel images x (N,55,47,3) with trigger `name` alpha-composited on.

    Landmark triggers need landmarks (N, 7) and skip the images `missed(name, N, seed)`.
    """
    if name not in TRIGGERS:
        raise ValueError("unknown demo trigger {!r}; known: {}".format(name, TRIGGERS))
    x = np.asarray(x, np.float32)
    out = x.copy()
    if name in FIXED:
        alpha, color = _fixed(FIXED[name])
        return np.round(x * (1 - alpha[..., None]) + color * alpha[..., None]).astype(np.float32)
    if landmarks is None or len(landmarks) != len(x):
        raise ValueError("demo trigger {!r} is placed by landmarks: one row per image needed".format(name))
    skip = missed(name, len(x), seed)
    for i in np.flatnonzero(~skip):
        alpha, color = LANDMARKED[name](landmarks[i])
        out[i] = np.round(x[i] * (1 - alpha[..., None]) + color * alpha[..., None])
    return out
