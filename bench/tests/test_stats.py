import pytest

from bench.stats import p50_p95, percentile, ratio


def test_percentile_interpolates_like_numpy():
    samples = [4.0, 1.0, 3.0, 2.0]
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 95) == pytest.approx(3.85)


def test_percentile_of_one_sample_is_that_sample():
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_nothing_and_bad_q():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_p50_p95_and_ratio():
    assert p50_p95([]) is None
    assert p50_p95([1.0, 2.0, 3.0]) == (2.0, pytest.approx(2.9))
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(3.0, 0.0) == 0.0
