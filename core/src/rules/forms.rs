//! HTML form submissions: the generated pages post `application/x-www-form-urlencoded` forms
//! to the same write routes the JSON API uses. This module turns a form into the route's JSON
//! body (so one set of rules validates both), and decides where the browser goes next.
//!
//! Form fields: propose `project_name`, `tagline`, `tags` (comma-separated), `problems` and
//! `solutions` (one per line); tags `add`, `remove` (comma-separated); threads `thread_type`,
//! `message`, `parent_id`, or `thread_id` and `message` for an edit; vote `direction`; report
//! `reason`; display name `display_name`. Every form carries `return_to`, a same-site path.
//! Other fields are ignored (a form may carry buttons and hidden helpers).

use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};

/// Which write a form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRoute {
    Propose,
    Tags,
    Threads,
    Vote,
    Report,
    DisplayName,
}

/// A parsed form: its fields in order, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// Parses an urlencoded body.
    pub fn parse(body: &[u8]) -> Self {
        Form { fields: form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect() }
    }

    /// Returns a field's value, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Returns the page to go back to: `return_to` if it is a same-site path, else `/`.
    ///
    /// Browsers read `\` as `/` and drop tabs and newlines anywhere in a URL, so `/\evil` and
    /// `/<tab>/evil` would both become `//evil`, another site: no backslash or control character.
    pub fn return_to(&self) -> String {
        match self.get("return_to") {
            Some(p)
                if p.starts_with('/') && !p.starts_with("//") && !p.chars().any(|c| c == '\\' || c.is_control()) =>
            {
                p.split(['?', '#']).next().unwrap_or("/").to_owned()
            }
            _ => "/".into(),
        }
    }

    /// Builds the JSON body the route's API takes.
    pub fn to_json(&self, route: FormRoute) -> ApiResult<Value> {
        let mut body = Map::new();
        let text = |name: &str| Value::String(self.get(name).unwrap_or("").to_owned());
        match route {
            FormRoute::Propose => {
                body.insert("project_name".into(), text("project_name"));
                body.insert("tagline".into(), text("tagline"));
                body.insert("tags".into(), comma_list(self.get("tags")));
                body.insert("problems".into(), line_list(self.get("problems")));
                body.insert("solutions".into(), line_list(self.get("solutions")));
            }
            FormRoute::Tags => {
                body.insert("add".into(), comma_list(self.get("add")));
                body.insert("remove".into(), comma_list(self.get("remove")));
            }
            FormRoute::Threads => {
                let mut thread = Map::new();
                thread.insert("message".into(), text("message"));
                if let Some(kind) = self.get("thread_type").filter(|k| !k.is_empty()) {
                    thread.insert("thread_type".into(), Value::String(kind.to_owned()));
                }
                for name in ["parent_id", "thread_id"] {
                    if let Some(id) = self.get(name).filter(|p| !p.is_empty()) {
                        let id: i64 = id.trim().parse().map_err(|_| ApiError::invalid(name, "must be a thread id"))?;
                        thread.insert(name.into(), json!(id));
                    }
                }
                body.insert("threads".into(), Value::Array(vec![Value::Object(thread)]));
            }
            FormRoute::Vote => {
                body.insert("direction".into(), text("direction"));
            }
            FormRoute::Report => {
                body.insert("reason".into(), text("reason"));
            }
            FormRoute::DisplayName => {
                body.insert("display_name".into(), text("display_name"));
            }
        }
        Ok(Value::Object(body))
    }
}

fn comma_list(raw: Option<&str>) -> Value {
    Value::Array(
        raw.unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Value::String(t.into()))
            .collect(),
    )
}

fn line_list(raw: Option<&str>) -> Value {
    Value::Array(
        raw.unwrap_or("").lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.into())).collect(),
    )
}

