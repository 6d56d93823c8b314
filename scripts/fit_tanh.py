#!/usr/bin/env python3
"""Fits the rational tanh of src/scalar.rs: tanh(x) ~ x * P(x^2) / Q(x^2) on
[0, C], P of degree 6 and Q of degree 3 in x^2, Q(0) = P(0) = 1.

Method: linearised weighted least squares on the relative error
(x P - tanh(x) Q) / (tanh(x) Q_prev), with Lawson's reweighting towards the
minimax solution. Needs only numpy. Prints the coefficients as Rust f32
literals, highest degree first (the order of the Horner evaluation), and the
error of the f32 evaluation on a few million points (with fused
multiply-adds, as the Rust code evaluates it).

    python3 scripts/fit_tanh.py
"""
import numpy as np

C = 9.01  # tanh(x) rounds to 1.0f for x >= 9.01
NP, NQ = 6, 3


def fit():
    x = np.concatenate([np.geomspace(1e-4, C, 20000), np.linspace(0, C, 20000)[1:]])
    t = np.tanh(x)
    s = x * x / (C * C)  # scaled variable keeps the columns well conditioned
    w = np.ones_like(x)
    q_prev = np.ones_like(x)
    for _ in range(60):
        a = np.hstack([x[:, None] * s[:, None] ** np.arange(NP + 1), -t[:, None] * s[:, None] ** np.arange(1, NQ + 1)])
        scale = w / (t * q_prev)
        sol, *_ = np.linalg.lstsq(a * scale[:, None], t * scale, rcond=None)
        p, q = sol[: NP + 1], np.concatenate([[1.0], sol[NP + 1 :]])
        q_prev = np.polyval(q[::-1], s)
        err = np.abs((x * np.polyval(p[::-1], s) / q_prev - t) / t)
        w = w * np.sqrt(err / err.max())
        w /= w.max()
    print(f"max relative error in exact arithmetic: {err.max():.2e}")
    p = (p / C ** (2 * np.arange(NP + 1))).astype(np.float32)
    q = (q / C ** (2 * np.arange(NQ + 1))).astype(np.float32)
    return p, q


def f32_eval(xs, p, q):
    def fma(a, b, c):  # exact product in f64, one rounding to f32
        return (a.astype(np.float64) * b + c).astype(np.float32)

    u = (xs * xs).astype(np.float32)
    num = np.full_like(u, p[-1])
    for c in p[-2::-1]:
        num = fma(num, u, np.float32(c))
    den = np.full_like(u, q[-1])
    for c in q[-2::-1]:
        den = fma(den, u, np.float32(c))
    return np.minimum((xs * num).astype(np.float32) / den, np.float32(1.0))


def main():
    p, q = fit()
    print("P (u^6 .. u^0):", ", ".join(f"{float(v)!r}" for v in p[::-1]))
    print("Q (u^3 .. u^0):", ", ".join(f"{float(v)!r}" for v in q[::-1]))
    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.uniform(0, C, 2_000_000), np.geomspace(1e-6, C, 1_000_000)]).astype(np.float32)
    y = f32_eval(xs, p, q)
    exact = np.tanh(xs.astype(np.float64)).astype(np.float32)
    ulp = np.abs(y.view(np.int32).astype(np.int64) - exact.view(np.int32).astype(np.int64))
    print(f"f32 evaluation: max {ulp.max()} ulp at x = {xs[ulp.argmax()]}, {100 * (ulp > 2).mean():.2f}% above 2 ulp")


if __name__ == "__main__":
    main()
