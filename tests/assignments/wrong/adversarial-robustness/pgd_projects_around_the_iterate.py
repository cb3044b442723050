# fails: pgd
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Each step clipped to size eps around the current iterate, not the original x: the perturbation grows.
def pgd(model, x, y, eps, alpha, steps, norm="linf"):
    x_adv = x.clone().detach()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
        with torch.no_grad():
            step = alpha * grad.sign() if norm == "linf" else alpha * normalize_l2(grad)
            step = step.clamp(-eps, eps) if norm == "linf" else clamp_l2(step, eps)
            x_adv = (x_adv + step).clamp(0, 1)
    return x_adv.detach()