/// Where a successful form sends the browser: back to its page, marked as pending publication,
/// at the new (or edited) thread when there is one; a new proposal to its own page (rendered
/// on demand until published). A report, which publishes nothing, to its thanks; a display
/// name back to the visitor's page.
pub fn success_location(route: FormRoute, return_to: &str, answer: &Value) -> String {
    let thread = answer["threads"][0]["thread_id"].as_i64().or_else(|| answer["thread_id"].as_i64());
    let anchor = thread.map(|id| format!("#thread-{id}")).unwrap_or_default();
    let target = match (route, answer["project_id"].as_i64()) {
        (FormRoute::Propose, Some(id)) => format!("/projects/{id}/"),
        (FormRoute::Report, Some(project_id)) => {
            return format!("/projects/{project_id}/threads/{}/report?sent=1", thread.unwrap_or(0));
        }
        (FormRoute::DisplayName, _) => return format!("{return_to}?saved=1"),
        _ => return_to.to_owned(),
    };
    format!("{target}?published=pending{anchor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_form_becomes_the_api_body() {
        let form = Form::parse(
            b"project_name=Popee&tagline=a+clown&tags=clown%2C+circus%2C&problems=short+temper%0D%0A%0D%0Aself+centered&solutions=drums&return_to=%2F",
        );
        assert_eq!(
            form.to_json(FormRoute::Propose).expect("json"),
            json!({"project_name": "Popee", "tagline": "a clown", "tags": ["clown", "circus"],
                   "problems": ["short temper", "self centered"], "solutions": ["drums"]})
        );
    }

    #[test]
    fn a_reply_form_carries_its_parent() {
        let form = Form::parse(b"thread_type=COMMENT&parent_id=7&message=yes");
        assert_eq!(
            form.to_json(FormRoute::Threads).expect("json"),
            json!({"threads": [{"message": "yes", "thread_type": "COMMENT", "parent_id": 7}]})
        );
        assert_eq!(Form::parse(b"parent_id=x&message=m").to_json(FormRoute::Threads).unwrap_err().status(), 422);
    }

    #[test]
    fn an_edit_form_carries_its_thread() {
        let form = Form::parse(b"thread_id=7&message=better&return_to=%2Fprojects%2F3%2F");
        assert_eq!(
            form.to_json(FormRoute::Threads).expect("json"),
            json!({"threads": [{"message": "better", "thread_id": 7}]})
        );
        let report = Form::parse(b"reason=spam").to_json(FormRoute::Report).expect("json");
        assert_eq!(report, json!({"reason": "spam"}));
    }

    #[test]
    fn return_to_stays_on_this_site() {
        for (raw, want) in [
            ("return_to=%2Fprojects%2F3%2F", "/projects/3/"),
            ("return_to=%2F%2Fevil.example", "/"),
            ("return_to=https%3A%2F%2Fevil.example", "/"),
            ("return_to=%2Fx%3Fa%3D1%23b", "/x"),
            ("return_to=%2F%5Cevil.example", "/"),
            ("return_to=%2F%09%2Fevil.example%2F", "/"),
            ("return_to=%2F%0A%2Fevil.example", "/"),
            ("return_to=%2F%00%2Fevil.example", "/"),
            ("", "/"),
        ] {
            assert_eq!(Form::parse(raw.as_bytes()).return_to(), want, "{raw}");
        }
    }

    #[test]
    fn success_goes_back_marked_pending() {
        assert_eq!(
            success_location(FormRoute::Threads, "/projects/3/", &json!({"threads": [{"thread_id": 9}]})),
            "/projects/3/?published=pending#thread-9"
        );
        assert_eq!(
            success_location(FormRoute::Propose, "/", &json!({"project_id": 12})),
            "/projects/12/?published=pending"
        );
        assert_eq!(
            success_location(FormRoute::Tags, "/projects/3/", &json!({"project_id": 3, "tags": []})),
            "/projects/3/?published=pending"
        );
        assert_eq!(
            success_location(FormRoute::Report, "/projects/3/", &json!({"project_id": 3, "thread_id": 9})),
            "/projects/3/threads/9/report?sent=1"
        );
        assert_eq!(success_location(FormRoute::DisplayName, "/me", &json!({})), "/me?saved=1");
    }
}
