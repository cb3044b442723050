# fails: fc_net
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# An off-by-one in the depth loop: a ReLU after the last affine layer too, so scores are never negative.


class FullyConnectedNet(FullyConnectedNet):
    def loss(self, X, y=None):
        caches, out = [], X
        for i in range(1, self.num_layers + 1):
            out, affine_cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            out, relu_cache = relu_forward(out)
            caches.append((affine_cache, relu_cache))
        if y is None:
            return out
        loss, dout = softmax_loss(out, y)
        grads = {}
        for i in range(self.num_layers, 0, -1):
            affine_cache, relu_cache = caches[i - 1]
            dout = relu_backward(dout, relu_cache)
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, affine_cache)
        return loss, grads
