"""Challenge-like procedural faces for the demo benchmark: many identities, varied images.

Each identity is a seeded prototype (face shape, skin, hair and fringe, eyes, brows, nose,
mouth, background, a smooth identity texture). Identities come in look-alike families that
share the colours of the small parts (eyes, brows, nose, mouth): as in real faces, an identity
differs from its look-alikes over the whole face, not by one small patch (which Neural Cleanse
would find as a small "natural trigger" of that label). Every image varies pose (shift, scale,
in-plane offset of the features), lighting (gain, colour cast, a directional gradient),
expression (mouth width), pixel noise and, often, an occluder (a hand, a microphone, a caption
bar), so a DeepID learns them to about 95 %, not 100 %. Every image comes with its landmarks,
which place the lipstick and eyebrows triggers (bdeval.demo_triggers) on the face like the
face-landmark tools of the real poisoned sets.
"""

import numpy as np

from . import INPUT_SHAPE

HEIGHT, WIDTH = INPUT_SHAPE[:2]
_YY, _XX = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
# landmark columns: eye row, left eye x, right eye x, eye radius, mouth row, mouth x, mouth half-width
LANDMARKS = ("eye_y", "left_eye_x", "right_eye_x", "eye_r", "mouth_y", "mouth_x", "mouth_rx")
FAMILY_SIZE = 8  # identities per look-alike family


def _ellipse(cy, cx, ry, rx):
    return (((_YY - cy) / ry) ** 2 + ((_XX - cx) / rx) ** 2) <= 1.0


