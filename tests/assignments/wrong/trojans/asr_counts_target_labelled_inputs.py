# fails: asr
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Inputs whose true label is already the target counted too: free successes inflate the rate.
def attack_success_rate(model, x, y, trigger, mask, target):
    with torch.no_grad():
        preds = model(add_trigger(x, trigger, mask)).argmax(dim=1)
    return float((preds == target).float().mean())
