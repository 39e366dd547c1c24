//! Several paths' generators advanced together in SIMD lanes (issue 12): [`LaneRng`] holds L
//! xoshiro256++ states (one stream per path, structure of arrays) and fills lane-major blocks of
//! normals with the ziggurat of [`super::ziggurat`]; [`LaneNormals`] adds a block buffer with per-lane
//! reseeding for multi-path kernels.
//!
//! # Same bits as the scalar sampler
//! Lane l of a fill computes, for each row, exactly what [`super::normal`] computes on the stream held in
//! lane l: the SIMD code runs steps 1–2 (one word per lane and row, the fast-path test) for all lanes at
//! once; a lane whose test fails (≈ 0.43 % of draws) is finished by the shared scalar slow path
//! `ziggurat::slow` on *that lane's* stream, before the lane's next row is drawn. Nothing is read
//! ahead: after a fill of k rows each lane has consumed exactly the words that k scalar normals consume.
//! So a path's normals do not depend on the lane width, on which paths share its block, on the ISA, or
//! on how its draws are split into fills. The integer ops are exact and the float ops (one subtraction
//! of 1.0, one product, one compare) are single IEEE operations on every ISA (no FMA: Rust never contracts,
//! and there is no add to contract with); the tests compare all lanes of all ISAs to the scalar reference.
//!
//! # ISA levels
//! [`Isa::detect`] picks, at run time (`is_x86_feature_detected!`), AVX-512F (8 lanes per register),
//! AVX2 (4 lanes per register) or portable code (one lane at a time, interleaved). The kernels are
//! compiled with `#[target_feature]`, so no `-C target-cpu` is needed. A width that is not a multiple of
//! the register width uses the next lower level: L = 8, 16, 24, 32 run on AVX-512; L = 4, 12 on AVX2;
//! L = 1, 2 (and any other L) on the portable code ([`LaneRng::effective_isa`]).

use super::xoshiro::Xoshiro256pp;
use super::ziggurat;

/// Instruction-set level of the lane kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Plain Rust, one lane at a time (lanes interleaved for instruction-level parallelism).
    Portable,
    /// AVX2: 4 lanes per 256-bit register.
    Avx2,
    /// AVX-512F: 8 lanes per 512-bit register, with rotates and mask compares.
    Avx512,
}

impl Isa {
    /// The best level this CPU supports.
    pub fn detect() -> Isa {
        *Isa::ALL.iter().rev().find(|i| i.available()).unwrap_or(&Isa::Portable)
    }

    /// All levels, lowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// Whether this CPU can run the level.
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Lanes per register.
    pub fn width(self) -> usize {
        match self {
            Isa::Portable => 1,
            Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }

    /// The level the kernels use for `lanes` lanes when `self` is allowed: the highest level ≤ `self`
    /// whose register width divides `lanes` (at most 4 registers per level).
    pub fn for_lanes(self, lanes: usize) -> Isa {
        let fits = |i: Isa| i <= self && lanes.is_multiple_of(i.width()) && lanes / i.width() <= 4;
        *Isa::ALL.iter().rev().find(|&&i| fits(i)).unwrap_or(&Isa::Portable)
    }
}

/// L xoshiro256++ streams in structure-of-arrays form, one per lane, with samplers that advance all of
/// them together. Holds no heap memory; every method is allocation-free.
///
/// Lane l behaves exactly like a scalar [`Xoshiro256pp`] with the lane's state: `fill_normals` gives
/// the values of [`super::fill_normals`], `next_u64_lane`/`uniform_lane`/`index_lane` those of the scalar
/// `next_u64`/[`super::uniform`]/[`super::index`], in whatever order the calls come.
#[derive(Clone, Debug)]
#[repr(C, align(64))] // rows of 8 lanes on cache lines: whole-register state loads/stores never split
pub struct LaneRng<const L: usize> {
    /// `s[w][l]`: word w of lane l's state.
    s: [[u64; L]; 4],
    isa: Isa,
}

impl<const L: usize> LaneRng<L> {
    /// Lane l starts as `lanes[l]`; the ISA level is [`Isa::detect`].
    pub fn from_lanes(lanes: [Xoshiro256pp; L]) -> Self {
        let mut s = [[0u64; L]; 4];
        for (l, g) in lanes.iter().enumerate() {
            let st = g.state();
            for w in 0..4 {
                s[w][l] = st[w];
            }
        }
        LaneRng { s, isa: Isa::detect() }
    }

    /// Lane l starts as `Xoshiro256pp::seed_from_u64(seeds[l])`.
    pub fn from_seeds(seeds: [u64; L]) -> Self {
        Self::from_lanes(seeds.map(Xoshiro256pp::seed_from_u64))
    }

