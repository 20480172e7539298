//! Search: the projects whose name, tagline and tags hold every word of a query, best match
//! first, from D1's FTS5 index (`project_search`, kept by the triggers of migration 0007).
//! BM25 ranks the matches, a word in the name counting most, then in the tags, then in the
//! tagline; equal ranks show the newer project first.

use generator::model::ProjectSummary;

use crate::error::ApiResult;
use crate::params;
use crate::read_model;
use crate::rules::search_query::{SearchQuery, PAGE_SIZE};
use crate::sql::{Database, Param, Statement};

/// (Re-)indexes the shown projects `filter` selects (`p` is the project; constant text, values
/// bound): one statement, in the batch of the write that changed what the index holds.
pub fn index_projects(filter: &str, params: Vec<Param>) -> Statement {
    Statement::built(
        format!(
            "INSERT OR REPLACE INTO project_search (rowid, name, tagline, tags) \
             SELECT p.project_id, p.project_name, p.tagline, \
                    coalesce((SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.project_id = p.project_id), '') \
             FROM projects p WHERE ({filter}) AND p.hidden = 0"
        ),
        params,
    )
}

/// One page of matches, and whether another page follows (one D1 round trip; none for a
/// query without words).
pub async fn search(db: &impl Database, query: &SearchQuery) -> ApiResult<(Vec<ProjectSummary>, bool)> {
    let Some(expression) = query.fts_expression() else {
        return Ok((Vec::new(), false));
    };
    // The page's ids come from the index alone (FTS5 ranks by its `rank`, configured as BM25
    // in migration 0007); only those rows are joined to their projects.
    let statement = read_model::summaries(
        "JOIN (SELECT rowid AS id, rank FROM project_search WHERE project_search MATCH ?1 \
               ORDER BY rank, rowid DESC LIMIT ?2 OFFSET ?3) m ON m.id = p.project_id \
         WHERE p.hidden = 0 ORDER BY m.rank, p.project_id DESC",
        params![expression, i64::from(PAGE_SIZE) + 1, i64::from(query.offset())],
    );
    let mut results = read_model::decode_summaries(&db.query(statement).await?)?;
    let more = results.len() > PAGE_SIZE as usize;
    results.truncate(PAGE_SIZE as usize);
    Ok((results, more))
}
