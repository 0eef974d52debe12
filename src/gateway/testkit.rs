//! What the gateway's unit tests share: a store that knows nothing, and no knowledge base.

use jiff::Timestamp;

use super::Lookup;
use crate::contacts::Contact;
use crate::sr::Sr;

/// No knowledge base.
pub(crate) static NO_KB: crate::kb::Kb = crate::kb::Kb::empty();

/// A store that knows nothing and never caps automated mail.
pub(crate) struct NoStore;

impl Lookup for NoStore {
    fn sr_exists(&self, _: u64) -> bool {
        false
    }
    fn sr_of_message(&self, _: &str) -> Option<u64> {
        None
    }
    fn contact(&self, _: &str) -> Option<Contact> {
        None
    }
    fn automated_since(&self, _: &str, _: Timestamp) -> u32 {
        0
    }
    fn open_srs_of(&self, _: &str, _: &mut dyn FnMut(&Sr)) {}
}
