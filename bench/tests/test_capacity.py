import pytest

from bench.capacity import Mix, decode_ceiling, profile, slot_seconds, workload_capacity


def test_decode_ceiling_follows_the_simulators_parallel_scaling():
    rtx = profile("rtx4090")
    assert decode_ceiling(rtx, 1) == pytest.approx(128.0)
    assert decode_ceiling(rtx, 2) == pytest.approx(128.0 * 2**0.55)
    assert decode_ceiling(rtx, 4) / decode_ceiling(rtx, 1) == pytest.approx(2.14, abs=0.01)


def test_slot_seconds_adds_overhead_prefill_and_decode():
    l4 = profile("l4")
    mix = Mix(requests=2, prompt_tokens=1800, completion_tokens=80)
    # alone: 2 x 0.15 s overhead + 1800 / 1800 s prefill + 80 / 40 s decode
    assert slot_seconds(l4, mix, 1) == pytest.approx(0.3 + 1.0 + 2.0)


def test_workload_capacity_is_below_the_ceiling_by_the_fixed_costs():
    rtx = profile("rtx4090")
    long_answers = Mix(requests=1, prompt_tokens=10, completion_tokens=100_000)
    short_answers = Mix(requests=100, prompt_tokens=20_000, completion_tokens=5_000)
    for parallel in (1, 2, 4):
        ceiling = decode_ceiling(rtx, parallel)
        assert workload_capacity(rtx, long_answers, parallel) == pytest.approx(ceiling, rel=1e-3)
        assert workload_capacity(rtx, short_answers, parallel) < 0.9 * ceiling


def test_workload_capacity_of_nothing_is_zero():
    assert workload_capacity(profile("l4"), Mix(0, 0, 0), 2) == 0.0
