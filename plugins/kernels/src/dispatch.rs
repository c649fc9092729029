//! Runtime selection of a kernel compiled for wider instruction sets.

/// Whether a dispatched kernel may run its copy for wider instruction sets
/// (when the CPU has them): always, except inside [`baseline`] in tests.
#[inline(always)]
pub(crate) fn wide_allowed() -> bool {
    #[cfg(test)]
    {
        !FORCE_BASELINE.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        true
    }
}

#[cfg(test)]
thread_local! {
    static FORCE_BASELINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every dispatched kernel called on this thread taking its
/// baseline copy, as on a CPU without the features (tests only).
#[cfg(test)]
pub(crate) fn baseline<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FORCE_BASELINE.with(|b| b.set(false));
        }
    }
    FORCE_BASELINE.with(|b| b.set(true));
    let _reset = Reset;
    f()
}

/// Compiles a kernel twice, for the baseline target and with the listed
/// target features (`dispatch! { ["avx2"] fn ... }`), and runs the second
/// copy when the CPU has every one of them.
///
/// Results are the same bit for bit either way: wider registers only change
/// how many independent operations run at once, Rust never contracts
/// `a * b + c` into a fused multiply-add on its own, and `f64::mul_add`
/// rounds once whether it is an instruction (with `fma`) or a call into
/// libm's `fma` (without).
///
/// `dispatch! { ["avx2", "fma"] const WIDE; fn ... }` also lets the body
/// know which copy it is: `WIDE` is a `const bool`, true in the copy compiled
/// with the features, for code that must pick an instruction sequence (say,
/// a fused multiply-add, which without `fma` is a slow call into libm).
macro_rules! dispatch {
    ([$($feature:tt),+] const $wide:ident; $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn imp<const $wide: bool>($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            {
                $(#[target_feature(enable = $feature)])+
                fn wide($($arg: $ty),*) -> $ret {
                    imp::<true>($($arg),*)
                }
                if $crate::dispatch::wide_allowed() && $(std::arch::is_x86_feature_detected!($feature))&&+ {
                    // SAFETY: the CPU supports every feature `wide` was compiled for, checked just above.
                    return unsafe { wide($($arg),*) };
                }
            }
            imp::<false>($($arg),*)
        }
    };
    ([$($feature:tt),+] $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn imp($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            {
                $(#[target_feature(enable = $feature)])+
                fn wide($($arg: $ty),*) -> $ret {
                    imp($($arg),*)
                }
                if $crate::dispatch::wide_allowed() && $(std::arch::is_x86_feature_detected!($feature))&&+ {
                    // SAFETY: the CPU supports every feature `wide` was compiled for, checked just above.
                    return unsafe { wide($($arg),*) };
                }
            }
            imp($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    //! Every dispatched kernel gives the same bits from its baseline copy as
    //! from the one `dispatch!` picks on this CPU (the wider one where the
    //! CPU has the features: AVX2 and FMA on the project's machines).
    use super::baseline;
    use crate::volatility::{StdKind, ZMean};
    use crate::{filters, momentum, rolling, talib, volatility};
    use std::fmt::Debug;

    const N: usize = 5_000;

    /// A price walk with `high`/`low` around it; with `gaps`, missing rows:
    /// a leading run, scattered single rows, a run longer than any period
    /// used here, and a flat stretch (the streaming std's special case).
    fn walk(gaps: bool) -> [Vec<f64>; 3] {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut close, mut high, mut low) = (Vec::new(), Vec::new(), Vec::new());
        let mut price = 1.1;
        for i in 0..N {
            price *= 1.0 + (uniform() - 0.5) * 4e-4;
            let flat = (3_000..3_060).contains(&i);
            let c = if flat { 1.2 } else { price };
            let missing = gaps && (i < 7 || (1_000..1_130).contains(&i) || uniform() < 0.02);
            let (h, l) = (c + uniform() * 2e-4, c - uniform() * 2e-4);
            close.push(if missing { f64::NAN } else { c });
            high.push(if missing { f64::NAN } else { h });
            low.push(if missing { f64::NAN } else { l });
        }
        [high, low, close]
    }

    /// Runs `kernel` into `outputs` fresh columns as dispatched and with the
    /// baseline copy forced; both reports and all output bits must agree.
    fn same_bits<R: PartialEq + Debug>(
        name: &str,
        outputs: usize,
        kernel: impl Fn(&mut [Vec<f64>]) -> R,
    ) {
        let mut dispatched = vec![vec![0.0; N]; outputs];
        let mut base = vec![vec![0.0; N]; outputs];
        let report = kernel(&mut dispatched);
        let base_report = baseline(|| kernel(&mut base));
        assert_eq!(report, base_report, "{name}: missing report");
        for (k, (a, b)) in dispatched.iter().zip(&base).enumerate() {
            assert_eq!(a.len(), b.len(), "{name}: output {k} length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "{name}: output {k}, row {i}: {x:e} vs {y:e}"
                );
            }
        }
    }

    /// Splits three output columns for the kernels that write three.
    fn three(outs: &mut [Vec<f64>]) -> (&mut [f64], &mut [f64], &mut [f64]) {
        match outs {
            [a, b, c] => (a, b, c),
            _ => panic!("three outputs expected"),
        }
    }

    #[test]
    fn baseline_copies_give_the_same_bits() {
        for gaps in [false, true] {
            let [h, l, c] = walk(gaps);
            let (h, l, c) = (&h[..], &l[..], &c[..]);
            let tag = |name: &str| format!("{name} (gaps: {gaps})");
            same_bits(&tag("talib::ema"), 1, |o| talib::ema(c, 20, &mut o[0]));
            same_bits(&tag("talib::dema"), 1, |o| talib::dema(c, 20, &mut o[0]));
            same_bits(&tag("talib::tema"), 1, |o| talib::tema(c, 20, &mut o[0]));
            same_bits(&tag("talib::macd"), 3, |o| {
                let (m, s, hist) = three(o);
                talib::macd(c, 12, 26, 9, m, s, hist)
            });
            same_bits(&tag("talib::atr"), 1, |o| {
                talib::atr(h, l, c, 14, &mut o[0])
            });
            same_bits(&tag("talib::dmi"), 3, |o| {
                let (p, m, a) = three(o);
                talib::dmi(h, l, c, 14, p, m, a)
            });
            same_bits(&tag("rolling_std_two_pass"), 1, |o| {
                rolling::rolling_std_two_pass(c, 20, 1, &mut o[0])
            });
            for carry_gaps in [false, true] {
                same_bits(
                    &tag(&format!("kalman_zscore (carry_gaps: {carry_gaps})")),
                    1,
                    |o| {
                        filters::kalman_zscore(
                            c,
                            100,
                            0.01,
                            1e-4,
                            carry_gaps,
                            StdKind::Streaming,
                            &mut o[0],
                        )
                    },
                );
            }
            for reseed in [false, true] {
                same_bits(&tag(&format!("atr (reseed: {reseed})")), 1, |o| {
                    volatility::atr(h, l, c, 14, reseed, &mut o[0])
                });
            }
            same_bits(&tag("dmi"), 3, |o| volatility::dmi(h, l, c, 14, three(o)));
            same_bits(&tag("bollinger"), 3, |o| match o {
                [u, m, l] => volatility::bollinger(c, 20, 2.0, StdKind::Streaming, (u, m, l)),
                _ => panic!("three outputs expected"),
            });
            for mean in [ZMean::Rolling, ZMean::Ema(20)] {
                same_bits(&tag(&format!("zscore ({mean:?})")), 1, |o| {
                    volatility::zscore(c, 100, mean, StdKind::Streaming, &mut o[0])
                });
            }
            same_bits(&tag("rsi"), 1, |o| momentum::rsi(c, 14, &mut o[0]));
            same_bits(&tag("macd"), 3, |o| match o {
                [m, s, h] => momentum::macd(c, 12, 26, 9, (m, s, h)),
                _ => panic!("three outputs expected"),
            });
        }
    }

    /// [`baseline`] really switches the copy, so the test above compares two.
    #[test]
    fn baseline_forces_the_baseline_copy() {
        dispatch! { ["avx2"] const WIDE;
            fn wide_copy_ran() -> bool { WIDE }
        }
        #[cfg(target_arch = "x86_64")]
        assert_eq!(wide_copy_ran(), std::arch::is_x86_feature_detected!("avx2"));
        assert!(!baseline(wide_copy_ran));
    }
}
