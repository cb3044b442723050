# fails: logit_scores
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# The maximum softmax probability itself, not minus it: confident inputs look the most anomalous.
def msp_score(logits):
    return torch.softmax(logits, dim=1).max(dim=1).values
