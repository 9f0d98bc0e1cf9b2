"""Neural Cleanse's outlier test on trigger norms, in plain NumPy.

Anomaly index of label y: |L1_y - median| / (1.4826 * MAD), with MAD the median absolute
deviation of the L1 norms from their median (1.4826 makes it a consistent estimator of the
standard deviation for normal data). A label is flagged when its norm is BELOW the median and
its index exceeds the threshold (2 in the paper): a backdoor target needs a small trigger.
"""

import numpy as np

CONSISTENCY = 1.4826
DEFAULT_THRESHOLD = 2.0


def anomaly_index(norms):
    """Anomaly index of every norm. With MAD = 0, labels at the median get 0 and others inf."""
    norms = np.asarray(norms, np.float64)
    if norms.ndim != 1 or norms.size == 0:
        raise ValueError("anomaly_index needs a non-empty 1-D array of norms")
    median = np.median(norms)
    deviation = np.abs(norms - median)
    scale = CONSISTENCY * np.median(deviation)
    if scale == 0:
        return np.where(deviation == 0, 0.0, np.inf)
    return deviation / scale


def flagged(norms, threshold=DEFAULT_THRESHOLD):
    """Boolean mask of the labels flagged as backdoor targets."""
    norms = np.asarray(norms, np.float64)
    return (norms < np.median(norms)) & (anomaly_index(norms) > threshold)


def summarize(labels, norms, threshold=DEFAULT_THRESHOLD):
    """{'flagged': [labels], 'anomaly_index': {label: index of each flagged label},
    'max_anomaly_index': largest index among below-median labels (0 if none)}."""
    labels = [int(y) for y in labels]
    norms = np.asarray(norms, np.float64)
    index = anomaly_index(norms)
    flags = flagged(norms, threshold)
    below = norms < np.median(norms)
    order = np.argsort(-index[flags], kind="stable")
    chosen = [labels[i] for i in np.flatnonzero(flags)[order]]
    return {
        "flagged": chosen,
        "anomaly_index": {y: float(index[labels.index(y)]) for y in chosen},
        "max_anomaly_index": float(index[below].max()) if below.any() else 0.0,
        "median_l1": float(np.median(norms)),
        "threshold": float(threshold),
    }
