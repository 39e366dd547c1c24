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
#[derive(Debug, Clone)]
pub struct TreeFold<T> {
    stack: Vec<(u64, T)>,
}

impl<T> Default for TreeFold<T> {
    fn default() -> Self {
        TreeFold { stack: Vec::new() }
    }
}

impl<T: Merge> TreeFold<T> {
    /// An empty fold.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds the next block's result.
    pub fn push(&mut self, item: T) {
        let mut cur = (1u64, item);
        while let Some((size, _)) = self.stack.last() {
            if *size != cur.0 {
                break;
            }
            let (size, mut left) = self.stack.pop().expect("checked non-empty");
            left.merge(cur.1);
            cur = (size * 2, left);
        }
        self.stack.push(cur);
    }
    /// The merged result of everything pushed (None if nothing was).
    pub fn finish(mut self) -> Option<T> {
        let mut acc = self.stack.pop()?.1;
        while let Some((_, mut left)) = self.stack.pop() {
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
}
