"""Shared code of the backdoor-defense workflow: DeepID model, data, metrics, outputs."""

NUM_CLASSES_CHALLENGE = 1283
INPUT_SHAPE = (55, 47, 3)