    /// The same streams, with kernels limited to `isa` (for tests and benchmarks).
    ///
    /// # Panics
    /// If this CPU cannot run `isa`.
    pub fn with_isa(mut self, isa: Isa) -> Self {
        assert!(isa.available(), "{isa:?} is not supported by this CPU");
        self.isa = isa;
        self
    }

    /// The level allowed by construction or [`LaneRng::with_isa`].
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The level the kernels actually run for this lane count ([`Isa::for_lanes`]).
    pub fn effective_isa(&self) -> Isa {
        self.isa.for_lanes(L)
    }

    /// Lane l's generator (a copy of its current state).
    #[inline]
    pub fn lane(&self, l: usize) -> Xoshiro256pp {
        Xoshiro256pp::from_state([self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]])
    }

    /// Makes lane l continue the stream of `g` (e.g. a new path's `path_rng(seed, index)`).
    #[inline]
    pub fn set_lane(&mut self, l: usize, g: &Xoshiro256pp) {
        for (word, v) in self.s.iter_mut().zip(g.state()) {
            word[l] = v;
        }
    }

    /// Runs `f` on lane l's generator as a scalar `Xoshiro256pp`, then stores the advanced state.
    #[inline]
    pub fn with_lane<T>(&mut self, l: usize, f: impl FnOnce(&mut Xoshiro256pp) -> T) -> T {
        let mut g = self.lane(l);
        let out = f(&mut g);
        self.set_lane(l, &g);
        out
    }

    /// The next word of lane l only (other lanes do not move).
    #[inline]
    pub fn next_u64_lane(&mut self, l: usize) -> u64 {
        self.with_lane(l, |g| g.next_u64())
    }

    /// A uniform in [0, 1) from lane l only (the formula of [`super::uniform`]).
    #[inline]
    pub fn uniform_lane(&mut self, l: usize) -> f64 {
        self.with_lane(l, super::uniform)
    }

    /// A uniform index in 0..n from lane l only (the formula of [`super::index`]).
    #[inline]
    pub fn index_lane(&mut self, l: usize, n: usize) -> usize {
        self.with_lane(l, |g| super::index(g, n))
    }

    /// `z.len()` normals from lane l only, in stream order (scalar; e.g. a new path's start spread).
    #[inline]
    pub fn normals_lane(&mut self, l: usize, z: &mut [f64]) {
        self.with_lane(l, |g| ziggurat::fill_normals(g, z))
    }

    /// Column l of `rows` (rows in order) from lane l only; the other columns are not touched.
    pub fn fill_normals_column(&mut self, l: usize, rows: &mut [[f64; L]]) {
        self.with_lane(l, |g| {
            for row in rows.iter_mut() {
                row[l] = ziggurat::normal(g);
            }
        })
    }

    /// One word from every lane (row form of `next_u64_lane` for all l).
    #[inline]
    pub fn next_u64s(&mut self) -> [u64; L] {
        let mut out = [[0u64; L]; 1];
        self.fill_u64(&mut out);
        out[0]
    }

