//! A visitor's own routes: who they are as an author (`GET /api/v1/visitors/me`), their
//! display name (`PUT /api/v1/visitors/me`, or its form), and their page (`GET /me`).

use generator::pages::visitor::{self, OwnThread, VisitorPage};

use super::auth;
use super::request::body;
use super::{respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Response};
use crate::platform::Platform;
use crate::rules::forms::FormRoute;
use crate::rules::moderation_input::DisplayNameRequest;
use crate::serve::{self, Policy};
use crate::visitors;
use crate::write::Written;

/// `GET /api/v1/visitors/me`: the author key, the name pages show, the display name and the
/// visitor's threads; 401 without an identity.
pub async fn me<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "visitor";
    let Some(visitor) = auth::known_visitor(c)? else {
        return Err(ApiError::Unauthenticated(
            "send your visitor token (the cookie, or Authorization: Bearer); POST /api/v1/visitors issues one".into(),
        ));
    };
    c.figures.round_trips = 1;
    respond::json(200, &visitors::profile(c.platform.db(), &visitor.author).await?.to_json())
}

/// `PUT /api/v1/visitors/me` (or `POST`, from the form on `/me`): `{"display_name"}`.
pub async fn set_name<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "set_display_name";
    let name = body::<DisplayNameRequest, P>(c, FormRoute::DisplayName)?.validate()?;
    let author = auth::visitor(c)?.author;
    let now = c.platform.now();
    let answer = visitors::set_display_name(c.platform.db(), &author, &name, &now).await?;
    respond::written(c, Written { status: 200, body: answer, message: None, round_trips: 1, rows_written: 1 }).await
}

/// `GET /me`: the visitor's page, rendered for the identity the request carries.
pub async fn page<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "visitor_page";
    let profile = match auth::page_visitor(c)? {
        Some(visitor) => Some(visitors::profile(c.platform.db(), &visitor.author).await?),
        None => None,
    };
    let name = profile.as_ref().map(visitors::Profile::name);
    let page = VisitorPage {
        name: name.as_deref(),
        display_name: profile.as_ref().and_then(|p| p.display_name.as_deref()),
        threads: profile
            .as_ref()
            .map(|p| p.threads.iter().map(|(project_name, thread)| OwnThread { project_name, thread }).collect())
            .unwrap_or_default(),
        saved: c.req.query_value("saved").is_some(),
    };
    let page = visitor::render(&c.platform.config().site, &page)?;
    let head = c.req.method == Method::Head;
    let ttl = c.platform.config().edge_ttl_seconds;
    Ok(serve::rendered(page, "rendered", None, head, &Policy::Private, ttl))
}
