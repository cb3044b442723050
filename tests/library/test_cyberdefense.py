"""Tests for the fuzzer of the ML for Cyberdefense chapter (mlsafety.fuzz, trace_arcs, mutate_input)."""

import random
import sys

import pytest

from mlsafety import FuzzResult, fuzz, mutate_input, trace_arcs


def parse_packet(data: bytes) -> str:
    """The chapter's toy parser: b'PKT', version, kind, length, payload; echo trusts the length field."""
    if len(data) < 6:
        return "short"
    if data[:3] != b"PKT":
        return "bad magic"
    version, kind, length, payload = data[3], data[4], data[5], data[6:]
    if version == 0 or version > 2:
        return "bad version"
    if kind == 0x41:
        return "ack"
    if kind == 0x44:
        if len(payload) < length:
            return "truncated"
        return "data"
    if kind == 0x45:
        if version != 2:
            return "echo needs v2"
        if length == 0:
            return "empty echo"
        return "echo " + str(payload[length - 1])  # planted bug
    return "unknown kind"


SEEDS = [b"PKT\x01A\x00hello"]


def shallow(data: bytes) -> int:
    """A target with a crash reachable by most inputs, and two branches."""
    if len(data) > 3:
        return 1 // 0
    return 0


def test_coverage_guided_finds_planted_bug_that_random_misses():
    # Fixed seeds 0..11. The random fuzzer's inputs never depend on coverage, so "random finds nothing" holds on
    # every Python version; the guided fuzzer's corpus depends on the traced arcs, whose line events differ a
    # little between versions, so we require it on several of the fixed seeds (9 of 12 here) rather than on one.
    guided = [fuzz(parse_packet, SEEDS, budget=8000, coverage_guided=True, seed=s) for s in range(12)]
    blind = [fuzz(parse_packet, SEEDS, budget=8000, coverage_guided=False, seed=s) for s in range(12)]
    assert all(isinstance(r, FuzzResult) for r in guided + blind)
    found = [r for r in guided if r.crashes]
    assert len(found) >= 3, "coverage-guided fuzzing should reach the planted bug on several fixed seeds"
    assert not any(r.crashes for r in blind), "random fuzzing should not reach the planted bug on these seeds"
    assert sum(r.coverage[-1] for r in guided) > sum(r.coverage[-1] for r in blind)
    for result in found:
        step, data, message = result.crashes[0]
        assert message.startswith("IndexError")
        assert data[:3] == b"PKT" and data[3] == 2 and data[4] == 0x45 and data[5] > len(data) - 6
        assert 0 <= step < 8000


def test_trace_arcs_restores_previous_tracer():
    """The fuzzer must not switch off a debugger or coverage tool that was tracing before it ran."""

    def outer(frame, event, arg):
        return None

    previous = sys.gettrace()
    try:
        sys.settrace(outer)
        trace_arcs(parse_packet, SEEDS[0])
        assert sys.gettrace() is outer
        trace_arcs(shallow, b"abcd")  # the target raises: the tracer is restored all the same
        assert sys.gettrace() is outer
        sys.settrace(None)
        fuzz(parse_packet, SEEDS, budget=20, seed=0)
        assert sys.gettrace() is None
    finally:
        sys.settrace(previous)


def test_trace_arcs_restores_tracer_on_base_exception():
    def interrupted(data: bytes) -> None:
        raise KeyboardInterrupt

    previous = sys.gettrace()
    with pytest.raises(KeyboardInterrupt):
        trace_arcs(interrupted, b"")
    assert sys.gettrace() is previous


def test_crash_input_reproduces_and_is_recorded_with_the_input():
    result = fuzz(shallow, [b"ab"], budget=200, seed=0)
    assert len(result.crashes) == 1  # one distinct crash (type, line)
    step, data, message = result.crashes[0]
    assert len(data) > 3 and message.startswith("ZeroDivisionError")
    arcs, error = trace_arcs(shallow, data)
    assert isinstance(error, ZeroDivisionError) and arcs


def test_coverage_is_monotone_and_one_entry_per_execution():
    for guided in (True, False):
        result = fuzz(parse_packet, SEEDS, budget=800, coverage_guided=guided, seed=1)
        assert len(result.coverage) == 800
        assert all(a <= b for a, b in zip(result.coverage[:-1], result.coverage[1:], strict=True))
        assert result.coverage[0] >= len(trace_arcs(parse_packet, SEEDS[0])[0])


def test_deterministic_under_seed():
    a = fuzz(parse_packet, SEEDS, budget=500, seed=3)
    b = fuzz(parse_packet, SEEDS, budget=500, seed=3)
    assert a.coverage == b.coverage and a.inputs == b.inputs and a.crashes == b.crashes


def test_inputs_found_reach_new_arcs():
    result = fuzz(parse_packet, SEEDS, budget=1000, seed=0)
    seen = set(trace_arcs(parse_packet, SEEDS[0])[0])
    assert result.inputs
    for data in result.inputs:
        arcs = trace_arcs(parse_packet, data)[0]
        assert not arcs <= seen
        seen |= arcs


def test_trace_arcs_distinguishes_paths():
    short = trace_arcs(parse_packet, b"PK")[0]
    ack = trace_arcs(parse_packet, SEEDS[0])[0]
    assert short and ack and short != ack
    assert trace_arcs(parse_packet, b"PKT\x02E\x09ab")[1].__class__ is IndexError


def test_mutate_input_respects_length_and_returns_bytes():
    rng = random.Random(0)
    for _ in range(200):
        out = mutate_input(b"x" * 60, rng, [b"y" * 64], [0x41], max_len=64)
        assert isinstance(out, bytes) and len(out) <= 64


@pytest.mark.parametrize("budget", [0, -5, 2.5, "10", True])
def test_bad_budget_raises(budget):
    with pytest.raises(ValueError, match="budget"):
        fuzz(parse_packet, SEEDS, budget=budget)


def test_empty_seeds_raise():
    with pytest.raises(ValueError, match="seeds"):
        fuzz(parse_packet, [], budget=10)