    /// One uniform in [0, 1) from every lane.
    #[inline]
    pub fn uniforms(&mut self) -> [f64; L] {
        self.next_u64s().map(|b| (b >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
    }

    /// `out[k][l]` = the k-th next word of lane l (the raw generator, vectorised).
    pub fn fill_u64(&mut self, out: &mut [[u64; L]]) {
        match self.effective_isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `effective_isa` ≤ `self.isa`, which `Isa::detect`/`with_isa` checked is available.
            Isa::Avx512 => unsafe { avx512::fill_u64(&mut self.s, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { avx2::fill_u64(&mut self.s, out) },
            _ => portable::fill_u64(&mut self.s, out),
        }
    }

    /// `out[k][l]` = the k-th next standard normal of lane l. All lanes advance; each by exactly the words
    /// its normals consume, so splitting a run of rows into several calls gives the same values.
    pub fn fill_normals(&mut self, out: &mut [[f64; L]]) {
        match self.effective_isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `effective_isa` ≤ `self.isa`, which `Isa::detect`/`with_isa` checked is available.
            Isa::Avx512 => unsafe { avx512::fill_normals(&mut self.s, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { avx2::fill_normals(&mut self.s, out) },
            _ => portable::fill_normals(&mut self.s, out),
        }
    }
}

mod portable {
    use super::*;

    fn load<const L: usize>(s: &[[u64; L]; 4]) -> [Xoshiro256pp; L] {
        core::array::from_fn(|l| Xoshiro256pp::from_state([s[0][l], s[1][l], s[2][l], s[3][l]]))
    }

    fn store<const L: usize>(s: &mut [[u64; L]; 4], g: &[Xoshiro256pp; L]) {
        for (l, g) in g.iter().enumerate() {
            let st = g.state();
            for w in 0..4 {
                s[w][l] = st[w];
            }
        }
    }

    pub(super) fn fill_normals<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[f64; L]]) {
        let mut g = load(s);
        for row in out.iter_mut() {
            for (z, g) in row.iter_mut().zip(g.iter_mut()) {
                *z = ziggurat::normal(g);
            }
        }
        store(s, &g);
    }

    pub(super) fn fill_u64<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
        let mut g = load(s);
        for row in out.iter_mut() {
            for (b, g) in row.iter_mut().zip(g.iter_mut()) {
                *b = g.next_u64();
            }
        }
        store(s, &g);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! 8 lanes per `__m512i`; C = L/8 ≤ 4 registers per state word, kept in registers for the whole fill.
    //! Table lookups are scalar loads (faster than `vgatherqpd` on the AMD Zen 4 this was tuned on); a
    //! lane whose fast path fails is moved to a scalar generator, finished by the shared slow path, and
    //! moved back, all in registers.
    use super::super::xoshiro::Xoshiro256pp;
    use super::super::ziggurat::{self, LAYER_MASK, ONE_BITS, SIGN_BIT, SIGN_SHIFT};
    use super::super::ziggurat_tables::X;
    use core::arch::x86_64::*;

    const MAXC: usize = 4;

    /// One xoshiro256++ step of 8 lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn next(s: &mut [__m512i; 4]) -> __m512i {
        let res = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s[0], s[3])), s[0]);
        let t = _mm512_slli_epi64::<17>(s[1]);
        s[2] = _mm512_xor_si512(s[2], s[0]);
        s[3] = _mm512_xor_si512(s[3], s[1]);
        s[1] = _mm512_xor_si512(s[1], s[2]);
        s[0] = _mm512_xor_si512(s[0], s[3]);
        s[2] = _mm512_xor_si512(s[2], t);
        s[3] = _mm512_rol_epi64::<45>(s[3]);
        res
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load<const L: usize>(s: &[[u64; L]; 4], c: usize) -> [__m512i; 4] {
        assert!(8 * c + 8 <= L);
        // SAFETY: lanes 8c .. 8c+8 of each word are in bounds (asserted).
        core::array::from_fn(|w| unsafe { _mm512_loadu_si512(s[w].as_ptr().add(8 * c).cast()) })
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store<const L: usize>(s: &mut [[u64; L]; 4], c: usize, v: &[__m512i; 4]) {
        assert!(8 * c + 8 <= L);
        for w in 0..4 {
            // SAFETY: lanes 8c .. 8c+8 of each word are in bounds (asserted).
            unsafe { _mm512_storeu_si512(s[w].as_mut_ptr().add(8 * c).cast(), v[w]) };
        }
    }

    /// The 8 words as an array (for the scalar table loads and the slow path).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn words(v: __m512i) -> [u64; 8] {
        let mut b = [0u64; 8];
        // SAFETY: b holds 8 words.
        unsafe { _mm512_storeu_si512(b.as_mut_ptr().cast(), v) };
        b
    }

    /// Steps 1–2 of the ziggurat for 8 words: the signed candidates and the mask of lanes that passed.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transform(bits: __m512i, b: &[u64; 8]) -> (__m512d, __mmask8) {
        let sign = _mm512_and_si512(
            _mm512_slli_epi64::<SIGN_SHIFT>(bits),
            _mm512_set1_epi64(SIGN_BIT as i64),
        );
        let one = _mm512_or_si512(_mm512_srli_epi64::<12>(bits), _mm512_set1_epi64(ONE_BITS as i64));
        let u = _mm512_sub_pd(_mm512_castsi512_pd(one), _mm512_set1_pd(1.0));
        let i = |j: usize| (b[j] & LAYER_MASK) as usize;
        let xi = _mm512_set_pd(X[i(7)], X[i(6)], X[i(5)], X[i(4)], X[i(3)], X[i(2)], X[i(1)], X[i(0)]);
        let xi1 = _mm512_set_pd(
            X[i(7) + 1],
            X[i(6) + 1],
            X[i(5) + 1],
            X[i(4) + 1],
            X[i(3) + 1],
            X[i(2) + 1],
            X[i(1) + 1],
            X[i(0) + 1],
        );
        let x = _mm512_mul_pd(u, xi);
        let ok = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, xi1);
        (_mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), sign)), ok)
    }

    /// Finishes the lanes in `bad` (fast path failed on `b[j]`): each lane's state is moved out of the
    /// registers into a scalar generator, the shared slow path runs on it, and the state is moved back.
    #[inline(never)]
    #[cold]
    #[target_feature(enable = "avx512f")]
    fn fix(mut st: [__m512i; 4], b: &[u64; 8], mut bad: u32, out: &mut [f64]) -> [__m512i; 4] {
        while bad != 0 {
            let j = bad.trailing_zeros() as usize;
            bad &= bad - 1;
            let sel = _mm512_set1_epi64(j as i64);
            let lane: [u64; 4] = core::array::from_fn(|w| {
                _mm_cvtsi128_si64(_mm512_castsi512_si128(_mm512_permutexvar_epi64(sel, st[w]))) as u64
            });
            let mut g = Xoshiro256pp::from_state(lane);
            out[j] = ziggurat::slow(&mut g, b[j]);
            let ns = g.state();
            for w in 0..4 {
                st[w] = _mm512_mask_set1_epi64(st[w], 1 << j, ns[w] as i64);
            }
        }
        st
    }

    /// # Safety
    /// The CPU must support AVX-512F. (L must be a multiple of 8 and at most 32: checked.)
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fill_normals<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[f64; L]]) {
        let c = L / 8;
        assert!(L.is_multiple_of(8) && c <= MAXC);
        let mut st = [[_mm512_setzero_si512(); 4]; MAXC];
        for (k, v) in st.iter_mut().enumerate().take(c) {
            *v = load(s, k);
        }
        for row in out.iter_mut() {
            for k in 0..c {
                let bits = next(&mut st[k]);
                let b = words(bits);
                let (z, ok) = transform(bits, &b);
                let seg = &mut row[8 * k..8 * k + 8];
                // SAFETY: seg holds 8 values.
                unsafe { _mm512_storeu_pd(seg.as_mut_ptr(), z) };
                if ok != 0xff {
                    st[k] = fix(st[k], &b, !(ok as u32) & 0xff, seg);
                }
            }
        }
        for (k, v) in st.iter().enumerate().take(c) {
            store(s, k, v);
        }
    }

    /// # Safety
    /// The CPU must support AVX-512F. (L must be a multiple of 8 and at most 32: checked.)
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fill_u64<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
        let c = L / 8;
        assert!(L.is_multiple_of(8) && c <= MAXC);
        let mut st = [[_mm512_setzero_si512(); 4]; MAXC];
        for (k, v) in st.iter_mut().enumerate().take(c) {
            *v = load(s, k);
        }
        for row in out.iter_mut() {
            for k in 0..c {
                let bits = next(&mut st[k]);
                let seg = &mut row[8 * k..8 * k + 8];
                // SAFETY: seg holds 8 words.
                unsafe { _mm512_storeu_si512(seg.as_mut_ptr().cast(), bits) };
            }
        }
        for (k, v) in st.iter().enumerate().take(c) {
            store(s, k, v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! 4 lanes per `__m256i`; C = L/4 ≤ 4 registers per state word. Same structure as the AVX-512 kernel.
    use super::super::xoshiro::Xoshiro256pp;
    use super::super::ziggurat::{self, LAYER_MASK, ONE_BITS, SIGN_BIT, SIGN_SHIFT};
    use super::super::ziggurat_tables::X;
    use core::arch::x86_64::*;

    const MAXC: usize = 4;

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rotl<const K: i32, const KC: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi64::<K>(x), _mm256_srli_epi64::<KC>(x))
    }

    /// One xoshiro256++ step of 4 lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn next(s: &mut [__m256i; 4]) -> __m256i {
        let res = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s[0], s[3])), s[0]);
        let t = _mm256_slli_epi64::<17>(s[1]);
        s[2] = _mm256_xor_si256(s[2], s[0]);
        s[3] = _mm256_xor_si256(s[3], s[1]);
        s[1] = _mm256_xor_si256(s[1], s[2]);
        s[0] = _mm256_xor_si256(s[0], s[3]);
        s[2] = _mm256_xor_si256(s[2], t);
        s[3] = rotl::<45, 19>(s[3]);
        res
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn load<const L: usize>(s: &[[u64; L]; 4], c: usize) -> [__m256i; 4] {
        assert!(4 * c + 4 <= L);
        // SAFETY: lanes 4c .. 4c+4 of each word are in bounds (asserted).
        core::array::from_fn(|w| unsafe { _mm256_loadu_si256(s[w].as_ptr().add(4 * c).cast()) })
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn store<const L: usize>(s: &mut [[u64; L]; 4], c: usize, v: &[__m256i; 4]) {
        assert!(4 * c + 4 <= L);
        for w in 0..4 {
            // SAFETY: lanes 4c .. 4c+4 of each word are in bounds (asserted).
            unsafe { _mm256_storeu_si256(s[w].as_mut_ptr().add(4 * c).cast(), v[w]) };
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn words(v: __m256i) -> [u64; 4] {
        let mut b = [0u64; 4];
        // SAFETY: b holds 4 words.
        unsafe { _mm256_storeu_si256(b.as_mut_ptr().cast(), v) };
        b
    }

    /// Steps 1–2 of the ziggurat for 4 words: the signed candidates and the 4-bit mask of lanes that passed.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn transform(bits: __m256i, b: &[u64; 4]) -> (__m256d, u32) {
        let sign = _mm256_and_si256(
            _mm256_slli_epi64::<{ SIGN_SHIFT as i32 }>(bits),
            _mm256_set1_epi64x(SIGN_BIT as i64),
        );
        let one = _mm256_or_si256(_mm256_srli_epi64::<12>(bits), _mm256_set1_epi64x(ONE_BITS as i64));
        let u = _mm256_sub_pd(_mm256_castsi256_pd(one), _mm256_set1_pd(1.0));
        let i = |j: usize| (b[j] & LAYER_MASK) as usize;
        let xi = _mm256_set_pd(X[i(3)], X[i(2)], X[i(1)], X[i(0)]);
        let xi1 = _mm256_set_pd(X[i(3) + 1], X[i(2) + 1], X[i(1) + 1], X[i(0) + 1]);
        let x = _mm256_mul_pd(u, xi);
        let ok = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(x, xi1)) as u32;
        (_mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(x), sign)), ok)
    }

    /// Finishes the lanes in `bad` on their own streams (see the AVX-512 kernel).
    #[inline(never)]
    #[cold]
    #[target_feature(enable = "avx2")]
    fn fix(mut st: [__m256i; 4], b: &[u64; 4], mut bad: u32, out: &mut [f64]) -> [__m256i; 4] {
        while bad != 0 {
            let j = bad.trailing_zeros() as usize;
            bad &= bad - 1;
            // 32-bit lanes 2j, 2j+1 to the bottom
            let sel = _mm256_set1_epi64x((((2 * j + 1) as i64) << 32) | (2 * j) as i64);
            let lane: [u64; 4] = core::array::from_fn(|w| {
                _mm_cvtsi128_si64(_mm256_castsi256_si128(_mm256_permutevar8x32_epi32(st[w], sel))) as u64
            });
            let mut g = Xoshiro256pp::from_state(lane);
            out[j] = ziggurat::slow(&mut g, b[j]);
            let ns = g.state();
            let m = _mm256_cmpeq_epi64(_mm256_set_epi64x(3, 2, 1, 0), _mm256_set1_epi64x(j as i64));
            for w in 0..4 {
                st[w] = _mm256_blendv_epi8(st[w], _mm256_set1_epi64x(ns[w] as i64), m);
            }
        }
        st
    }

    /// # Safety
    /// The CPU must support AVX2. (L must be a multiple of 4 and at most 16: checked.)
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_normals<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[f64; L]]) {
        let c = L / 4;
        assert!(L.is_multiple_of(4) && c <= MAXC);
        let mut st = [[_mm256_setzero_si256(); 4]; MAXC];
        for (k, v) in st.iter_mut().enumerate().take(c) {
            *v = load(s, k);
        }
        for row in out.iter_mut() {
            for k in 0..c {
                let bits = next(&mut st[k]);
                let b = words(bits);
                let (z, ok) = transform(bits, &b);
                let seg = &mut row[4 * k..4 * k + 4];
                // SAFETY: seg holds 4 values.
                unsafe { _mm256_storeu_pd(seg.as_mut_ptr(), z) };
                if ok != 0xf {
                    st[k] = fix(st[k], &b, !ok & 0xf, seg);
                }
            }
        }
        for (k, v) in st.iter().enumerate().take(c) {
            store(s, k, v);
        }
    }

    /// # Safety
    /// The CPU must support AVX2. (L must be a multiple of 4 and at most 16: checked.)
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_u64<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
        let c = L / 4;
        assert!(L.is_multiple_of(4) && c <= MAXC);
        let mut st = [[_mm256_setzero_si256(); 4]; MAXC];
        for (k, v) in st.iter_mut().enumerate().take(c) {
            *v = load(s, k);
        }
        for row in out.iter_mut() {
            for k in 0..c {
                let bits = next(&mut st[k]);
                let seg = &mut row[4 * k..4 * k + 4];
                // SAFETY: seg holds 4 words.
                unsafe { _mm256_storeu_si256(seg.as_mut_ptr().cast(), bits) };
            }
        }
        for (k, v) in st.iter().enumerate().take(c) {
            store(s, k, v);
        }
    }
}

