//! The first few SRs of a long list, and how long the list was: what a desk mail shows
//! of a desk with a million SRs. SRs are offered one at a time, in any order; memory
//! stays at `limit` SRs whatever the number offered.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::sr::Sr;

/// The first `limit` SRs offered, in the order of their keys `K` (smallest first), and
/// how many were offered.
#[derive(Debug)]
pub struct Shortlist<K> {
    limit: usize,
    /// The kept SRs, the last in order on top (the one a better SR displaces).
    kept: BinaryHeap<Ranked<K>>,
    total: u64,
}

/// An SR in a shortlist, ordered by its key only.
#[derive(Debug)]
struct Ranked<K> {
    key: K,
    sr: Sr,
}

impl<K: Ord> PartialEq for Ranked<K> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<K: Ord> Eq for Ranked<K> {}

impl<K: Ord> PartialOrd for Ranked<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord> Ord for Ranked<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl<K: Ord> Shortlist<K> {
    /// An empty shortlist that keeps at most `limit` SRs.
    pub fn new(limit: usize) -> Self {
        Shortlist { limit, kept: BinaryHeap::with_capacity(limit.min(1024) + 1), total: 0 }
    }

    /// Counts `sr`, and keeps a copy of it when it is among the first `limit` by `key`
    /// so far (keys are expected to be unique, e.g. end with the SR's number).
    pub fn offer(&mut self, key: K, sr: &Sr) {
        self.total += 1;
        if self.kept.len() < self.limit {
            self.kept.push(Ranked { key, sr: sr.clone() });
        } else if self.kept.peek().is_some_and(|last| key < last.key) {
            self.kept.pop();
            self.kept.push(Ranked { key, sr: sr.clone() });
        }
    }

    /// How many SRs were offered (kept or not).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The kept SRs, in order.
    pub fn into_sorted(self) -> Vec<Sr> {
        self.kept.into_sorted_vec().into_iter().map(|r| r.sr).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sr(id: u64) -> Sr {
        use crate::sr::{Direction, MessageKind, MessageRecord, lifecycle};
        let now: jiff::Timestamp = "2026-03-03T10:00:00Z".parse().expect("instant");
        let first = MessageRecord {
            direction: Direction::In,
            from: "jane@example.com".into(),
            to: vec!["support@example.test".into()],
            subject: "Printer".into(),
            message_id: format!("m{id}@example.com"),
            kind: MessageKind::CustomerNew,
            at: now,
            attachments: Vec::new(),
            text: "Help".into(),
            files: Vec::new(),
        };
        lifecycle::open(id, first, None, "Printer".into(), None, now)
    }

    #[test]
    fn keeps_the_first_by_key_and_counts_them_all() {
        let mut list = Shortlist::new(3);
        for id in [9, 4, 7, 1, 8, 2, 6] {
            list.offer(id, &sr(id));
        }
        assert_eq!(list.total(), 7);
        assert_eq!(list.into_sorted().iter().map(|s| s.id).collect::<Vec<_>>(), vec![1, 2, 4]);
    }

    #[test]
    fn a_short_list_keeps_everything_and_none_keeps_nothing() {
        let mut all = Shortlist::new(10);
        let mut none = Shortlist::new(0);
        for id in [3, 1, 2] {
            all.offer(id, &sr(id));
            none.offer(id, &sr(id));
        }
        assert_eq!(all.into_sorted().iter().map(|s| s.id).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!((none.total(), none.into_sorted().len()), (3, 0));
    }
}
