"""Clean accuracy and attack success rate, in plain NumPy."""
import numpy as np


def accuracy(predicted, labels):
    predicted = np.asarray(predicted)
    return float(np.mean(predicted == np.asarray(labels))) if predicted.size else float("nan")


def attack_success_rate(predicted, target):
    """Fraction of poisoned inputs classified as the attacker's target label."""
    predicted = np.asarray(predicted)
    return float(np.mean(predicted == int(target))) if predicted.size else float("nan")