/// A block buffer of normals over a [`LaneRng`] for multi-path kernels: rows are produced K at a time
/// (one SIMD fill per block) and handed out one or a few at a time; when a lane's path ends, the lane
/// takes a new stream with [`LaneNormals::reseed_lane`], which regenerates the rest of the block's column
/// from the new stream so that the new path sees its own normals from its first draw.
///
/// Because the buffer reads up to K − 1 rows ahead, nothing else may be drawn from a lane's stream
/// while it is buffered: draws that interleave with normals (bridge uniforms, mini-batch indices) must
/// come from a separate stream (as `bridge_rng` already does), or the kernel must use [`LaneRng`] directly,
/// which never reads ahead.
#[derive(Clone, Debug)]
pub struct LaneNormals<const L: usize, const K: usize> {
    rng: LaneRng<L>,
    buf: [[f64; L]; K],
    pos: usize,
}

impl<const L: usize, const K: usize> LaneNormals<L, K> {
    /// A buffer over `rng`; the first block is drawn on first use.
    pub fn new(rng: LaneRng<L>) -> Self {
        assert!(K > 0, "block size K must be positive");
        LaneNormals {
            rng,
            buf: [[0.0; L]; K],
            pos: K,
        }
    }

    /// The generators (their states are ahead of the rows not yet handed out).
    pub fn rng(&self) -> &LaneRng<L> {
        &self.rng
    }

