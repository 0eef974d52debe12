//! The first few items of a long list, and how long the list was: what a desk mail shows
//! of a desk with a million SRs. Items are offered one at a time, in any order; memory
//! stays at `limit` items whatever the number offered.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The first `limit` items offered (SRs, for the desk mails), in the order of their keys
/// `K` (smallest first), and how many were offered.
#[derive(Debug)]
pub struct Shortlist<K, T> {
    limit: usize,
    /// The kept items, the last in order on top (the one a better item displaces).
    kept: BinaryHeap<Ranked<K, T>>,
    total: u64,
}

/// An item in a shortlist, ordered by its key only.
#[derive(Debug)]
struct Ranked<K, T> {
    key: K,
    item: T,
}

impl<K: Ord, T> PartialEq for Ranked<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<K: Ord, T> Eq for Ranked<K, T> {}

impl<K: Ord, T> PartialOrd for Ranked<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, T> Ord for Ranked<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl<K: Ord, T: Clone> Shortlist<K, T> {
    /// An empty shortlist that keeps at most `limit` items.
    pub fn new(limit: usize) -> Self {
        Shortlist { limit, kept: BinaryHeap::with_capacity(limit.min(1024) + 1), total: 0 }
    }

    /// Counts `item`, and keeps a copy of it when it is among the first `limit` by `key`
    /// so far (keys are expected to be unique, e.g. end with the SR's number).
    pub fn offer(&mut self, key: K, item: &T) {
        self.total += 1;
        if self.kept.len() < self.limit {
            self.kept.push(Ranked { key, item: item.clone() });
        } else if self.kept.peek().is_some_and(|last| key < last.key) {
            self.kept.pop();
            self.kept.push(Ranked { key, item: item.clone() });
        }
    }

    /// How many items were offered (kept or not).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The kept items, in order.
    pub fn into_sorted(self) -> Vec<T> {
        self.kept.into_sorted_vec().into_iter().map(|r| r.item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_by_key_and_counts_them_all() {
        let mut list = Shortlist::new(3);
        for id in [9, 4, 7, 1, 8, 2, 6] {
            list.offer(id, &format!("SR {id}"));
        }
        assert_eq!(list.total(), 7);
        assert_eq!(list.into_sorted(), ["SR 1", "SR 2", "SR 4"]);
    }

    #[test]
    fn a_short_list_keeps_everything_and_none_keeps_nothing() {
        let mut all = Shortlist::new(10);
        let mut none = Shortlist::new(0);
        for id in [3, 1, 2] {
            all.offer(id, &id);
            none.offer(id, &id);
        }
        assert_eq!(all.into_sorted(), [1, 2, 3]);
        assert_eq!((none.total(), none.into_sorted().len()), (3, 0));
    }
}
