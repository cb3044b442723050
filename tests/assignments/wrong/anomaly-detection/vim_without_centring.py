# fails: vim
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# ViM with the principal subspace of the raw features: the mean is never subtracted.
def vim_score(feat_fit, logits_fit, feat, logits, dim=8):
    _, _, vh = torch.linalg.svd(feat_fit, full_matrices=False)
    outside = torch.eye(feat_fit.shape[1], dtype=feat_fit.dtype) - vh[:dim].T @ vh[:dim]
    alpha = logits_fit.max(dim=1).values.mean() / (feat_fit @ outside).norm(dim=1).mean()
    extended = torch.cat([logits, (alpha * (feat @ outside).norm(dim=1))[:, None]], dim=1)
    return torch.softmax(extended, dim=1)[:, -1]
