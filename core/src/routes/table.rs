//! The route table, as data: every path template the Worker answers and the handler of each
//! method on it. The router matches against it, and the OpenAPI test reads it to hold
//! data/openapi.yaml to exactly these routes.
//!
//! A path the table does not list is a published page: GET and HEAD go to the page route,
//! any other method is 405. HEAD goes wherever GET goes. OPTIONS is a CORS preflight on any
//! path.

use crate::error::ApiError;
use crate::http::Method;

/// What handles a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    ProposeProject,
    UpdateTags,
    ListThreads,
    UpdateThreads,
    Vote,
    Revisions,
    Report,
    NewVisitor,
    Visitor,
    SetDisplayName,
    VisitorPage,
    SearchPage,
    Search,
    ModerateThread,
    ModerateProject,
    Reports,
    ModerationLog,
    Health,
    Export,
    Import,
    StartRebuild,
    RebuildProgress,
    DeadLetters,
    ClearDeadLetters,
    Favicon,
    ReplyPage,
    EditPage,
    ReportPage,
    /// A published page (anything the table does not list).
    Page,
    /// A CORS preflight.
    Preflight,
}

/// One path template (`{name}` matches one segment) and its methods.
#[derive(Debug)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [(Method, Handler)],
}

use Handler as H;
use Method as M;

/// Every route of the API and the pages rendered per request.
pub const ROUTES: &[Route] = &[
    Route { path: "/projects/propose", methods: &[(M::Post, H::ProposeProject)] },
    Route { path: "/api/v1/projects", methods: &[(M::Post, H::ProposeProject)] },
    Route { path: "/projects/tags", methods: &[(M::Put, H::UpdateTags)] },
    Route {
        path: "/api/v1/projects/{project_id}/tags",
        methods: &[(M::Put, H::UpdateTags), (M::Patch, H::UpdateTags), (M::Post, H::UpdateTags)],
    },
    Route {
        path: "/api/v1/projects/{project_id}/threads",
        methods: &[(M::Get, H::ListThreads), (M::Post, H::UpdateThreads)],
    },
    Route { path: "/api/v1/threads/{thread_id}/vote", methods: &[(M::Post, H::Vote)] },
    Route { path: "/api/v1/threads/{thread_id}/revisions", methods: &[(M::Get, H::Revisions)] },
    Route { path: "/api/v1/threads/{thread_id}/reports", methods: &[(M::Post, H::Report)] },
    Route { path: "/projects/{project_id}/threads/{thread_id}/reply", methods: &[(M::Get, H::ReplyPage)] },
    Route { path: "/projects/{project_id}/threads/{thread_id}/edit", methods: &[(M::Get, H::EditPage)] },
    Route { path: "/projects/{project_id}/threads/{thread_id}/report", methods: &[(M::Get, H::ReportPage)] },
    Route { path: "/api/v1/visitors", methods: &[(M::Post, H::NewVisitor)] },
    Route { path: "/api/v1/voters", methods: &[(M::Post, H::NewVisitor)] },
    Route {
        path: "/api/v1/visitors/me",
        methods: &[(M::Get, H::Visitor), (M::Put, H::SetDisplayName), (M::Post, H::SetDisplayName)],
    },
    Route { path: "/me", methods: &[(M::Get, H::VisitorPage)] },
    Route { path: "/search", methods: &[(M::Get, H::SearchPage)] },
    Route { path: "/api/v1/search", methods: &[(M::Get, H::Search)] },
    Route { path: "/api/v1/moderation/threads/{thread_id}", methods: &[(M::Post, H::ModerateThread)] },
    Route { path: "/api/v1/moderation/projects/{project_id}", methods: &[(M::Post, H::ModerateProject)] },
    Route { path: "/api/v1/moderation/reports", methods: &[(M::Get, H::Reports)] },
    Route { path: "/api/v1/moderation/log", methods: &[(M::Get, H::ModerationLog)] },
    Route { path: "/api/v1/health", methods: &[(M::Get, H::Health)] },
    Route { path: "/api/v1/export", methods: &[(M::Get, H::Export)] },
    Route { path: "/api/v1/admin/import", methods: &[(M::Post, H::Import)] },
    Route { path: "/api/v1/admin/rebuilds", methods: &[(M::Post, H::StartRebuild)] },
    Route { path: "/api/v1/admin/rebuilds/{rebuild_id}", methods: &[(M::Get, H::RebuildProgress)] },
    Route {
        path: "/api/v1/admin/dead-letters",
        methods: &[(M::Get, H::DeadLetters), (M::Delete, H::ClearDeadLetters)],
    },
    Route { path: "/favicon.ico", methods: &[(M::Get, H::Favicon)] },
];

/// The methods a published page takes.
pub const PAGE_METHODS: &str = "GET, HEAD";

