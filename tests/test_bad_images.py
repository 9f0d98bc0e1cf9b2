"""PNG/JPEG inputs: wrong size, not an image, folders."""

import os

import pytest
from PIL import Image

from bdeval.images import list_images, load_image

from bad_input_helpers import DATA, WEIGHTS, faces, input_error, write_h5  # noqa: F401

# ---------------------------------------------------------------- images


def save_rgb(path, width, height, fmt):
    Image.new("RGB", (width, height), (120, 60, 30)).save(str(path), format=fmt)
    return path


def test_right_size_png_and_jpeg_load(tmp_path):
    """Control case: 47 wide x 55 high is accepted in both formats."""
    png = load_image(save_rgb(tmp_path / "ok.png", 47, 55, "PNG"))
    jpg = load_image(save_rgb(tmp_path / "ok.jpg", 47, 55, "JPEG"))
    assert png.shape == jpg.shape == (55, 47, 3)
    assert png[0, 0].tolist() == [120, 60, 30]


@pytest.mark.parametrize(
    "name,fmt,size",
    [
        ("small.png", "PNG", (32, 32)),
        ("rotated.png", "PNG", (55, 47)),  # width and height swapped
        ("big.jpg", "JPEG", (94, 110)),
        ("big.jpeg", "JPEG", (47, 56)),
    ],
)
def test_image_with_wrong_size(tmp_path, name, fmt, size):
    """Sizes are said one way, as in the README: height first, 'expected 55 high x 47 wide'."""
    width, height = size
    path = save_rgb(tmp_path / name, width, height, fmt)
    with input_error(path, "image is {} high x {} wide".format(height, width), "expected 55 high x 47 wide"):
        load_image(path)


@pytest.mark.parametrize(
    "name,content",
    [
        ("notes.png", b"hello, I am a text file\n"),
        ("empty.jpg", b""),
        ("half.png", None),  # a real PNG cut in half
    ],
)
def test_file_that_is_not_an_image(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        save_rgb(tmp_path / "whole.png", 47, 55, "PNG")
        whole = (tmp_path / "whole.png").read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with input_error(path, "not a readable PNG/JPEG image"):
        load_image(path)


def test_list_images_of_a_folder(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    for name in ("b.png", "a.JPG", "c.jpeg", "d.PNG"):
        save_rgb(folder / name, 47, 55, "PNG" if name.lower().endswith("png") else "JPEG")
    (folder / "notes.txt").write_text("not an image")
    (folder / "labels.h5").write_bytes(b"")
    (folder / "zz.png").write_text("a text file named .png")
    single = save_rgb(tmp_path / "single.png", 47, 55, "PNG")
    missing = tmp_path / "gone.png"

    found = list_images([folder, single, missing])
    names = [os.path.basename(p) for p in found]
    assert names == ["a.JPG", "b.png", "c.jpeg", "d.PNG", "zz.png", "single.png", "gone.png"]
    assert found[0] == os.path.join(str(folder), "a.JPG")
    assert found[-2:] == [str(single), str(missing)]  # files are kept as given, even missing ones

    for path in found[:4] + [found[5]]:
        assert load_image(path).shape == (55, 47, 3)
    with input_error(found[4], "not a readable PNG/JPEG image"):
        load_image(found[4])
    with input_error(missing, "no such file"):
        load_image(found[6])
    assert list_images([tmp_path / "empty_dir_does_not_exist"]) == [
        str(tmp_path / "empty_dir_does_not_exist")
    ]
    (tmp_path / "empty").mkdir()
    assert list_images([tmp_path / "empty"]) == []
