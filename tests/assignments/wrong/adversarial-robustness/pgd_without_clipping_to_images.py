# fails: pgd
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# PGD that never clips to [0, 1]: adversarial "images" with pixels outside the valid range.
def pgd(model, x, y, eps, alpha, steps, norm="linf"):
    x0 = x.clone().detach()
    x_adv = x0.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
        with torch.no_grad():
            if norm == "linf":
                x_adv = x0 + (x_adv + alpha * grad.sign() - x0).clamp(-eps, eps)
            else:
                x_adv = x0 + clamp_l2(x_adv + alpha * normalize_l2(grad) - x0, eps)
    return x_adv.detach()