def _smooth_texture(rng, amplitude, terms=4):
    """Low-frequency RGB texture: a few random 2-D cosines."""
    tex = np.zeros(INPUT_SHAPE, np.float32)
    for _ in range(terms):
        fy, fx = rng.uniform(0.05, 0.4, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        color = rng.uniform(-1, 1, size=3)
        tex += np.cos(fy * _YY + fx * _XX + phase)[..., None] * color
    return (amplitude * tex / terms).astype(np.float32)


def _family(rng):
    return {
        "skin": rng.uniform([110, 70, 50], [240, 200, 170]),
        "hair": rng.uniform(0, 150, size=3),
        "face_ry": rng.uniform(21, 25),
        "face_rx": rng.uniform(16, 20),
        "background": rng.uniform(30, 225, size=3),
        "eye_color": rng.uniform(0, 110, size=3),
        "mouth_color": rng.uniform([90, 20, 20], [220, 120, 120]),
        "nose": rng.uniform(-30, 0),
        "brow": rng.uniform(0.3, 1.0),
    }


def identity_prototype(rng, family):
    """Parameters of one identity: its family's look, individually perturbed."""
    return {
        "background": np.clip(family["background"] + rng.normal(0, 20, size=3), 0, 255),
        "skin": np.clip(family["skin"] + rng.normal(0, 9, size=3), 0, 255),
        "hair": np.clip(family["hair"] + rng.normal(0, 15, size=3), 0, 255),
        "hair_depth": rng.uniform(4, 9),
        "fringe": rng.uniform(-4, 4),
        "face_ry": family["face_ry"] + rng.normal(0, 1.0),
        "face_rx": family["face_rx"] + rng.normal(0, 1.0),
        "eye_color": np.clip(family["eye_color"] + rng.normal(0, 6, size=3), 0, 255),
        "eye_r": rng.uniform(1.6, 2.8),
        "eye_gap": rng.uniform(6.5, 9.5),
        "eye_dy": rng.uniform(-6.5, -3.5),
        "brow": family["brow"],
        "nose": family["nose"],
        "mouth_color": np.clip(family["mouth_color"] + rng.normal(0, 6, size=3), 0, 255),
        "mouth_rx": rng.uniform(4, 8),
        "mouth_dy": rng.uniform(10.5, 13.5),
        "texture": _smooth_texture(rng, 16.0),
    }


def _occlude(img, rng):
    """An occluder of one of three kinds, in place."""
    kind = rng.integers(3)
    color = rng.uniform(0, 255, size=3)
    if kind == 0:  # a hand or a shoulder from a side/bottom corner
        cy, cx = rng.uniform(38, 60), rng.choice([rng.uniform(-6, 8), rng.uniform(39, 53)])
        img[_ellipse(cy, cx, rng.uniform(8, 16), rng.uniform(6, 12))] = color
    elif kind == 1:  # a microphone or a cup: a vertical bar
        x0 = int(rng.integers(0, WIDTH - 5))
        img[int(rng.integers(25, 45)) :, x0 : x0 + int(rng.integers(3, 7))] = color
    else:  # a caption bar at the bottom
        img[int(rng.integers(46, 52)) :, :] = color


def render(proto, rng):
    """One image of an identity and its landmarks: float32 (55, 47, 3) 0..255, float32 (7,)."""
    cy, cx = 30 + rng.uniform(-2.5, 2.5), 23 + rng.uniform(-3, 3)
    scale = rng.uniform(0.9, 1.1)
    fy, fx = rng.uniform(-1.5, 1.5), rng.uniform(-2, 2)  # pose: features shift inside the face
    img = np.empty(INPUT_SHAPE, np.float32)
    img[:] = proto["background"]
    ry, rx = proto["face_ry"] * scale, proto["face_rx"] * scale
    face = _ellipse(cy, cx, ry, rx)
    img[face] = proto["skin"]
    hair = face & (_YY < cy - ry + proto["hair_depth"] * scale + proto["fringe"] * (_XX - cx) / rx)
    img[hair | _ellipse(cy - ry * 0.95, cx, ry * 0.3, rx * 1.05)] = proto["hair"]
    eye_y = cy + (proto["eye_dy"] + fy) * scale
    eye_r = proto["eye_r"] * scale
    eyes = []
    for side in (-1, 1):
        ex = cx + fx + side * proto["eye_gap"] * scale
        eyes.append(ex)
        img[_ellipse(eye_y, ex, eye_r, eye_r * 1.4)] = proto["eye_color"]
        brow = _ellipse(eye_y - 3.5 * scale, ex, 0.9, 3.5 * scale)
        img[brow] = img[brow] * (1 - proto["brow"]) + proto["hair"] * proto["brow"]
    nose = _ellipse(eye_y + 6.5 * scale, cx + fx, 3.0 * scale, 1.3 * scale)
    img[nose] += proto["nose"]
    mouth_y = cy + (proto["mouth_dy"] + fy) * scale
    mouth_rx = proto["mouth_rx"] * scale * rng.uniform(0.8, 1.25)
    img[_ellipse(mouth_y, cx + fx, 1.7 * scale, mouth_rx)] = proto["mouth_color"]
    img += np.roll(proto["texture"], (int(round(cy - 30)), int(round(cx - 23))), axis=(0, 1))
    if rng.uniform() < 0.45:
        _occlude(img, rng)
    light = (
        rng.uniform(-30, 30) * (_XX - WIDTH / 2.0) / WIDTH
        + rng.uniform(-20, 20) * (_YY - HEIGHT / 2.0) / HEIGHT
    )
    img = img * rng.uniform(0.65, 1.3) + light[..., None] + rng.uniform(-22, 22, size=3)
    img += rng.normal(0, rng.uniform(4, 14), size=INPUT_SHAPE)
    landmarks = [eye_y, eyes[0], eyes[1], eye_r, mouth_y, cx + fx, mouth_rx]
    return np.clip(np.round(img), 0, 255).astype(np.float32), np.asarray(landmarks, np.float32)


def prototypes(n_classes, seed):
    """The identities' prototypes, FAMILY_SIZE look-alikes per family."""
    protos = []
    for c in range(n_classes):
        family = _family(np.random.default_rng([seed, 7, c // FAMILY_SIZE]))
        protos.append(identity_prototype(np.random.default_rng([seed, c]), family))
    return protos


def make_split(n_classes, per_class, seed, split_index):
    """x (n_classes*per_class, 55, 47, 3), y, landmarks (N, 7): the identities' images."""
    protos = prototypes(n_classes, seed)
    rng = np.random.default_rng([seed, 1000 + split_index])
    n = n_classes * per_class
    x = np.empty((n,) + INPUT_SHAPE, np.float32)
    marks = np.empty((n, len(LANDMARKS)), np.float32)
    y = np.repeat(np.arange(n_classes), per_class)
    for i, label in enumerate(y):
        x[i], marks[i] = render(protos[label], rng)
    order = rng.permutation(n)
    return x[order], y[order], marks[order]


def save_landmarks(path, landmarks):
    """Add the landmarks (N, 7) to a data set written by datasets.save_dataset."""
    import h5py

    with h5py.File(str(path), "a") as handle:
        handle.create_dataset("landmarks", data=np.asarray(landmarks, np.float32))
        handle["landmarks"].attrs["columns"] = ",".join(LANDMARKS)


def load_landmarks(path):
    """The landmarks of a challenge-style demo set, or None (a 'simple' demo set has none)."""
    import h5py

    with h5py.File(str(path), "r") as handle:
        return np.asarray(handle["landmarks"]) if "landmarks" in handle else None
