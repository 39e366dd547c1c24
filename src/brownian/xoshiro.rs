//! xoshiro256++ (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4),
//! 2021) with an exposed state, so that a path's stream can move between scalar code and a SIMD lane.
//!
//! The stream is the one of `rand::rngs::Xoshiro256PlusPlus` (same state update, same output function
//! `rotl(s0 + s3, 23) + s0`, same `seed_from_u64` via the SplitMix64 sequence); the tests check this
//! output by output, so switching the project's `PathRng` to this type changes no uniform draw.

use core::convert::Infallible;
use rand_core::{SeedableRng, TryRng, utils};

/// The xoshiro256++ generator: 256 bits of state, period 2²⁵⁶ − 1, one `u64` per step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// The generator with state `s` (as returned by [`Xoshiro256pp::state`]).
    ///
    /// # Panics
    /// If `s` is all zero (the one state xoshiro never leaves).
    #[inline(always)]
    pub fn from_state(s: [u64; 4]) -> Self {
        assert!(s != [0; 4], "xoshiro256++ state must not be all zero");
        Xoshiro256pp { s }
    }

    /// The current state.
    #[inline(always)]
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Seeds the state with the SplitMix64 sequence started at `seed` (the `seed_from_u64` of
    /// `rand::rngs::Xoshiro256PlusPlus`): word k is `mix(seed + (k+1)·φ)`, φ = 0x9e3779b97f4a7c15.
    #[inline]
    pub fn seed_from_u64(mut seed: u64) -> Self {
        const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut s = [0u64; 4];
        for w in s.iter_mut() {
            seed = seed.wrapping_add(PHI);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *w = z ^ (z >> 31);
        }
        // The four SplitMix64 outputs of consecutive counters are distinct (mix is a bijection), so at
        // least three are non-zero.
        Xoshiro256pp { s }
    }

    /// The next 64 output bits: `rotl(s0 + s3, 23) + s0`, then the xoshiro256 linear update.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let res = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        res
    }
}

impl TryRng for Xoshiro256pp {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        utils::fill_bytes_via_next_word(dst, || Ok::<u64, Infallible>(self.next_u64()))
    }
}

impl SeedableRng for Xoshiro256pp {
    type Seed = [u8; 32];

    /// The state read as four little-endian words (an all-zero seed maps to `seed_from_u64(0)`), as
    /// `rand::rngs::Xoshiro256PlusPlus::from_seed`.
    #[inline]
    fn from_seed(seed: [u8; 32]) -> Self {
        let s: [u64; 4] = utils::read_words(&seed);
        if s == [0; 4] {
            return Self::seed_from_u64(0);
        }
        Xoshiro256pp { s }
    }

    #[inline]
    fn seed_from_u64(seed: u64) -> Self {
        Xoshiro256pp::seed_from_u64(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand_core::Rng;

    /// The stream equals rand's `Xoshiro256PlusPlus` for `seed_from_u64` and `from_seed`, output by output
    /// (1000 outputs for each of 64 seeds, including 0 and u64::MAX).
    #[test]
    fn same_stream_as_rand() {
        let seeds = (0..62u64)
            .map(|k| k.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (k << 7))
            .chain([0, u64::MAX]);
        for seed in seeds {
            let mut a = Xoshiro256pp::seed_from_u64(seed);
            let mut b = Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..1000 {
                assert_eq!(a.next_u64(), b.next_u64());
            }
            let bytes: [u8; 32] = core::array::from_fn(|k| (seed >> (k % 8 * 8)) as u8 ^ k as u8);
            let mut a = <Xoshiro256pp as SeedableRng>::from_seed(bytes);
            let mut b = Xoshiro256PlusPlus::from_seed(bytes);
            for _ in 0..100 {
                assert_eq!(Rng::next_u32(&mut a), b.next_u32());
                assert_eq!(Rng::next_u64(&mut a), b.next_u64());
            }
        }
        // all-zero seed bytes fall back to seed_from_u64(0) in both
        let mut a = <Xoshiro256pp as SeedableRng>::from_seed([0; 32]);
        let mut b = Xoshiro256PlusPlus::from_seed([0; 32]);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    /// Reference vector of the xoshiro256++ authors' C code for state (1, 2, 3, 4) (as in rand's tests).
    #[test]
    fn reference_vector() {
        let mut g = Xoshiro256pp::from_state([1, 2, 3, 4]);
        let want = [
            41943041u64,
            58720359,
            3588806011781223,
            3591011842654386,
            9228616714210784205,
        ];
        for w in want {
            assert_eq!(g.next_u64(), w);
        }
        let st = g.state();
        let mut h = Xoshiro256pp::from_state(st);
        assert_eq!(g.next_u64(), h.next_u64());
    }

    #[test]
    #[should_panic(expected = "all zero")]
    fn zero_state_rejected() {
        let _ = Xoshiro256pp::from_state([0; 4]);
    }
}
