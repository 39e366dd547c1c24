//! Random streams of an AMS run. Every generator is the project's [`PathRng`] seeded from a hash of the master
//! seed and a tuple of ids — (replica, stream tag, iteration, particle) for a particle segment, (replica,
//! tag, path) for a direct path — so no draw depends on the thread that makes it or on how work is split,
//! and the same seed gives bit-identical estimates at any thread count.

use crate::brownian::{PathRng, seeded, splitmix64};

/// Pilot path that places the set A by a quantile of ξ.
pub(crate) const TAG_PILOT: u64 = 0x5049_4c4f;
/// Increments of a direct-phase path (ids: replica, tag, path).
pub(crate) const TAG_DIRECT: u64 = 0x4449_5245;
/// Reservoir sampling of entrance points of a direct-phase path (ids: replica, tag, path).
pub(crate) const TAG_POOL: u64 = 0x504f_4f4c;
/// Choice of parents (and of start points when the pool is short) in one replica (ids: replica, tag).
pub(crate) const TAG_SELECT: u64 = 0x5345_4c45;
/// Increments of a particle segment (ids: replica, tag, iteration, particle).
pub(crate) const TAG_PARTICLE: u64 = 0x5041_5254;
/// Start points drawn from `Process::start` in the probability estimator (ids: replica, tag, particle).
pub(crate) const TAG_START: u64 = 0x5354_4152;
/// Paths of the brute-force reference estimator (ids: tag, path).
pub(crate) const TAG_REFERENCE: u64 = 0x5245_4645;

/// The generator of stream `ids` under master seed `seed`: h₀ = splitmix64(seed), hᵢ₊₁ = splitmix64(hᵢ ⊕
/// splitmix64(idᵢ)), seeded with [`seeded`]`(h)`.
pub fn stream_rng(seed: u64, ids: &[u64]) -> PathRng {
    let mut h = splitmix64(seed);
    for &id in ids {
        h = splitmix64(h ^ splitmix64(id));
    }
    seeded(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_every_id_and_are_reproducible() {
        let base = stream_rng(7, &[1, TAG_PARTICLE, 3, 4]).next_u64();
        assert_eq!(base, stream_rng(7, &[1, TAG_PARTICLE, 3, 4]).next_u64());
        for other in [
            stream_rng(8, &[1, TAG_PARTICLE, 3, 4]),
            stream_rng(7, &[2, TAG_PARTICLE, 3, 4]),
            stream_rng(7, &[1, TAG_DIRECT, 3, 4]),
            stream_rng(7, &[1, TAG_PARTICLE, 4, 4]),
            stream_rng(7, &[1, TAG_PARTICLE, 3, 5]),
            stream_rng(7, &[1, TAG_PARTICLE, 3]),
        ] {
            let mut o = other;
            assert_ne!(o.next_u64(), base);
        }
    }
}
