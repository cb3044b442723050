# fails: outlier_test
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# The median absolute deviation used without the factor 1.4826: every index is 1.48 times too large.
def mad_anomaly_index(values):
    values = torch.as_tensor(values, dtype=torch.float64)
    median = values.median()
    return (values - median).abs() / (values - median).abs().median().clamp_min(1e-12)
