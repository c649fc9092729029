//! Runtime selection of a kernel compiled for wider instruction sets.

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
                if $(std::arch::is_x86_feature_detected!($feature))&&+ {
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
                if $(std::arch::is_x86_feature_detected!($feature))&&+ {
                    // SAFETY: the CPU supports every feature `wide` was compiled for, checked just above.
                    return unsafe { wide($($arg),*) };
                }
            }
            imp($($arg),*)
        }
    };
}
