//! Run-time selection of vector instructions.
//!
//! The crate is built for the baseline of its target (SSE2 on x86-64), so
//! that the binary runs on every CPU; the hot kernels are additionally
//! compiled with AVX2 and chosen at run time when the CPU has it.

/// Which vector kernels the running CPU supports; only [`Simd::detect`]
/// can claim support, so holding `avx2: true` proves the CPU has it.
#[derive(Clone, Copy)]
pub(crate) struct Simd {
    pub(crate) avx2: bool,
}

impl Simd {
    /// The capabilities of the running CPU (cached by the standard
    /// library, so cheap to call per row band).
    pub(crate) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            Simd {
                avx2: std::is_x86_feature_detected!("avx2"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Simd { avx2: false }
        }
    }

    /// Runs `f`, compiled with AVX2 enabled when the CPU has it, so that
    /// the loops inlined into it are vectorised with AVX2.
    #[inline(always)]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `self.avx2` is only true when the CPU has AVX2.
            return unsafe { with_avx2(f) };
        }
        f()
    }
}

/// Runs `f` in a function compiled with AVX2 enabled, so that the scalar
/// parts inlined into it are vectorised with AVX2 too.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
