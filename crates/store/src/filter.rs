//! What a pull asks of the store about each message: does it match? Two chances, cheapest
//! first — on the consume-queue entry alone (tags code, or the SQL92 bit map in the
//! ConsumeQueueExt unit), and, for the entries that pass, on the record read from the commit
//! log (the SQL92 expression on its properties). Book: Part II, "Filtering". Mirrors
//! `org.apache.rocketmq.store.MessageFilter`.

use crate::consume_queue_ext::CqExtUnit;

/// A pull's filter (`MessageFilter`).
pub trait MessageFilter {
    /// Decides on the consume-queue entry: `tags_code` is `None` when the entry points at an
    /// extension unit that cannot be found; `ext` is the unit when there is one.
    fn is_matched_by_consume_queue(&self, tags_code: Option<i64>, ext: Option<&CqExtUnit>) -> bool;

    /// Decides on the whole stored record (only asked for entries that passed the first test).
    fn is_matched_by_commit_log(&self, record: &[u8]) -> bool;
}

/// A filter on tags codes alone (a closure), as the broker's tag subscriptions and the
/// schedule service use; an unresolvable extension address passes, as in 4.8.0.
pub struct TagsCodeFilter<'a>(pub &'a dyn Fn(i64) -> bool);

impl MessageFilter for TagsCodeFilter<'_> {
    fn is_matched_by_consume_queue(
        &self,
        tags_code: Option<i64>,
        _ext: Option<&CqExtUnit>,
    ) -> bool {
        // map_or rather than is_none_or: the workspace's rust-version is 1.80
        #[allow(clippy::unnecessary_map_or)]
        let pass = tags_code.map_or(true, |c| (self.0)(c));
        pass
    }

    fn is_matched_by_commit_log(&self, _record: &[u8]) -> bool {
        true
    }
}
