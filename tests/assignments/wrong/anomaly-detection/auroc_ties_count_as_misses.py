# fails: auroc
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# A tie between an anomaly and a normal score counted as a miss instead of one half.
def auroc(normal_scores, anomaly_scores):
    normal = np.asarray(normal_scores, dtype=float).ravel()
    anomalous = np.asarray(anomaly_scores, dtype=float).ravel()
    return float((anomalous[:, None] > normal[None, :]).mean())
