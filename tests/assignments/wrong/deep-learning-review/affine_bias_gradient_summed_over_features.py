# fails: affine, fc_net
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# The bias gradient summed over the wrong axis (features instead of the batch): a shape error.
def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=1)
