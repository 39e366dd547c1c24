//! Canonical merging of block accumulators.
//!
//! Floating-point merges are not associative, so the order of merging decides the last bits. [`TreeFold`]
//! merges block results in a binary tree fixed by block index alone (a binary counter: two partial results
//! of equal size 2ᵏ are merged as soon as both exist, the rest right to left at the end). It needs O(log n)
//! memory, is independent of how blocks were scheduled on threads, and a shard that covers an aligned range
//! of 2ᵏ blocks produces exactly the subtree the whole run would: the basis for splitting runs by path index.

/// An accumulator that can absorb another one covering the paths right after its own.
pub trait Merge {
    /// self ← self ⊕ right.
    fn merge(&mut self, right: Self);
}

/// Present accumulators merge; an absent one takes the other side's.
impl<T: Merge> Merge for Option<T> {
    fn merge(&mut self, right: Self) {
        match (self.as_mut(), right) {
            (Some(a), Some(b)) => a.merge(b),
            (None, b) => *self = b,
            (Some(_), None) => {}
        }
    }
}

/// Element by element (e.g. one accumulator per dynamics, or per snapshot time).
impl<T: Merge> Merge for Vec<T> {
    fn merge(&mut self, right: Self) {
        for (a, b) in self.iter_mut().zip(right) {
            a.merge(b);
        }
    }
}

/// A streaming binary-tree fold over blocks in index order.
///
/// The tree is fixed by block index alone: block i is the leaf i, and the node of blocks
/// [j·2ᵏ, (j+1)·2ᵏ) is formed as soon as both halves exist (a binary counter); at the end, the remaining
/// aligned subtrees are merged right to left. A fold may start at any block ([`TreeFold::starting_at`]); it then
/// forms only nodes aligned as above, so what it holds ([`TreeFold::into_pieces`]) are nodes of the tree of the
/// whole run. Pushing those pieces, in order, into a fold from block 0 ([`TreeFold::push_piece`]) builds
/// exactly the tree of the whole run: shards of any contiguous block ranges merge bit for bit.
#[derive(Debug, Clone)]
pub struct TreeFold<T> {
    /// The first block after everything pushed.
    next: u64,
    /// Aligned subtrees covering the blocks pushed, left to right: (first block, blocks (a power of two), value).
    stack: Vec<Piece<T>>,
}

/// A node of the fold's tree: the merged value of blocks `start .. start + blocks`, where `blocks` is a power
/// of two and `start` a multiple of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Piece<T> {
    /// First block.
    pub start: u64,
    /// Number of blocks (a power of two).
    pub blocks: u64,
    /// The merged value of those blocks.
    pub value: T,
}

impl<T> Default for TreeFold<T> {
    fn default() -> Self {
        TreeFold {
            next: 0,
            stack: Vec::new(),
        }
    }
}

