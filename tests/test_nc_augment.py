"""Neural Cleanse's label-preserving views of the clean faces (bdeval.neural_cleanse.augment)."""

import numpy as np
import pytest

from bdeval.neural_cleanse import augment, core


@pytest.fixture
def faces():
    return np.random.RandomState(0).uniform(0, 255, size=(3, 7, 5, 3)).astype(np.float32)


def view(views, face, mirrored, dy, dx):
    variant = [list(v) for v in views.table].index([mirrored, dy, dx])
    return views(np.array([face * views.n_variants + variant]))[0]


def test_views_are_the_faces_mirrored_and_shifted_with_edge_padding(faces):
    views = augment.Views(faces, flip=True, shift=2)
    assert views.n_variants == 2 * 5 * 5
    assert list(views.table[0]) == [0, 0, 0]
    assert np.array_equal(view(views, 1, 0, 0, 0), faces[1])
    assert np.array_equal(view(views, 2, 1, 0, 0), faces[2][:, ::-1])
    down = view(views, 0, 0, 2, 0)  # the face moved 2 rows down, its top row repeated above
    assert np.array_equal(down[2:], faces[0][:-2]) and np.array_equal(down[0], faces[0][0])
    left = view(views, 0, 0, 0, -1)
    assert np.array_equal(left[:, :-1], faces[0][:, 1:]) and np.array_equal(left[:, -1], faces[0][:, -1])
    both = view(views, 1, 1, 1, 1)  # mirrored, then moved one down and one right
    assert np.array_equal(both[1:, 1:], faces[1][:-1, ::-1][:, :-1])


def test_views_keep_the_shape_of_the_index_array(faces):
    views = augment.Views(faces, flip=True, shift=1)
    index = augment.expand([0, 2], views.n_variants).reshape(2, -1)
    out = views(index)
    assert out.shape == (2, views.n_variants) + faces.shape[1:]
    assert np.array_equal(out[1, 0], faces[2])
    assert len(np.unique(out[0].reshape(views.n_variants, -1), axis=0)) == views.n_variants


def test_without_augmentation_the_faces_are_given_as_they_are(faces):
    views = augment.Views(faces)
    assert views.n_variants == 1
    assert np.array_equal(views(np.array([[2, 0]])), faces[[2, 0]][None])
    assert list(augment.expand([4, 1], 1)) == [4, 1]


def test_the_paper_schedule_is_not_augmented_and_ours_are():
    assert not core.SCHEDULES["original"]["augment_flip"] and core.SCHEDULES["original"]["augment_shift"] == 0
    for name in ("default", "refine"):
        assert core.SCHEDULES[name]["augment_flip"] and core.SCHEDULES[name]["augment_shift"] >= 1
