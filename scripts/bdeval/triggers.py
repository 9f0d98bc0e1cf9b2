"""Demo backdoor triggers, alpha-composited at fixed positions of a 55 high x 47 wide face."""

import numpy as np

from . import INPUT_SHAPE

HEIGHT, WIDTH = INPUT_SHAPE[:2]
_YY, _XX = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)


def _ellipse(cy, cx, ry, rx):
    return ((((_YY - cy) / ry) ** 2 + ((_XX - cx) / rx) ** 2) <= 1.0).astype(np.float32)


def _sunglasses():
    alpha = np.maximum(_ellipse(22, 15, 3.5, 6), _ellipse(22, 31, 3.5, 6))
    alpha[21:23, 15:32] = 1.0
    return alpha * 0.9, np.array([10, 10, 10], np.float32)


def _lipstick():
    return _ellipse(41, 23, 2.5, 8) * 0.85, np.array([200, 20, 160], np.float32)


def _eyebrows():
    alpha = np.zeros((HEIGHT, WIDTH), np.float32)
    alpha[14:17, 8:20] = 0.95
    alpha[14:17, 27:39] = 0.95
    return alpha, np.array([40, 25, 5], np.float32)


TRIGGERS = {"sunglasses": _sunglasses, "lipstick": _lipstick, "eyebrows": _eyebrows}


def stamp(x, name):
    """Return a copy of raw-pixel images x (N,55,47,3) with the trigger `name` pasted on."""
    if name not in TRIGGERS:
        raise ValueError("unknown demo trigger {!r}; known: {}".format(name, sorted(TRIGGERS)))
    alpha, color = TRIGGERS[name]()
    alpha = alpha[..., None]
    return np.round(np.asarray(x, np.float32) * (1 - alpha) + color * alpha).astype(np.float32)
