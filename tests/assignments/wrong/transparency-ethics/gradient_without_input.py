# fails: attributions
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Plain saliency: the gradient's size at each token, without multiplying by the embedding.
def token_attributions(net, sentence):
    ids, mask, tokens = encode([sentence])
    emb = net.embed(ids).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(net.from_embeddings(emb, mask).sum(), emb)
    return tokens[0], grad.norm(dim=-1)[0, : len(tokens[0])].numpy()
