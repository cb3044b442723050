# fails: heatmap
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Positive scores drawn red and negative ones blue, the opposite of the legend.
def render_heatmap(tokens, scores):
    scores = np.asarray(scores, dtype=float)
    top = float(np.abs(scores).max()) or 1.0
    return " ".join(
        f'<span style="background-color: rgba({"255, 0, 0" if s > 0 else "0, 0, 255"}, {abs(s) / top:.2f})">'
        f"{html.escape(t)}</span>"
        for t, s in zip(tokens, scores, strict=True)
    )
