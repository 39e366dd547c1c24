//! Sharded runs: a run (or a sweep) split into N shards that run anywhere (e.g. as the tasks of a Slurm job
//! array, `samsde submit`) and merge into exactly the output of the run in one piece.
//!
//! - A run's blocks of paths are split into N contiguous ranges ([`crate::ensemble::shard_blocks`]); shard K
//!   runs its range and keeps the aligned subtrees of the whole run's merge tree that the range covers
//!   ([`crate::ensemble::run_pieces`]). Pushed in block order into one [`crate::ensemble::TreeFold`], the
//!   pieces of all shards finish to the whole run's observers bit for bit, for any N.
//! - A sweep's grid points are split the same way; shard K runs its points in full.
//! - A shard writes a shard folder ([`folder`]): `shard.json` ([`Meta`]: format version, samsde version, the
//!   model's hash, seed, N, K, the blocks or points covered), `model.toml` (the model with its overrides,
//!   which the merge loads), `config.resolved.toml` (runs) and `state.cbor` (the serialised observers).
//! - [`merge()`] checks that the folders belong together (same samsde version, model hash, seed, paths, N,
//!   every K exactly once) and rebuilds the report or the sweep table; a missing, duplicated or foreign shard
//!   is an [`Error::Shard`] naming it (exit status 2).

pub mod folder;
pub mod merge;

pub use folder::{Meta, read_meta, write_run, write_sweep};
pub use merge::{Merged, merge};

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// Shard K of N (0 ≤ K < N), as `--shard K/N` gives it (K counts from 0, like `$SLURM_ARRAY_TASK_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardId {
    /// This shard, 0-based.
    pub k: u64,
    /// Number of shards.
    pub n: u64,
}

impl FromStr for ShardId {
    type Err = Error;
    fn from_str(s: &str) -> Result<ShardId> {
        let bad = || Error::Usage(format!("--shard {s}: expected K/N with 0 ≤ K < N, e.g. --shard 0/4"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k >= n {
            return Err(bad());
        }
        Ok(ShardId { k, n })
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// 64-bit FNV-1a of `bytes`, as 16 hex digits: the model hash of a shard (of its resolved configuration) and
/// the checksum of its state file. Stable across platforms and versions (unlike `std`'s hasher).
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ids_parse_and_print() {
        let s: ShardId = "2/5".parse().unwrap();
        assert_eq!((s.k, s.n), (2, 5));
        assert_eq!(s.to_string(), "2/5");
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2", "1/2/3"] {
            let e = bad.parse::<ShardId>().unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    /// Published FNV-1a 64 test vectors (the empty string and "a").
    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), "cbf29ce484222325");
        assert_eq!(fnv1a64(b"a"), "af63dc4c8601ec8c");
        assert_eq!(fnv1a64(b"foobar"), "85944171f73967e8");
    }
}
