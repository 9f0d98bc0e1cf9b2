"""Shared code of the backdoor-defense workflow: DeepID model, data, metrics, outputs."""

from .tflog import quiet_tensorflow

quiet_tensorflow()  # before any module here imports TensorFlow: its start-up lines hidden

NUM_CLASSES_CHALLENGE = 1283
INPUT_SHAPE = (55, 47, 3)
