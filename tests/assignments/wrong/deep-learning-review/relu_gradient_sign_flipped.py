# fails: relu, fc_net
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# The ReLU's gradient passed where the input is negative instead of positive (a flipped comparison).
def relu_backward(dout, cache):
    x = cache
    return dout * (x < 0)
