"""Clean accuracy and attack success rate, in plain NumPy."""

import numpy as np


def accuracy(predicted, labels):
    predicted = np.asarray(predicted)
    return float(np.mean(predicted == np.asarray(labels))) if predicted.size else float("nan")


def attack_success_rate(predicted, target):
    """Fraction of poisoned inputs classified as the attacker's target label."""
    predicted = np.asarray(predicted)
    return float(np.mean(predicted == int(target))) if predicted.size else float("nan")


def goodnet_metrics(clean_answers, clean_labels, poisoned, n_classes):
    """Figures of a GoodNet (answers in [0, N], N = 'poisoned').

    poisoned: {trigger: (answers, target)}. Clean accuracy counts N as wrong; ASR counts
    answers equal to the target; detection counts answers equal to N.
    """
    clean_answers = np.asarray(clean_answers)
    result = {
        "clean_acc_test": accuracy(clean_answers, clean_labels),
        "false_alarm_clean": float(np.mean(clean_answers == n_classes)),
        "asr": {},
        "detection": {},
    }
    for trigger, (answers, target) in poisoned.items():
        result["asr"][trigger] = attack_success_rate(answers, target)
        result["detection"][trigger] = float(np.mean(np.asarray(answers) == n_classes))
    return result
