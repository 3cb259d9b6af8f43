"""The per-client token bucket, on a clock the test moves."""

from delivery.ratelimit import RateLimiter


def test_a_burst_then_one_token_per_interval_per_client():
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == 10.0  # 6 a minute: the next token in 10 s
    assert limiter.take("b") == 0  # another client has its own bucket
    now[0] = 10.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0
    now[0] = 1000.0  # idle refills to the burst, never beyond
    assert [limiter.take("a") for _ in range(3)][:2] == [0, 0] and limiter.take("a") > 0


def test_zero_rate_means_no_limit():
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.take("a") == 0 for _ in range(100))
