//! The rules that need no I/O: what a valid write is (`input`), how an HTML form maps onto the
//! API's JSON (`forms`), what a vote does (`votes`), and how a voter's id is signed (`voter`).

pub mod forms;
pub mod input;
pub mod voter;
pub mod votes;
