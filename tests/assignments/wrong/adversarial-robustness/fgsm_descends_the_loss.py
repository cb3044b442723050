# fails: fgsm
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# The step's sign flipped: the untargeted attack descends the true label's loss (and the targeted one ascends).
def fgsm(model, x, y, eps, targeted=False):
    x = x.clone().detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    step = eps if targeted else -eps
    return (x + step * grad.sign()).clamp(0, 1).detach()
