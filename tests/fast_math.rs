//! The f32 fast tanh and exp against the f64 standard library, over the
//! whole range: the error bounds documented in `src/scalar.rs` hold.

use netsweep::scalar::{exp_f32, tanh_f32};

fn ulps(a: f32, b: f32) -> u32 {
    if a == b {
        return 0;
    }
    assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
    a.to_bits().abs_diff(b.to_bits())
}

/// Every 37th f32 from 1e-30 to `hi` (several million points), both signs.
fn sweep(hi: f32, mut f: impl FnMut(f32)) {
    let (lo_bits, hi_bits) = (1e-30f32.to_bits(), hi.to_bits());
    let mut b = lo_bits;
    while b <= hi_bits {
        let x = f32::from_bits(b);
        f(x);
        f(-x);
        b += 37;
    }
}

#[test]
fn fast_tanh_is_within_5_ulp_everywhere() {
    let mut worst = (0, 0.0f32);
    sweep(20.0, |x| {
        let exact = (x as f64).tanh() as f32;
        let e = ulps(tanh_f32(x), exact);
        if e > worst.0 {
            worst = (e, x);
        }
    });
    eprintln!("max error {} ulp at x = {}", worst.0, worst.1);
    assert!(worst.0 <= 5, "max error {} ulp at x = {}", worst.0, worst.1);
    assert_eq!(tanh_f32(0.0), 0.0);
    assert_eq!(tanh_f32(9.5), 1.0);
    assert_eq!(tanh_f32(9.0), 1.0);
    assert_eq!(tanh_f32(-9.0), -1.0);
    // Odd, exactly.
    sweep(20.0, |x| assert_eq!(tanh_f32(-x).to_bits(), (-tanh_f32(x)).to_bits(), "x = {x}"));
    assert_eq!(tanh_f32(-1e30), -1.0);
    assert_eq!(tanh_f32(f32::INFINITY), 1.0);
    assert!(tanh_f32(f32::NAN).is_nan());
}

#[test]
fn fast_exp_is_within_1_ulp_on_its_range() {
    let mut worst = (0, 0.0f32);
    sweep(87.0, |x| {
        let exact = (x as f64).exp() as f32;
        let e = ulps(exp_f32(x), exact);
        if e > worst.0 {
            worst = (e, x);
        }
    });
    eprintln!("max error {} ulp at x = {}", worst.0, worst.1);
    assert!(worst.0 <= 1, "max error {} ulp at x = {}", worst.0, worst.1);
    assert_eq!(exp_f32(-100.0), 0.0);
    assert_eq!(exp_f32(100.0), f32::INFINITY);
    assert!(exp_f32(f32::NAN).is_nan());
}
