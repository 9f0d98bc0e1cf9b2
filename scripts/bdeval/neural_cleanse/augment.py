"""Label-preserving views of the clean faces for Neural Cleanse (plain NumPy).

A defender with a few clean faces gives every label an easy target: the smallest of 1283
ordinary labels' triggers are fitted to those few faces, pixel by pixel, and come close to a
backdoor's. A backdoor trigger was trained to work on any face, so it still works when the face
under it is mirrored or moved by a pixel or two; a trigger fitted to a few faces mostly does not.
So each face of a label's pool is also offered mirrored and shifted (edge-padded) by up to
`shift` pixels in each direction; the reversed trigger stays at its place in the image.

A view is a virtual index v = face * n_variants + variant into the faces; views are
materialized batch by batch, so memory does not grow with the number of variants.
"""

import numpy as np


def variants(flip, shift):
    """(T, 3) int array of (mirrored, dy, dx); the identity (0, 0, 0) first."""
    offsets = [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)]
    offsets.sort(key=lambda o: (o != (0, 0), abs(o[0]) + abs(o[1]), o))
    table = [(m, dy, dx) for m in ((0, 1) if flip else (0,)) for dy, dx in offsets]
    return np.asarray(table, np.int64)


def describe(settings):
    """The views a schedule's settings ask for, in words (for the job logs)."""
    flip, shift = settings["augment_flip"], settings["augment_shift"]
    if not flip and not shift:
        return "as they are"
    words = (["mirrored"] if flip else []) + (["moved up to {} px".format(shift)] if shift else [])
    return "each also {}: {} views".format(" and ".join(words), len(variants(flip, shift)))


def expand(faces, n_variants):
    """Every view of the given faces (face indices) -> virtual indices, face-major."""
    faces = np.asarray(faces, np.int64)
    return (faces[:, None] * n_variants + np.arange(n_variants)[None, :]).reshape(-1)


class Views(object):
    """views(v) -> the images of virtual indices v (any shape), shape v.shape + (H, W, C)."""

    def __init__(self, x, flip=False, shift=0):
        self.x = np.asarray(x, np.float32)
        self.shift = int(shift)
        self.table = variants(flip, self.shift)
        self.n_variants = len(self.table)
        if self.n_variants > 1:
            s = self.shift
            self.padded = np.pad(self.x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")

    def __call__(self, v):
        v = np.asarray(v, np.int64)
        if self.n_variants == 1:
            return self.x[v]
        flat = v.reshape(-1)
        face, (mirror, dy, dx) = flat // self.n_variants, self.table[flat % self.n_variants].T
        h, w = self.x.shape[1:3]
        cols = np.arange(w)[None, :] - dx[:, None]  # the face moved by dx, then read mirrored or not
        cols = np.where(mirror[:, None] == 1, w - 1 - cols, cols) + self.shift
        rows = np.arange(h)[None, :] + self.shift - dy[:, None]
        out = self.padded[face[:, None, None], rows[:, :, None], cols[:, None, :]]
        return out.reshape(v.shape + self.x.shape[1:])
