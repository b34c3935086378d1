"""The instrumentation benchmark compares each mode with the off run of its own round."""

from bench.instrumentation import Round, paired


def test_each_round_is_compared_with_its_own_off_run():
    # The machine got twice as slow in round 2: paired, the mode costs 10% in both rounds;
    # compared across rounds (1,000 against 500) it would look twice as fast.
    off = [Round(1000.0, 0.40), Round(500.0, 0.80)]
    on = [Round(900.0, 0.44), Round(450.0, 0.88)]
    rate, rate_low, rate_high = paired(off, on, lambda r: r.per_second)
    cpu, cpu_low, cpu_high = paired(off, on, lambda r: r.cpu_ms_per_command)
    assert (round(rate, 6), round(rate_low, 6), round(rate_high, 6)) == (0.9, 0.9, 0.9)
    assert (round(cpu, 6), round(cpu_low, 6), round(cpu_high, 6)) == (1.1, 1.1, 1.1)


def test_the_spread_is_the_lowest_and_highest_paired_ratio():
    off = [Round(1000.0, 0.5), Round(1000.0, 0.5), Round(1000.0, 0.5)]
    on = [Round(800.0, 0.5), Round(1100.0, 0.5), Round(950.0, 0.5)]
    assert paired(off, on, lambda r: r.per_second) == (0.95, 0.8, 1.1)
