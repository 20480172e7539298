//! What a write use case hands back to its route: the answer, the change to send once the
//! batch committed, and the D1 figures for the log.

use serde_json::Value;

use crate::outbox::ChangeMessage;

/// The outcome of a committed (or replayed) write.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub status: u16,
    pub body: Value,
    /// The change to send; `None` when nothing changed (a repeated vote, a replayed proposal).
    pub message: Option<ChangeMessage>,
    pub round_trips: u32,
    pub rows_written: usize,
}

impl Written {
    /// An answer that changed nothing.
    pub fn unchanged(status: u16, body: Value, round_trips: u32) -> Self {
        Written { status, body, message: None, round_trips, rows_written: 0 }
    }
}
