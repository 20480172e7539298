//! The rules that need no I/O: what a valid write is (`input`), how an HTML form maps onto the
//! API's JSON (`forms`), what a vote does (`votes`), how a visitor's id is signed and becomes
//! an author (`identity`), who moderates (`moderators`), what moderation, reports and display
//! names take (`moderation_input`), and what a search query is (`search_query`).

pub mod forms;
pub mod identity;
pub mod input;
pub mod moderation_input;
pub mod moderators;
pub mod nfc;
pub mod search_query;
pub mod votes;
