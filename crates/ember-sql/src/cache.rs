//! `df.cache()` / `persist()`: the relation's rows are computed once and
//! kept in memory; later plans containing the same relation read them.
//!
//! A relation is identified by its encoded Connect message (the client
//! sends the same bytes, plan ids included, for the same DataFrame).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::datasource::MemTable;
use prost::Message;
use spark_connect_proto::Relation;

use crate::error::Result;
use crate::plan::Planner;
use crate::session::SparkSession;

#[derive(Default)]
pub struct Cache {
    /// Encoded relation → the table holding its rows, and its storage level.
    entries: Mutex<HashMap<Vec<u8>, (String, String)>>,
    /// `spark.catalog.cacheTable`: name → the view it replaced (none for a
    /// table, whose rows `crate::catalog` keeps).
    tables: Mutex<HashMap<String, Option<Arc<dyn datafusion::catalog::TableProvider>>>>,
}

pub fn cached_table_name(id: &str) -> String {
    format!("__ember_cached_{id}")
}

impl Cache {
    pub fn is_empty(&self) -> bool {
        self.entries.lock().map(|e| e.is_empty()).unwrap_or(true)
    }

    /// The cached table for a relation, if it is cached.
    pub fn lookup(&self, rel: &Relation) -> Option<String> {
        let key = rel.encode_to_vec();
        self.entries.lock().ok()?.get(&key).map(|(t, _)| t.clone())
    }

    pub fn storage_level(&self, rel: &Relation) -> Option<String> {
        let key = rel.encode_to_vec();
        self.entries.lock().ok()?.get(&key).map(|(_, l)| l.clone())
    }

    /// Computes and keeps a relation's rows (no-op when already cached).
    pub async fn persist(&self, session: &SparkSession, rel: &Relation, level: &str) -> Result<()> {
        let key = rel.encode_to_vec();
        if self.entries.lock().map(|e| e.contains_key(&key)).unwrap_or(false) {
            return Ok(());
        }
        let mut planner = Planner::new(session);
        let plan = planner.relation(rel).await?;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        let df = session.ctx().execute_logical_plan(plan).await?;
        let partitions = df.collect_partitioned().await?;
        let table = MemTable::try_new(schema, partitions)?;
        let name = cached_table_name(&uuid::Uuid::new_v4().simple().to_string());
        session.ctx().register_table(name.as_str(), Arc::new(table))?;
        if let Ok(mut e) = self.entries.lock() {
            e.insert(key, (name, level.to_string()));
        }
        Ok(())
    }

    pub fn unpersist(&self, session: &SparkSession, rel: &Relation) -> Result<()> {
        let key = rel.encode_to_vec();
        let removed = self.entries.lock().ok().and_then(|mut e| e.remove(&key));
        if let Some((name, _)) = removed {
            session.ctx().deregister_table(name.as_str())?;
        }
        Ok(())
    }

    pub fn is_table_cached(&self, name: &str) -> bool {
        self.tables.lock().map(|t| t.contains_key(name)).unwrap_or(false)
    }

    /// Replaces a view by its computed rows (`CACHE TABLE`).
    pub async fn cache_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        if self.is_table_cached(name) {
            return Ok(());
        }
        let ctx = session.ctx();
        let provider = ctx.table_provider(name).await.map_err(|_| ember_common::SparkError::table_not_found(name))?;
        let view = crate::catalog::is_view(session, name).then_some(provider);
        let df = ctx.table(name).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let partitions = df.collect_partitioned().await?;
        let rows = Arc::new(MemTable::try_new(schema, partitions)?);
        if view.is_some() {
            ctx.deregister_table(name)?;
            ctx.register_table(name, rows)?;
        } else {
            // A table's rows stay out of the temp views.
            crate::catalog::cache_table_rows(session, name, Some(rows));
        }
        if let Ok(mut t) = self.tables.lock() {
            t.insert(name.to_string(), view);
        }
        Ok(())
    }

    /// A cached table's rows computed again (after a write to it).
    pub async fn refresh_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        if self.is_table_cached(name) {
            self.uncache_table(session, name)?;
            self.cache_table(session, name).await?;
        }
        Ok(())
    }

    pub fn uncache_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        let original = self.tables.lock().ok().and_then(|mut t| t.remove(name));
        match original {
            Some(Some(view)) => {
                session.ctx().deregister_table(name)?;
                session.ctx().register_table(name, view)?;
            }
            Some(None) => crate::catalog::cache_table_rows(session, name, None),
            None => {}
        }
        Ok(())
    }

    pub fn clear(&self, session: &SparkSession) -> Result<()> {
        let names: Vec<String> = self.tables.lock().map(|t| t.keys().cloned().collect()).unwrap_or_default();
        for n in names {
            self.uncache_table(session, &n)?;
        }
        let entries: Vec<String> =
            self.entries.lock().map(|mut e| e.drain().map(|(_, (t, _))| t).collect()).unwrap_or_default();
        for t in entries {
            session.ctx().deregister_table(t.as_str())?;
        }
        Ok(())
    }
}
