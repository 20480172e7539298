//! What a vote is and what it does: one vote per voter per thread; a repeat is a no-op, a
//! switch moves one count from up to down or back. [`outcome`] states that rule in Rust; the
//! vote use case (`threads::vote`) applies the same deltas in SQL inside the batch that stores
//! the vote, so totals equal the stored votes whatever runs concurrently, and reports
//! `outcome` to the voter. The native tests hold the SQL to this rule (`tests/use_cases.rs`,
//! `tests/interleaving.rs`). A move of vote counting to Durable Objects would replace that one
//! use case.

use crate::error::{ApiError, ApiResult};

/// Which way a vote goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// Parses `up` / `down`.
    pub fn parse(raw: &str) -> ApiResult<Self> {
        match raw {
            "up" => Ok(Direction::Up),
            "down" => Ok(Direction::Down),
            _ => Err(ApiError::invalid("direction", "must be `up` or `down`")),
        }
    }

    /// Returns the value stored in `votes.direction`.
    pub fn stored(self) -> i32 {
        match self {
            Direction::Up => 1,
            Direction::Down => -1,
        }
    }

    /// Reads a stored value back.
    pub fn from_stored(v: i64) -> Option<Self> {
        match v {
            1 => Some(Direction::Up),
            -1 => Some(Direction::Down),
            _ => None,
        }
    }

    /// Returns the spelling clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// What a vote did, given the voter's previous vote on the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub up_delta: i64,
    pub down_delta: i64,
}

impl Outcome {
    /// Returns whether any count moved (and so whether pages must be re-rendered).
    pub fn changed(self) -> bool {
        self.up_delta != 0 || self.down_delta != 0
    }
}

/// Computes the count changes of a vote.
pub fn outcome(previous: Option<Direction>, new: Direction) -> Outcome {
    let delta = |d: Option<Direction>| match d {
        Some(Direction::Up) => (1, 0),
        Some(Direction::Down) => (0, 1),
        None => (0, 0),
    };
    let (before_up, before_down) = delta(previous);
    let (after_up, after_down) = delta(Some(new));
    Outcome { up_delta: after_up - before_up, down_delta: after_down - before_down }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_vote_counts_once() {
        assert_eq!(outcome(None, Direction::Up), Outcome { up_delta: 1, down_delta: 0 });
        assert_eq!(outcome(None, Direction::Down), Outcome { up_delta: 0, down_delta: 1 });
    }

    #[test]
    fn a_repeat_is_a_no_op() {
        assert!(!outcome(Some(Direction::Up), Direction::Up).changed());
        assert!(!outcome(Some(Direction::Down), Direction::Down).changed());
    }

    #[test]
    fn a_switch_moves_one_count() {
        assert_eq!(outcome(Some(Direction::Up), Direction::Down), Outcome { up_delta: -1, down_delta: 1 });
        assert_eq!(outcome(Some(Direction::Down), Direction::Up), Outcome { up_delta: 1, down_delta: -1 });
    }

    #[test]
    fn any_sequence_keeps_totals_equal_to_the_last_votes() {
        // Three voters, a fixed pseudo-random sequence of votes: folding the outcomes must give
        // the same totals as counting each voter's last vote.
        let mut last: [Option<Direction>; 3] = [None; 3];
        let (mut up, mut down) = (0_i64, 0_i64);
        let mut seed = 12345_u32;
        for _ in 0..500 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let voter = (seed >> 16) as usize % 3;
            let dir = if (seed >> 8) & 1 == 0 { Direction::Up } else { Direction::Down };
            let o = outcome(last[voter], dir);
            up += o.up_delta;
            down += o.down_delta;
            last[voter] = Some(dir);
        }
        let count = |d| last.iter().filter(|v| **v == Some(d)).count() as i64;
        assert_eq!((up, down), (count(Direction::Up), count(Direction::Down)));
    }

    #[test]
    fn only_up_and_down_are_directions() {
        assert!(Direction::parse("sideways").is_err());
        assert_eq!(Direction::parse("up").map(Direction::stored), Ok(1));
    }
}
