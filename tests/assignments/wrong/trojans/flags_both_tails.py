# fails: outlier_test
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Labels flagged on either side of the median: an abnormally large mask is taken for a backdoor.
def flag_labels(l1, threshold=2.0):
    index = mad_anomaly_index(torch.as_tensor(l1, dtype=torch.float64))
    return [k for k in range(len(index)) if index[k] > threshold]
