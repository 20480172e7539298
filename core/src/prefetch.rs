//! A read model that answers some projects from memory, read beforehand in one batch, and
//! asks the database for everything else. A rebuild step renders 100 detail pages: one D1
//! round trip for all their projects instead of one each. Every render reads through this
//! type (with nothing read beforehand, it is [`SqlReadModel`]), so the renderer is compiled
//! into the wasm once.

use std::cell::RefCell;
use std::collections::BTreeMap;

use generator::gather::{ReadModel, Stats};
use generator::model::{Project, ProjectSummary};

use crate::read_model::{assemble, whole_projects, SqlReadModel};
use crate::sql::{Database, DbError};

/// [`SqlReadModel`], with some projects already read.
pub struct Prefetched<'a, D> {
    sql: SqlReadModel<'a, D>,
    /// Each project as pages show it (`None`: hidden), taken when its page is rendered.
    projects: RefCell<BTreeMap<i64, Option<Project>>>,
}

impl<'a, D: Database> Prefetched<'a, D> {
    /// Reads the projects matching `filter` (a `WHERE` over `p`, constant text, as
    /// [`whole_projects`] takes) in one batch.
    pub async fn read(db: &'a D, filter: &str, params: Vec<crate::sql::Param>) -> Result<Self, DbError> {
        let results = db.batch(whole_projects(filter, params).to_vec()).await?;
        let projects = assemble(&results, 0)?.into_iter().map(|p| (p.project_id, p.visible())).collect();
        Ok(Prefetched { sql: SqlReadModel(db), projects: RefCell::new(projects) })
    }

    /// Nothing read beforehand: every question goes to the database.
    pub fn none(db: &'a D) -> Self {
        Prefetched { sql: SqlReadModel(db), projects: RefCell::new(BTreeMap::new()) }
    }

    /// The ids read, ascending.
    pub fn ids(&self) -> Vec<i64> {
        self.projects.borrow().keys().copied().collect()
    }
}

impl<D: Database> ReadModel for Prefetched<'_, D> {
    type Error = DbError;

    async fn stats(&self) -> Result<Stats, DbError> {
        self.sql.stats().await
    }
    async fn newest(&self, n: usize) -> Result<Vec<ProjectSummary>, DbError> {
        self.sql.newest(n).await
    }
    async fn summaries_between(&self, first: i64, last: i64) -> Result<Vec<ProjectSummary>, DbError> {
        self.sql.summaries_between(first, last).await
    }
    async fn ids_between(&self, first: i64, last: i64) -> Result<Vec<i64>, DbError> {
        self.sql.ids_between(first, last).await
    }
    async fn project(&self, project_id: i64) -> Result<Option<Project>, DbError> {
        let taken = self.projects.borrow_mut().remove(&project_id);
        match taken {
            Some(project) => Ok(project),
            None => self.sql.project(project_id).await,
        }
    }
    async fn tag_count(&self, tag: &str) -> Result<i64, DbError> {
        self.sql.tag_count(tag).await
    }
    async fn tag_count_before(&self, tag: &str, project_id: i64) -> Result<i64, DbError> {
        self.sql.tag_count_before(tag, project_id).await
    }
    async fn tagged(&self, tag: &str, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, DbError> {
        self.sql.tagged(tag, offset, limit).await
    }
    async fn top(&self, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, DbError> {
        self.sql.top(offset, limit).await
    }
}
