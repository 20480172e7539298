//! Request bodies of moderation, reports and display names, and their rules.

use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::moderation::{ProjectAction, ThreadAction};
use crate::rules::input::{id, line};

/// Longest reason a report or a moderation action may give.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;

/// `POST /api/v1/moderation/threads/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerateThreadRequest {
    pub action: String,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub revision_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub reason: Option<String>,
}

/// `POST /api/v1/moderation/projects/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerateProjectRequest {
    pub action: String,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub reason: Option<String>,
}

/// `POST /api/v1/threads/{id}/reports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub reason: String,
}

/// `PUT /api/v1/visitors/me`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayNameRequest {
    pub display_name: String,
}

fn reason(raw: Option<&str>) -> ApiResult<Option<String>> {
    raw.map(|r| line("reason", r, MAX_REASON_CHARS)).transpose()
}

impl ModerateThreadRequest {
    /// The action and its optional reason; `revert` needs the revision, nothing else takes one.
    pub fn validate(&self) -> ApiResult<(ThreadAction, Option<String>)> {
        let action = match (self.action.as_str(), self.revision_id) {
            ("hide", None) => ThreadAction::Hide,
            ("restore", None) => ThreadAction::Restore,
            ("revert", Some(revision)) => ThreadAction::Revert { revision_id: id("revision_id", revision)? },
            ("revert", None) => {
                return Err(ApiError::invalid("revision_id", "revert needs the revision to go back to"))
            }
            ("hide" | "restore", Some(_)) => {
                return Err(ApiError::invalid("revision_id", "only revert takes a revision"));
            }
            _ => return Err(ApiError::invalid("action", "must be hide, restore or revert")),
        };
        Ok((action, reason(self.reason.as_deref())?))
    }
}

impl ModerateProjectRequest {
    /// The action and its optional reason.
    pub fn validate(&self) -> ApiResult<(ProjectAction, Option<String>)> {
        let action = match self.action.as_str() {
            "hide" => ProjectAction::Hide,
            "restore" => ProjectAction::Restore,
            _ => return Err(ApiError::invalid("action", "must be hide or restore")),
        };
        Ok((action, reason(self.reason.as_deref())?))
    }
}

impl ReportRequest {
    /// The reason, required: a moderator needs to know what is wrong.
    pub fn validate(&self) -> ApiResult<String> {
        line("reason", &self.reason, MAX_REASON_CHARS)
    }
}

impl DisplayNameRequest {
    /// A display name: one line like every other text, at most 40 characters.
    pub fn validate(&self) -> ApiResult<String> {
        line("display_name", &self.display_name, MAX_DISPLAY_NAME_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::input::parse_json;

    fn thread(json: &str) -> ApiResult<(ThreadAction, Option<String>)> {
        parse_json::<ModerateThreadRequest>(json.as_bytes())?.validate()
    }

    #[test]
    fn thread_actions_take_exactly_what_they_need() {
        assert_eq!(thread(r#"{"action": "hide"}"#), Ok((ThreadAction::Hide, None)));
        assert_eq!(
            thread(r#"{"action": "revert", "revision_id": 3, "reason": " spam "}"#),
            Ok((ThreadAction::Revert { revision_id: 3 }, Some("spam".into())))
        );
        for (body, field) in [
            (r#"{"action": "revert"}"#, "revision_id"),
            (r#"{"action": "hide", "revision_id": 3}"#, "revision_id"),
            (r#"{"action": "delete"}"#, "action"),
            (r#"{"action": "revert", "revision_id": 0}"#, "revision_id"),
            (r#"{"action": "hide", "reason": ""}"#, "reason"),
            (r#"{"action": "hide", "token": "x"}"#, "token"),
        ] {
            assert_eq!(thread(body).unwrap_err().field(), Some(field), "{body}");
        }
    }

    #[test]
    fn names_and_reasons_are_single_bounded_lines() {
        let name = |n: &str| DisplayNameRequest { display_name: n.into() }.validate();
        assert_eq!(name("  Ada  "), Ok("Ada".into()));
        assert_eq!(name("a\nb").unwrap_err().field(), Some("display_name"));
        assert!(name(&"x".repeat(MAX_DISPLAY_NAME_CHARS + 1)).is_err());
        assert_eq!(ReportRequest { reason: " ".into() }.validate().unwrap_err().field(), Some("reason"));
        let project = ModerateProjectRequest { action: "revert".into(), reason: None };
        assert_eq!(project.validate().unwrap_err().field(), Some("action"));
    }
}
