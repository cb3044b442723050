# fails: fpr95
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# An off-by-one in the threshold: floor instead of ceiling, so fewer than 95 % of anomalies are flagged.
def fpr_at_95_tpr(normal_scores, anomaly_scores):
    normal = np.asarray(normal_scores, dtype=float).ravel()
    anomalous = np.asarray(anomaly_scores, dtype=float).ravel()
    k = int(np.floor(0.95 * len(anomalous)))
    threshold = np.sort(anomalous)[::-1][k - 1]
    return float(np.mean(normal >= threshold))
