# fails: l2_helpers
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# One norm for the whole batch instead of one per example.
def normalize_l2(v):
    return v / v.norm().clamp_min(1e-12)


def clamp_l2(delta, eps):
    return delta * (eps / delta.norm().clamp_min(1e-12)).clamp(max=1.0)
