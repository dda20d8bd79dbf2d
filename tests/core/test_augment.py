"""Augmentations: each transform does what its name says, output stays binary, runs are seeded."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from studio.core.augment import (AUGMENTS, augment_images, change_thickness, elastic_field, epoch_images,
                                 parse_augment, random_matrices, shift_images, warp_images)
from studio.core.training import EpochFinished, TrainingConfig, train
from tests.helpers import tiny_dataset


def bar(height: int = 20, width: int = 4) -> np.ndarray:
    """(1, 1024) uint8: a vertical bar centred in the image."""
    image = np.zeros((32, 32), np.uint8)
    top, left = (32 - height) // 2, (32 - width) // 2
    image[top:top + height, left:left + width] = 1
    return image.reshape(1, 1024)


def principal_angle(image: np.ndarray) -> float:
    """Angle in degrees of the ink's principal axis from straight down, atan2(vx, vy) in (x right, y
    down) coordinates: positive when the axis's lower end points right of straight down."""
    rows, cols = np.nonzero(image.reshape(32, 32))
    x, y = cols - cols.mean(), rows - rows.mean()
    cov = np.cov(np.stack([x, y]))
    values, vectors = np.linalg.eigh(cov)
    vx, vy = vectors[:, np.argmax(values)]
    if vy < 0:
        vx, vy = -vx, -vy
    return float(np.degrees(np.arctan2(vx, vy)))


def rotation(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]])


def test_rotation_turns_a_bars_principal_axis() -> None:
    for degrees in (-30.0, -10.0, 15.0, 40.0):
        turned = warp_images(bar(), rotation(degrees))
        # A vector (0, 1) (down) turned by +a in (x, y) goes to (-sin a, cos a): angle -a from down.
        assert principal_angle(turned) == pytest.approx(-degrees, abs=4.0)
        assert abs(int(turned.sum()) - 80) <= 12          # ink is kept, give or take the rounding


def test_identity_warp_changes_nothing_and_zero_field_too() -> None:
    images = (np.random.default_rng(0).random((5, 1024)) < 0.3).astype(np.uint8)
    same = warp_images(images, np.repeat(np.eye(2)[None], 5, axis=0), np.zeros((5, 32, 32, 2), np.float32))
    np.testing.assert_array_equal(same, images)


def test_scale_and_shear_change_the_bars_box_and_slant() -> None:
    wide = warp_images(bar(20, 10), np.array([[[0.5, 0.0], [0.0, 1.0]]]))
    rows, cols = np.nonzero(wide.reshape(32, 32))
    assert cols.max() - cols.min() + 1 == 5 and rows.max() - rows.min() + 1 == 20
    slanted = warp_images(bar(), np.array([[[1.0, 0.5], [0.0, 1.0]]])).reshape(32, 32)
    # x' = x + 0.5 (y - c): the bottom rows move right, the top rows left.
    top_cols = np.nonzero(slanted[7])[0]
    bottom_cols = np.nonzero(slanted[24])[0]
    assert bottom_cols.mean() - top_cols.mean() == pytest.approx(0.5 * 17, abs=1.0)


def test_thickness_changes_the_ink_monotonically() -> None:
    image = bar(20, 5)
    steps = np.array([-1, 0, 1])
    thinner, same, thicker = change_thickness(np.repeat(image, 3, axis=0), steps)
    assert thinner.sum() < same.sum() < thicker.sum()
    np.testing.assert_array_equal(same, image[0])
    assert (thinner <= image[0]).all() and (thicker >= image[0]).all()
    # A one-pixel line is not eroded away.
    line = bar(20, 1)
    np.testing.assert_array_equal(change_thickness(line, np.array([-1])), line)


def test_elastic_fields_are_smooth_seeded_and_of_the_stated_size() -> None:
    a = elastic_field(50, np.random.default_rng(1))
    b = elastic_field(50, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50, 32, 32, 2)
    assert np.sqrt(np.mean(a ** 2)) == pytest.approx(1.5, rel=0.2)
    # Smooth: neighbouring pixels move almost alike compared with the field's own size.
    assert np.abs(np.diff(a, axis=2)).mean() < 0.2 * np.abs(a).mean()


