"""Neural Cleanse (Wang et al., 2019): trigger reverse-engineering, verdict and mitigation.

`core` optimizes the masks and patterns of a batch of labels in NumPy (schedules, Adam, lambda);
`tf_loss` is the only TensorFlow part, the loss and its gradients on either TF stack; `scan`
is the resumable loop of one job (labels in batches, each finished label saved); `store`
reads and writes progress, results and run fingerprints; `refine` picks the labels of the
second stage and runs the MAD test of their norms (the statistic itself is bdeval.mad);
`verdict` puts the outcome in plain words; `gallery` draws the reversed triggers as a PNG;
`filter` is the mitigation, the input filter and the GoodNet of kind 'neural_cleanse'. Nothing
is imported here: import the submodule you need (only `tf_loss` and `filter` load TensorFlow).
"""