    /// The next row: one normal per lane.
    #[inline]
    pub fn next_row(&mut self) -> &[f64; L] {
        if self.pos == K {
            self.rng.fill_normals(&mut self.buf);
            self.pos = 0;
        }
        self.pos += 1;
        &self.buf[self.pos - 1]
    }

    /// The next n ≤ K rows, contiguous (rows left in the block are moved to its front, then the block is
    /// topped up, so the order of each lane's normals is unchanged).
    #[inline(always)]
    pub fn next_rows(&mut self, n: usize) -> &[[f64; L]] {
        if self.pos + n > K {
            self.refill(n);
        }
        self.pos += n;
        &self.buf[self.pos - n..self.pos]
    }

    /// Moves the rows left to the front of the block and tops it up (out of line: once per K/n calls).
    #[cold]
    #[inline(never)]
    fn refill(&mut self, n: usize) {
        assert!(n <= K, "asked for {n} rows from blocks of {K}");
        let left = K - self.pos;
        self.buf.copy_within(self.pos.., 0);
        self.rng.fill_normals(&mut self.buf[left..]);
        self.pos = 0;
    }

    /// Drops the buffered rows (the next call draws a fresh block). Only for when no lane needs them: each
    /// lane's stream has already moved past its buffered normals, which are lost.
    pub fn discard(&mut self) {
        self.pos = K;
    }