/// A matched request: its handler and the path's `{name}` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub handler: Handler,
    pub params: Vec<(&'static str, String)>,
}

impl Matched {
    /// A path parameter's raw value (`""` if the template has none by that name).
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v.as_str())
    }
}

impl Route {
    /// The `Allow` value of this route: its methods in order, HEAD after GET.
    pub fn allow(&self) -> String {
        let mut names = Vec::new();
        for (method, _) in self.methods {
            names.push(method.as_str());
            if *method == Method::Get {
                names.push("HEAD");
            }
        }
        names.join(", ")
    }

    /// The path's parameters if it fits the template.
    fn capture(&self, path: &str) -> Option<Vec<(&'static str, String)>> {
        let mut template = self.path.split('/');
        let mut given = path.split('/');
        let mut params = Vec::new();
        loop {
            match (template.next(), given.next()) {
                (None, None) => return Some(params),
                (Some(t), Some(g)) => match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) if !g.is_empty() => params.push((name, g.to_owned())),
                    Some(_) => return None,
                    None if t == g => {}
                    None => return None,
                },
                _ => return None,
            }
        }
    }
}

/// Finds the handler of a request: a listed route with this method, a page for GET/HEAD of any
/// other path, a preflight for OPTIONS; else 405 with the route's `Allow`.
pub fn find(method: &Method, path: &str) -> Result<Matched, ApiError> {
    if *method == Method::Options {
        return Ok(Matched { handler: Handler::Preflight, params: Vec::new() });
    }
    let as_get = if *method == Method::Head { &Method::Get } else { method };
    let not_allowed = |allowed: String| ApiError::MethodNotAllowed { method: method.to_string(), allowed };
    for route in ROUTES {
        if let Some(params) = route.capture(path) {
            return match route.methods.iter().find(|(m, _)| m == as_get) {
                Some((_, handler)) => Ok(Matched { handler: *handler, params }),
                None => Err(not_allowed(route.allow())),
            };
        }
    }
    match as_get {
        Method::Get => Ok(Matched { handler: Handler::Page, params: Vec::new() }),
        _ => Err(not_allowed(PAGE_METHODS.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(method: &str, path: &str) -> Result<Handler, String> {
        find(&Method::parse(method), path).map(|m| m.handler).map_err(|e| match e {
            ApiError::MethodNotAllowed { allowed, .. } => allowed,
            other => other.to_string(),
        })
    }

    #[test]
    fn routes_take_their_methods_and_params() {
        let m = find(&Method::Post, "/api/v1/projects/12/threads").expect("routed");
        assert_eq!((m.handler, m.param("project_id")), (Handler::UpdateThreads, "12"));
        assert_eq!(handler("HEAD", "/api/v1/projects/12/threads"), Ok(Handler::ListThreads));
        assert_eq!(handler("PATCH", "/api/v1/projects/1/tags"), Ok(Handler::UpdateTags));
        let reply = find(&Method::Get, "/projects/3/threads/9/reply").expect("routed");
        assert_eq!((reply.param("project_id"), reply.param("thread_id")), ("3", "9"));
    }

    #[test]
    fn other_methods_are_405_with_allow() {
        assert_eq!(handler("DELETE", "/api/v1/projects/1/tags"), Err("PUT, PATCH, POST".into()));
        assert_eq!(handler("PUT", "/api/v1/projects/1/threads"), Err("GET, HEAD, POST".into()));
        assert_eq!(handler("GET", "/projects/propose"), Err("POST".into()));
        // Unknown methods are not GETs.
        assert_eq!(handler("QUERY", "/api/v1/health"), Err("GET, HEAD".into()));
        assert_eq!(handler("QUERY", "/"), Err("GET, HEAD".into()));
        assert_eq!(handler("POST", "/projects/3"), Err("GET, HEAD".into()));
        assert_eq!(handler("PURGE", "/projects/3/"), Err("GET, HEAD".into()));
    }

    #[test]
    fn everything_else_is_a_page_or_a_preflight() {
        for path in ["/", "/projects/3/", "/projects/3", "/tags/solar/", "/no/such/page", "/projects/propose/x"] {
            assert_eq!(handler("GET", path), Ok(Handler::Page), "{path}");
            assert_eq!(handler("HEAD", path), Ok(Handler::Page), "{path}");
        }
        assert_eq!(handler("OPTIONS", "/api/v1/projects"), Ok(Handler::Preflight));
        // An empty segment is not a parameter.
        assert_eq!(handler("POST", "/api/v1/threads//vote"), Err("GET, HEAD".into()));
    }

    #[test]
    fn templates_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(ROUTES[i + 1..].iter().all(|b| b.path != a.path), "{} twice", a.path);
            assert!(!a.methods.is_empty(), "{}", a.path);
        }
    }
}