impl<T: Merge> TreeFold<T> {
    /// An empty fold from block 0.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty fold whose first block is `start`.
    pub fn starting_at(start: u64) -> Self {
        TreeFold {
            next: start,
            stack: Vec::new(),
        }
    }
    /// The first block after everything pushed.
    pub fn next_block(&self) -> u64 {
        self.next
    }
    /// Adds the next block's result.
    pub fn push(&mut self, item: T) {
        self.push_node(1, item);
    }
    /// Adds a piece of another fold ([`TreeFold::into_pieces`]): it must start at [`TreeFold::next_block`]
    /// and be aligned (`start` a multiple of `blocks`, a power of two); otherwise it is returned unchanged.
    pub fn push_piece(&mut self, piece: Piece<T>) -> Result<(), Piece<T>> {
        let ok = piece.start == self.next && piece.blocks.is_power_of_two() && piece.start.is_multiple_of(piece.blocks);
        if !ok {
            return Err(piece);
        }
        self.push_node(piece.blocks, piece.value);
        Ok(())
    }
    /// Pushes the aligned node of `size` blocks at `self.next`, merging it with its left sibling while that
    /// exists (same size, and the pair aligned to twice the size).
    fn push_node(&mut self, size: u64, item: T) {
        let mut cur = Piece {
            start: self.next,
            blocks: size,
            value: item,
        };
        self.next += size;
        while let Some(top) = self.stack.last() {
            if top.blocks != cur.blocks || !top.start.is_multiple_of(2 * top.blocks) {
                break;
            }
            let mut left = self.stack.pop().expect("checked non-empty");
            left.value.merge(cur.value);
            left.blocks *= 2;
            cur = left;
        }
        self.stack.push(cur);
    }
    /// The aligned subtrees held, left to right: what a shard hands to the merge.
    pub fn into_pieces(self) -> Vec<Piece<T>> {
        self.stack
    }
    /// The merged result of everything pushed (None if nothing was).
    pub fn finish(mut self) -> Option<T> {
        let mut acc = self.stack.pop()?.value;
        while let Some(left) = self.stack.pop() {
            let mut left = left.value;
            left.merge(acc);
            acc = left;
        }
        Some(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Trace(String);
    impl Merge for Trace {
        fn merge(&mut self, right: Self) {
            self.0 = format!("({}+{})", self.0, right.0);
        }
    }

    #[test]
    fn tree_shape_is_canonical_and_shardable() {
        let mut f = TreeFold::new();
        for i in 0..6 {
            f.push(Trace(i.to_string()));
        }
        assert_eq!(f.finish().unwrap().0, "(((0+1)+(2+3))+(4+5))");
        // An aligned shard of 4 blocks yields the same subtree as inside the full run.
        let mut s = TreeFold::new();
        for i in 0..4 {
            s.push(Trace(i.to_string()));
        }
        assert_eq!(s.finish().unwrap().0, "((0+1)+(2+3))");
    }

    /// The whole run's tree over `n` blocks.
    fn whole(n: u64) -> String {
        let mut f = TreeFold::new();
        for i in 0..n {
            f.push(Trace(i.to_string()));
        }
        f.finish().unwrap().0
    }

    /// Any split of 0..n into contiguous ranges, each folded from its first block, gives pieces that rebuild
    /// the whole run's tree exactly (checked on the tree's shape, which decides every rounding).
    #[test]
    fn pieces_of_any_split_rebuild_the_whole_tree() {
        for n in 1..=40u64 {
            for shards in 1..=7u64 {
                let mut merged = TreeFold::new();
                for k in 0..shards {
                    let (a, b) = (k * n / shards, (k + 1) * n / shards);
                    let mut f = TreeFold::starting_at(a);
                    for i in a..b {
                        f.push(Trace(i.to_string()));
                    }
                    for p in f.into_pieces() {
                        assert!(p.blocks.is_power_of_two() && p.start.is_multiple_of(p.blocks), "{p:?}");
                        merged.push_piece(p).expect("contiguous, aligned");
                    }
                }
                assert_eq!(merged.finish().unwrap().0, whole(n), "n = {n}, shards = {shards}");
            }
        }
    }

    /// A piece that does not continue the fold, or is not aligned, is refused.
    #[test]
    fn misplaced_pieces_are_refused() {
        let mut f = TreeFold::new();
        f.push(Trace("0".into()));
        let gap = Piece {
            start: 2,
            blocks: 1,
            value: Trace("2".into()),
        };
        assert_eq!(f.push_piece(gap).unwrap_err().start, 2);
        let unaligned = Piece {
            start: 1,
            blocks: 2,
            value: Trace("1".into()),
        };
        assert_eq!(f.push_piece(unaligned).unwrap_err().blocks, 2);
        f.push_piece(Piece {
            start: 1,
            blocks: 1,
            value: Trace("1".into()),
        })
        .unwrap();
        assert_eq!(f.finish().unwrap().0, "(0+1)");
    }
}
