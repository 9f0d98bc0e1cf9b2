"""MAD anomaly index and flagging rule of Neural Cleanse (plain NumPy)."""

import numpy as np
import pytest

from bdeval import mad


def test_anomaly_index_on_an_odd_count():
    norms = [1.0, 2.0, 3.0, 4.0, 100.0]  # median 3, deviations 2 1 0 1 97 -> MAD 1
    np.testing.assert_allclose(mad.anomaly_index(norms), np.array([2, 1, 0, 1, 97]) / 1.4826)


def test_anomaly_index_on_an_even_count():
    norms = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]  # median 35; deviations 25 15 5 5 15 25 -> MAD 15
    np.testing.assert_allclose(mad.anomaly_index(norms), np.array([25, 15, 5, 5, 15, 25]) / (1.4826 * 15))


def test_zero_mad():
    np.testing.assert_array_equal(mad.anomaly_index([5.0, 5.0, 5.0, 1.0]), [0, 0, 0, np.inf])


def test_only_small_norms_beyond_the_threshold_are_flagged():
    norms = [100.0, 102.0, 98.0, 101.0, 99.0, 103.0, 97.0, 100.0, 10.0, 400.0]
    flags = mad.flagged(norms, threshold=2.0)
    assert flags.tolist() == [False] * 8 + [True, False]  # 400 is an outlier, but above the median
    summary = mad.summarize(range(10), norms)
    assert summary["flagged"] == [8]
    assert summary["anomaly_index"][8] > 2
    assert summary["max_anomaly_index"] == pytest.approx(summary["anomaly_index"][8])


def test_all_flagged_labels_are_reported_largest_index_first():
    norms = [float(v) for v in range(40, 61)] + [5.0, 20.0, 10.0]  # 21 ordinary, 3 small
    summary = mad.summarize(range(24), norms, threshold=2.0)
    assert summary["flagged"] == [21, 23, 22]
    index = mad.anomaly_index(norms)
    assert [summary["anomaly_index"][y] for y in (21, 23, 22)] == [index[21], index[23], index[22]]


def test_threshold_is_strict_and_configurable():
    norms = np.array([10.0, 12.0, 14.0, 16.0, 18.0, 2.0])  # median 13, MAD 3
    index = mad.anomaly_index(norms)
    assert index[5] == pytest.approx(11 / (1.4826 * 3))
    assert mad.flagged(norms, threshold=index[5]).sum() == 0
    assert mad.flagged(norms, threshold=index[5] - 1e-9)[5]


def test_nothing_below_the_median():
    summary = mad.summarize(range(4), [1.0, 1.0, 1.0, 1.0])
    assert summary["flagged"] == [] and summary["max_anomaly_index"] == 0.0


def test_empty_input_is_rejected():
    with pytest.raises(ValueError):
        mad.anomaly_index([])
