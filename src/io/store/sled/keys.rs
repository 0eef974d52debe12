//! The key layout of every tree: the only place that knows how keys are built.
//!
//! Numbers are big-endian so that sled's byte order is their order; instants
//! are milliseconds offset by [`INSTANT_OFFSET`] so that every instant is a
//! positive, sortable `u64`.

use jiff::Timestamp;

/// Offset that makes every instant's millisecond count a positive, sortable u64.
const INSTANT_OFFSET: i64 = 1 << 62;

/// A number as a key.
pub(super) fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// A number read back from [`be`].
pub(super) fn read_u64(bytes: &[u8]) -> Option<u64> {
    bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes)
}

/// An instant as a sortable key.
pub(super) fn instant(t: Timestamp) -> [u8; 8] {
    ((t.as_millisecond() + INSTANT_OFFSET) as u64).to_be_bytes()
}

/// An instant read back from [`instant`].
pub(super) fn read_instant(bytes: &[u8]) -> Option<Timestamp> {
    read_u64(bytes).and_then(|ms| Timestamp::from_millisecond(ms as i64 - INSTANT_OFFSET).ok())
}

/// `a` then `b`, both 8 bytes: (instant, SR) in the due index, (SR, id) in the outbox by SR,
/// (SR, n) for an SR's messages and events.
pub(super) fn pair(a: [u8; 8], b: [u8; 8]) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a);
    k[8..].copy_from_slice(&b);
    k
}

/// The second half of a [`pair`] key, as a number.
pub(super) fn second(key: &[u8]) -> Option<u64> {
    key.get(8..16).and_then(read_u64)
}

/// Pending-flag key: mailbox, NUL, UIDVALIDITY, UID.
pub(super) fn pending(mailbox: &str, validity: u32, uid: u32) -> Vec<u8> {
    let mut k = mailbox_prefix(mailbox);
    k.extend_from_slice(&validity.to_be_bytes());
    k.extend_from_slice(&uid.to_be_bytes());
    k
}

/// The (UIDVALIDITY, UID) of a [`pending`] key.
pub(super) fn read_pending(mailbox: &str, key: &[u8]) -> Option<(u32, u32)> {
    let rest = key.get(mailbox.len() + 1..)?;
    let validity = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    let uid = u32::from_be_bytes(rest.get(4..8)?.try_into().ok()?);
    Some((validity, uid))
}

/// Every key of one mailbox starts with its name and a NUL.
pub(super) fn mailbox_prefix(mailbox: &str) -> Vec<u8> {
    let mut k = mailbox.as_bytes().to_vec();
    k.push(0);
    k
}

/// Automated-mail key, by address: address, NUL, instant, Message-ID. The
/// Message-ID makes every record its own key, even for two mails of one instant.
pub(super) fn automated(address: &str, t: Timestamp, message_id: &str) -> Vec<u8> {
    let mut k = address.to_ascii_lowercase().into_bytes();
    k.push(0);
    k.extend_from_slice(&instant(t));
    k.extend_from_slice(message_id.as_bytes());
    k
}

/// The first key of `address` at or after `since`, and the first key after every one of `address`.
pub(super) fn automated_range(address: &str, since: Timestamp) -> (Vec<u8>, Vec<u8>) {
    let mut start = address.to_ascii_lowercase().into_bytes();
    start.push(0);
    let mut end = start.clone();
    start.extend_from_slice(&instant(since));
    if let Some(last) = end.last_mut() {
        *last = 1;
    }
    (start, end)
}

/// Knowledge-base suggestion key: the customer's address (lower case), NUL, the article's id.
pub(super) fn suggested(customer: &str, article: &str) -> Vec<u8> {
    let mut k = customer.to_ascii_lowercase().into_bytes();
    k.push(0);
    k.extend_from_slice(article.as_bytes());
    k
}

/// The (customer, article) of a [`suggested`] key.
pub(super) fn read_suggested(key: &[u8]) -> Option<(String, String)> {
    let nul = key.iter().position(|b| *b == 0)?;
    let customer = String::from_utf8(key[..nul].to_vec()).ok()?;
    let article = String::from_utf8(key.get(nul + 1..)?.to_vec()).ok()?;
    Some((customer, article))
}

/// Automated-mail key, by time (for pruning): instant, address, NUL, Message-ID.
pub(super) fn automated_by_time(address: &str, t: Timestamp, message_id: &str) -> Vec<u8> {
    let mut k = instant(t).to_vec();
    k.extend_from_slice(address.to_ascii_lowercase().as_bytes());
    k.push(0);
    k.extend_from_slice(message_id.as_bytes());
    k
}

/// The by-address key of an [`automated_by_time`] key.
pub(super) fn automated_from_time_key(key: &[u8]) -> Option<Vec<u8>> {
    let t = key.get(..8)?;
    let rest = key.get(8..)?;
    let nul = rest.iter().position(|b| *b == 0)?;
    let mut k = rest[..nul].to_vec();
    k.push(0);
    k.extend_from_slice(t);
    k.extend_from_slice(&rest[nul + 1..]);
    Some(k)
}

/// The by-time key of an [`automated`] key (the inverse of [`automated_from_time_key`]).
pub(super) fn automated_to_time_key(key: &[u8]) -> Option<Vec<u8>> {
    let nul = key.iter().position(|b| *b == 0)?;
    let t = key.get(nul + 1..nul + 9)?;
    let mut k = t.to_vec();
    k.extend_from_slice(&key[..=nul]);
    k.extend_from_slice(key.get(nul + 9..)?);
    Some(k)
}

/// The `stats` key of an SR: its state and priority.
pub(super) fn stats(state: crate::sr::State, priority: crate::sr::Priority) -> String {
    format!("{}/{priority:?}", state.as_str())
}

/// Open-index key: the assignee (lower-cased; empty for none), NUL, the SR.
pub(super) fn open(assignee: &str, id: u64) -> Vec<u8> {
    let mut k = open_prefix(assignee);
    k.extend_from_slice(&be(id));
    k
}

/// Every open-index key of one assignee starts with this.
pub(super) fn open_prefix(assignee: &str) -> Vec<u8> {
    let mut k = assignee.to_ascii_lowercase().into_bytes();
    k.push(0);
    k
}

/// The SR of an [`open`] key.
pub(super) fn open_id(key: &[u8]) -> Option<u64> {
    key.len().checked_sub(8).and_then(|at| read_u64(&key[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_sort_and_round_trip() {
        let a: Timestamp = "1969-07-20T20:17:00Z".parse().expect("instant");
        let b: Timestamp = "2026-03-03T10:00:00.001Z".parse().expect("instant");
        assert!(instant(a) < instant(b));
        assert_eq!(read_instant(&instant(b)), Some(b));
    }

    #[test]
    fn automated_keys_of_one_instant_differ_by_message() {
        let t: Timestamp = "2026-03-03T10:00:00Z".parse().expect("instant");
        assert_ne!(automated("a@x.test", t, "m1"), automated("a@x.test", t, "m2"));
        let (start, end) = automated_range("A@x.test", t);
        let k = automated("a@x.test", t, "m1");
        assert!(start <= k && k < end);
        assert!(automated("a@x.testb", t, "m1") >= end || automated("a@x.testb", t, "m1") < start);
        let by_time = automated_by_time("a@x.test", t, "m1");
        assert_eq!(automated_from_time_key(&by_time), Some(k.clone()));
        assert_eq!(automated_to_time_key(&k), Some(by_time));
    }

    #[test]
    fn pending_keys_round_trip() {
        let k = pending("support", 7, 42);
        assert_eq!(read_pending("support", &k), Some((7, 42)));
    }
}