def test_augment_is_seeded_binary_and_keeps_shape_and_dtype() -> None:
    images = np.repeat(bar(24, 6), 64, axis=0)
    for names in [(a,) for a in AUGMENTS] + [AUGMENTS]:
        a = augment_images(images, names, np.random.default_rng(5))
        b = augment_images(images, names, np.random.default_rng(5))
        c = augment_images(images, names, np.random.default_rng(6))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c), names
        assert a.shape == images.shape and a.dtype == images.dtype
        assert set(np.unique(a)) <= {0, 1}
        # Each image gets its own draw: not all copies of the bar come out alike.
        assert len({row.tobytes() for row in a}) >= 3, names
    np.testing.assert_array_equal(augment_images(images, (), np.random.default_rng(0)), images)


def test_random_matrices_draw_only_the_named_transforms() -> None:
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(random_matrices(10, (), rng), np.repeat(np.eye(2)[None], 10, axis=0))
    rotations = random_matrices(100, ("rotate",), np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0)
    angles = np.degrees(np.arctan2(rotations[:, 1, 0], rotations[:, 0, 0]))
    assert np.abs(angles).max() <= 12.0 and angles.std() > 4
    scales = random_matrices(100, ("scale",), np.random.default_rng(0))
    assert (scales[:, 0, 1] == 0).all() and 0.8 <= scales[:, 0, 0].min() and scales[:, 1, 1].max() <= 1.05


def test_parse_augment_names() -> None:
    assert parse_augment("elastic, rotate") == ("rotate", "elastic")
    assert parse_augment("none") == () and parse_augment("") == ()
    with pytest.raises(ValueError, match="unknown augmentation 'twist'.*rotate, scale"):
        parse_augment("rotate,twist")


def test_epoch_images_with_shift_only_are_the_old_shifts() -> None:
    images = (np.random.default_rng(0).random((20, 1024)) < 0.3).astype(np.uint8)
    old = shift_images(images, 2, np.random.default_rng([7, 2, 3]))
    np.testing.assert_array_equal(epoch_images(images, (), 2, seed=7, epoch=3), old)
    assert epoch_images(images, (), 0, seed=7, epoch=3) is images
    both = epoch_images(images, ("rotate",), 2, seed=7, epoch=3)
    np.testing.assert_array_equal(both, epoch_images(images, ("rotate",), 2, seed=7, epoch=3))
    assert not np.array_equal(both, epoch_images(images, ("rotate",), 2, seed=7, epoch=4))


def test_config_augment_validates_and_round_trips() -> None:
    config = TrainingConfig(augment=("rotate", "thickness"))
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["augment"] == ["rotate", "thickness"]
    old = config.to_dict()
    del old["augment"]
    assert TrainingConfig.from_dict(old).augment == ()
    with pytest.raises(ValueError, match="augmentations must be distinct names"):
        TrainingConfig(augment=("twist",)).validate()
    with pytest.raises(ValueError, match="unknown augmentation"):
        TrainingConfig.from_dict({**config.to_dict(), "augment": ["twist"]})
    assert "rotate+thickness" in config.label()


def test_an_augmented_run_is_reproducible_and_learns() -> None:
    config = TrainingConfig(hidden=(16,), activation="relu", loss="ce", init="he", bias_init="zeros",
                            lr=0.05, batch_size=10, momentum=0.9, order="shuffle", max_epochs=8, seed=2,
                            augment=AUGMENTS)
    runs = []
    for _ in range(2):
        network = config.build_network()
        events = [e for e in train(network, tiny_dataset(), config) if isinstance(e, EpochFinished)]
        runs.append((network, events))
    np.testing.assert_array_equal(runs[0][0].weights[0], runs[1][0].weights[0])
    assert runs[0][1][-1].train_loss < runs[0][1][0].train_loss
    plain = replace(config, augment=())
    network = plain.build_network()
    list(train(network, tiny_dataset(), plain))
    assert not np.array_equal(network.weights[0], runs[0][0].weights[0])
