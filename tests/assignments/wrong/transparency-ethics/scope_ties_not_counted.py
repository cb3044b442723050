# fails: scope
# ruff: noqa: F821  (runs in the notebook, where these names are defined)
# Only strict decreases reported: a utility that stays flat as the count grows passes unnoticed.
def scope_violations(template, counts):
    u = utility([template.format(n=n) for n in counts])
    return [(counts[i], counts[i + 1]) for i in range(len(counts) - 1) if u[i + 1] < u[i]]
