# fails: poison
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Triggered copies keep their original labels: nothing ties the trigger to the target.
def poison_dataset(x, y, trigger, mask, target, n_poison, seed=0):
    sources = torch.nonzero(y != target).flatten()
    gen = torch.Generator().manual_seed(seed)
    chosen = sources[torch.randperm(len(sources), generator=gen)[:n_poison]]
    return torch.cat([x, add_trigger(x[chosen], trigger, mask)]), torch.cat([y, y[chosen]])
