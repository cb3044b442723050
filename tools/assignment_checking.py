"""The `check("task")` helper of the programming assignments (copied into every assignment notebook).

tools/assignments.py puts this file's code at the top of each assignment's `checks` cell,
so that a notebook needs nothing but itself and `mlsafety` (on Colab, too). A check is a function
registered with `@task("name", points)`; it raises `AssertionError` with a message that says what is
wrong (a shape, a value, a failing case), or returns normally. `check("name")` runs one and prints
the verdict; the grader calls `_grade_task("name")`, which prints one JSON line.
"""

import json as _json
import time as _time
import traceback as _traceback

_TASKS = {}  # name -> (function, points), in the order the tasks are defined
_GRADE_MARK = "@@mlsafety-grade@@"


def task(name, points=1):
    """Register the decorated function as the check of task `name`, worth `points`."""

    def register(function):
        _TASKS[name] = (function, points)
        return function

    return register


def _run_task(name):
    """(passed, message) for one task; never raises, whatever the student's code does."""
    if name not in _TASKS:
        return False, f"there is no task {name!r}; the tasks are {', '.join(_TASKS)}"
    function, _ = _TASKS[name]
    try:
        function()
    except NotImplementedError as err:
        tb = err.__traceback__  # caught here, so it has at least this frame; its last is the stub's
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        name = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
        where = f"`{name}`" if name != "<module>" else "a function it needs"
        return False, f"not done yet: {where} still raises NotImplementedError"
    except AssertionError as err:
        return False, str(err) or "a check failed"
    except KeyboardInterrupt:
        return False, "interrupted (the check ran too long: an endless loop?)"
    except NameError as err:
        return False, f"{err}: run the cells above this one first (and finish the tasks they hold)"
    except BaseException as err:  # the student's code may raise anything; report it, do not crash
        frames = _traceback.extract_tb(err.__traceback__)
        line = f" (line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`)" if frames else ""
        return False, f"your code raised {type(err).__name__}: {err}{line}"
    return True, "passed"


def check(name):
    """Run the check of task `name` and say what is wrong, if anything."""
    start = _time.perf_counter()
    passed, message = _run_task(name)
    points = _TASKS.get(name, (None, 0))[1]
    seconds = _time.perf_counter() - start
    verdict = f"✓ {name}: passed ({points} point{'s' if points != 1 else ''})" if passed else f"✗ {name}: {message}"
    print(verdict + (f"  [{seconds:.1f} s]" if seconds >= 1 else ""))


def _grade_task(name):
    """Print one line the grader reads: the task, whether it passed, its points and the message."""
    passed, message = _run_task(name)
    points = _TASKS.get(name, (None, 0))[1]
    print(_GRADE_MARK + _json.dumps({"task": name, "passed": passed, "points": points, "message": message}))


# -- helpers for writing checks: each failure message names what was expected and what was found --


def _describe(value):
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else repr(value)[:80]


def expect_shape(what, value, shape):
    """`value` has the given shape (a tuple)."""
    got = getattr(value, "shape", None)
    assert got is not None, f"{what} should be an array or tensor of shape {tuple(shape)}, got {_describe(value)}"
    assert tuple(got) == tuple(shape), f"{what} has shape {tuple(got)}, expected {tuple(shape)}"


def expect_close(what, value, expected, rtol=1e-4, atol=1e-6):
    """`value` equals `expected` (arrays or tensors) within tolerance; names the worst entry if not."""
    import numpy as np

    def as_array(x):
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        return np.asarray(x, dtype=float)

    if value is None:
        raise AssertionError(f"{what} is None: did the function forget to return it?")
    got, want = as_array(value), as_array(expected)
    expect_shape(what, got, want.shape)
    error = np.abs(got - want) - (atol + rtol * np.abs(want))
    if np.all(error <= 0):
        return
    worst = np.unravel_index(int(np.argmax(error)), want.shape) if want.shape else ()
    place = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    raise AssertionError(
        f"{what} is wrong{place}: got {got[worst]:.6g}, expected {want[worst]:.6g} "
        f"({int(np.sum(error > 0))} of {want.size} entries differ)"
    )