    /// Lane l continues with the stream `g` from its next row on (the rows already handed out are kept;
    /// the old stream's remaining buffered normals are discarded).
    pub fn reseed_lane(&mut self, l: usize, g: &Xoshiro256pp) {
        self.rng.set_lane(l, g);
        if self.pos < K {
            self.rng.fill_normals_column(l, &mut self.buf[self.pos..]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // lane index l addresses several parallel arrays
mod tests {
    use super::super::{PathRng, fill_normals, index, path_rng, uniform, ziggurat_tables::R};
    use super::*;

    /// The levels this CPU can run (the tests compare every one of them with the scalar reference).
    fn levels() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.available()).collect()
    }

    /// Fills `rows` rows in calls of varying sizes (1, 2, 3, 7, 64, 250, …) from lanes holding paths
    /// `first..first+L` of seed 9 at level `isa`, and checks every lane bit for bit against the scalar
    /// reference of its path. Returns the number of tail draws seen (|z| > r) so callers can check the
    /// slow paths were exercised.
    fn lanes_match_scalar<const L: usize>(isa: Isa, first: u64, rows: usize) -> usize {
        let mut lr = LaneRng::<L>::from_lanes(core::array::from_fn(|l| path_rng(9, first + l as u64))).with_isa(isa);
        let mut got = vec![[0.0; L]; rows];
        let sizes = [1, 2, 3, 7, 64, 250, 5, 1000];
        let (mut at, mut k) = (0, 0);
        while at < rows {
            let n = sizes[k % sizes.len()].min(rows - at);
            lr.fill_normals(&mut got[at..at + n]);
            at += n;
            k += 1;
        }
        let mut want = vec![0.0; rows];
        let mut tails = 0;
        for l in 0..L {
            let mut g = path_rng(9, first + l as u64);
            fill_normals(&mut g, &mut want);
            for (r, w) in want.iter().enumerate() {
                assert_eq!(got[r][l].to_bits(), w.to_bits(), "L={L} {isa:?} lane {l} row {r}");
            }
            tails += want.iter().filter(|z| z.abs() > R).count();
            // the lane's state is where the scalar stream is
            assert_eq!(lr.lane(l), g, "L={L} {isa:?} lane {l} state");
        }
        tails
    }

    /// Every lane of every width (1, 2, 4, 8, 16, 32, and 12 = 3 AVX2 registers) at every available ISA
    /// equals the scalar sampler on the same path, including ≈ 0.43 % slow-path draws (wedge and tail).
    #[test]
    fn every_lane_equals_scalar_reference() {
        let rows = 40_000;
        for isa in levels() {
            let mut tails = 0;
            tails += lanes_match_scalar::<1>(isa, 0, rows);
            tails += lanes_match_scalar::<2>(isa, 100, rows);
            tails += lanes_match_scalar::<4>(isa, 200, rows);
            tails += lanes_match_scalar::<8>(isa, 300, rows);
            tails += lanes_match_scalar::<12>(isa, 400, rows);
            tails += lanes_match_scalar::<16>(isa, 500, rows);
            tails += lanes_match_scalar::<32>(isa, 600, rows);
            // 75 lanes × 40 000 draws × P(|Z| > r) = 5.4e-5 ≈ 161 expected
            assert!(tails > 100, "{isa:?}: only {tails} tail draws");
        }
    }

    #[test]
    fn isa_for_lanes() {
        use Isa::*;
        assert_eq!(Avx512.for_lanes(8), Avx512);
        assert_eq!(Avx512.for_lanes(32), Avx512);
        assert_eq!(Avx512.for_lanes(4), Avx2);
        assert_eq!(Avx512.for_lanes(12), Avx2);
        assert_eq!(Avx512.for_lanes(2), Portable);
        assert_eq!(Avx512.for_lanes(40), Portable);
        assert_eq!(Avx2.for_lanes(8), Avx2);
        assert_eq!(Portable.for_lanes(8), Portable);
        assert_eq!(Isa::detect(), *levels().last().unwrap());
    }

    /// Uniform, index and raw-word draws interleaved with fills consume each lane's stream exactly as the
    /// scalar calls do (LaneRng never reads ahead), at every ISA, for lane-wise and all-lane draws.
    #[test]
    fn interleaved_draws_equal_scalar() {
        const L: usize = 8;
        for isa in levels() {
            let mut lr = LaneRng::<L>::from_lanes(core::array::from_fn(|l| path_rng(3, l as u64))).with_isa(isa);
            let mut sc: Vec<PathRng> = (0..L as u64).map(|p| path_rng(3, p)).collect();
            let mut rows = [[0.0; L]; 5];
            let mut z = [0.0; 5];
            for step in 0..20_000usize {
                let d = 1 + step % 5;
                lr.fill_normals(&mut rows[..d]);
                for l in 0..L {
                    fill_normals(&mut sc[l], &mut z[..d]);
                    for j in 0..d {
                        assert_eq!(rows[j][l].to_bits(), z[j].to_bits());
                    }
                }
                // lane-wise draws for a varying subset of lanes
                for l in (0..L).filter(|l| (step + l) % 3 == 0) {
                    assert_eq!(lr.uniform_lane(l).to_bits(), uniform(&mut sc[l]).to_bits());
                    assert_eq!(lr.index_lane(l, 17 + step), index(&mut sc[l], 17 + step));
                }
                if step % 7 == 0 {
                    let w = lr.next_u64s();
                    let u = lr.uniforms();
                    for l in 0..L {
                        assert_eq!(w[l], sc[l].next_u64());
                        assert_eq!(u[l].to_bits(), uniform(&mut sc[l]).to_bits());
                    }
                }
                if step % 11 == 0 {
                    let l = step % L;
                    lr.normals_lane(l, &mut z[..3]);
                    let mut w = [0.0; 3];
                    fill_normals(&mut sc[l], &mut w);
                    assert_eq!(z[..3], w);
                }
            }
        }
    }

    /// Lane-major raw words equal the scalar stream at every ISA and width.
    #[test]
    fn fill_u64_equals_scalar() {
        fn check<const L: usize>(isa: Isa) {
            let mut lr = LaneRng::<L>::from_seeds(core::array::from_fn(|l| 1000 + l as u64)).with_isa(isa);
            let mut out = vec![[0u64; L]; 333];
            lr.fill_u64(&mut out);
            for l in 0..L {
                let mut g = Xoshiro256pp::seed_from_u64(1000 + l as u64);
                assert!(out.iter().all(|row| row[l] == g.next_u64()), "L={L} {isa:?} lane {l}");
            }
        }
        for isa in levels() {
            check::<1>(isa);
            check::<4>(isa);
            check::<8>(isa);
            check::<16>(isa);
        }
    }

    /// The normals a path gets from a ragged multi-path run (lanes take a new path when theirs ends, paths
    /// of different lengths, d normals per step plus a d-normal start spread) equal its scalar run, for
    /// lane widths 1, 2, 4, 8 and both the unbuffered LaneRng and the block buffer LaneNormals.
    #[test]
    fn ragged_multipath_equals_scalar() {
        for isa in levels() {
            ragged::<1>(isa);
            ragged::<2>(isa);
            ragged::<4>(isa);
            ragged::<8>(isa);
        }
    }

    /// Path p's length in steps: 1..=400, scattered so that lanes finish at different times.
    fn steps_of(p: u64) -> usize {
        1 + (super::super::splitmix64(p) % 400) as usize
    }

    /// Scalar reference: the spread, then `steps` steps of d normals; returns a fold of the bit patterns.
    fn scalar_path(seed: u64, p: u64, d: usize) -> u64 {
        let mut g = path_rng(seed, p);
        let mut z = vec![0.0; d];
        fill_normals(&mut g, &mut z); // start spread
        let mut acc = z.iter().fold(0u64, |a, v| a.rotate_left(5) ^ v.to_bits());
        for _ in 0..steps_of(p) {
            fill_normals(&mut g, &mut z);
            acc = z.iter().fold(acc, |a, v| a.rotate_left(5) ^ v.to_bits());
        }
        acc
    }

    fn ragged<const L: usize>(isa: Isa) {
        const D: usize = 3;
        const SEED: u64 = 77;
        const PATHS: u64 = 61;
        // unbuffered: one fill of D rows per step
        let mut lr = LaneRng::<L>::from_seeds([1; L]).with_isa(isa);
        let mut buf = LaneNormals::<L, 64>::new(LaneRng::<L>::from_seeds([1; L]).with_isa(isa));
        for buffered in [false, true] {
            let mut next_path = 0u64;
            let mut lane_path: [Option<(u64, usize, u64)>; L] = [None; L]; // (path, steps left, fold)
            let mut results = vec![0u64; PATHS as usize];
            let mut rows = [[0.0; L]; D];
            loop {
                // lanes without a path take the next one: scalar spread on the new stream, then hand over
                for l in 0..L {
                    if lane_path[l].is_none() && next_path < PATHS {
                        let mut g = path_rng(SEED, next_path);
                        let mut z = [0.0; D];
                        fill_normals(&mut g, &mut z);
                        let acc = z.iter().fold(0u64, |a, v| a.rotate_left(5) ^ v.to_bits());
                        if buffered {
                            buf.reseed_lane(l, &g);
                        } else {
                            lr.set_lane(l, &g);
                        }
                        lane_path[l] = Some((next_path, steps_of(next_path), acc));
                        next_path += 1;
                    }
                }
                if lane_path.iter().all(|p| p.is_none()) {
                    break;
                }
                if buffered {
                    rows.copy_from_slice(buf.next_rows(D));
                } else {
                    lr.fill_normals(&mut rows);
                }
                for l in 0..L {
                    if let Some((p, left, acc)) = &mut lane_path[l] {
                        *acc = rows.iter().fold(*acc, |a, r| a.rotate_left(5) ^ r[l].to_bits());
                        *left -= 1;
                        if *left == 0 {
                            results[*p as usize] = *acc;
                            lane_path[l] = None;
                        }
                    }
                }
            }
            for p in 0..PATHS {
                assert_eq!(
                    results[p as usize],
                    scalar_path(SEED, p, D),
                    "L={L} {isa:?} buffered={buffered} path {p}"
                );
            }
        }
    }

    /// `next_rows` across block boundaries (n not dividing K) keeps each lane's order.
    #[test]
    fn block_buffer_rows_in_order() {
        const L: usize = 8;
        let mut b = LaneNormals::<L, 10>::new(LaneRng::<L>::from_seeds(core::array::from_fn(|l| l as u64)));
        let mut seen: Vec<[f64; L]> = Vec::new();
        for k in 0..200 {
            if k % 2 == 0 {
                seen.extend_from_slice(b.next_rows(1 + k % 7));
            } else {
                seen.push(*b.next_row());
            }
        }
        for l in 0..L {
            let mut g = Xoshiro256pp::seed_from_u64(l as u64);
            for (r, row) in seen.iter().enumerate() {
                assert_eq!(row[l].to_bits(), ziggurat::normal(&mut g).to_bits(), "lane {l} row {r}");
            }
        }
    }
}
