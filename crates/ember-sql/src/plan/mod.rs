//! Connect `Relation` → DataFusion `LogicalPlan`, with Spark's semantics.
//!
//! The [`Planner`] walks one Connect plan. It remembers the columns each
//! relation with a `plan_id` produced, so `df["col"]` (an attribute tagged
//! with the DataFrame's plan id) resolves to that DataFrame's column even
//! after joins where names collide.

mod aggregate;
mod basic;
mod catalog;
pub(crate) mod generate;
mod join;
mod local;
mod setop;
mod stat;

/// The Connect `SQL` relation (re-exported for callers without the proto crate).
pub use spark_connect_proto::Sql as SqlRelation;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::{Column, TableReference};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use ember_common::SparkError;
use futures::future::BoxFuture;
use spark_connect_proto::Relation;
use spark_connect_proto::relation::RelType;

use crate::error::{Result, analysis};
use crate::session::SparkSession;

/// Translates one Connect plan; lives for one request.
pub struct Planner<'a> {
    pub(crate) session: &'a SparkSession,
    /// The output columns of each relation that carried a plan id.
    plan_columns: HashMap<i64, Vec<Column>>,
    /// Plan ids in the order their relations finished translating; a
    /// subtree's ids form one contiguous run of this log.
    plan_log: Vec<i64>,
    next_alias: usize,
    /// Lambda variables in scope, with their fields when the function
    /// knows them (an array's element, aggregate's accumulator).
    pub(crate) lambda_scope: Vec<(String, Option<datafusion::arrow::datatypes::FieldRef>)>,
    /// `df.observe(...)`s met while translating.
    observed: Vec<Observed>,
    /// The relations a `WithRelations` root refers to, by plan id: the
    /// plans of `df.scalar()`, `df.exists()` and `col.isin(df)`.
    pub(crate) references: HashMap<i64, LogicalPlan>,
}

/// A `CollectMetrics` relation (`df.observe(name, *exprs)`): the rows pass
/// through unchanged; the metrics are an aggregate over them, which the
/// caller runs once the action is done and sends as observed metrics.
pub struct Observed {
    pub name: String,
    pub plan_id: i64,
    /// One row: a column per metric, named as Spark names it.
    pub metrics: LogicalPlan,
}

impl<'a> Planner<'a> {
    pub fn new(session: &'a SparkSession) -> Self {
        Self {
            session,
            plan_columns: HashMap::new(),
            plan_log: vec![],
            next_alias: 0,
            lambda_scope: vec![],
            observed: vec![],
            references: HashMap::new(),
        }
    }

    /// The observations met so far, taken out of the planner.
    pub fn take_observed(&mut self) -> Vec<Observed> {
        std::mem::take(&mut self.observed)
    }

    /// How SQL text's types become Spark's in this session (`time_zone`
    /// is the session's, borrowed from the caller).
    pub(crate) fn sql_types<'t>(&self, time_zone: &'t str) -> crate::sql_types::SqlTypes<'t> {
        crate::sql_types::SqlTypes { ansi: self.session.ansi(), time_zone }
    }

    /// Translates a relation (boxed: relations nest).
    pub fn relation<'b>(&'b mut self, rel: &'b Relation) -> BoxFuture<'b, Result<LogicalPlan>> {
        Box::pin(async move {
            let cached = if self.session.cache.is_empty() { None } else { self.session.cache.lookup(rel) };
            let plan = match cached {
                Some(table) => self.session.ctx().table(table.as_str()).await?.into_unoptimized_plan(),
                None => self.relation_inner(rel).await?,
            };
            if let Some(id) = rel.common.as_ref().and_then(|c| c.plan_id) {
                self.plan_columns.insert(id, plan.schema().columns());
                self.plan_log.push(id);
            }
            Ok(plan)
        })
    }

    async fn relation_inner(&mut self, rel: &Relation) -> Result<LogicalPlan> {
        let Some(rel_type) = &rel.rel_type else {
            return Err(analysis("relation without a type"));
        };
        match rel_type {
            RelType::Read(r) => crate::read::read(self, r).await,
            RelType::Project(p) => self.project(p).await,
            RelType::Filter(f) => self.filter(f).await,
            RelType::Join(j) => self.join(j).await,
            RelType::SetOp(s) => self.set_op(s).await,
            RelType::Sort(s) => self.sort(s).await,
            RelType::Limit(l) => {
                let input = self.input(&l.input).await?;
                Ok(LogicalPlanBuilder::from(input).limit(0, Some(non_negative(l.limit, "limit")?))?.build()?)
            }
            RelType::Offset(o) => {
                let input = self.input(&o.input).await?;
                Ok(LogicalPlanBuilder::from(input).limit(non_negative(o.offset, "offset")?, None)?.build()?)
            }
            RelType::Tail(t) => self.tail(t).await,
            RelType::Aggregate(a) => self.aggregate(a).await,
            RelType::Sql(s) => self.sql_relation(s).await,
            RelType::LocalRelation(l) => self.local_relation(l),
            RelType::ChunkedCachedLocalRelation(c) => self.chunked_local_relation(c),
            RelType::Sample(s) => self.sample(s).await,
            RelType::SampleBy(s) => self.sample_by(s).await,
            RelType::Deduplicate(d) => self.deduplicate(d).await,
            RelType::Range(r) => self.range(r).await,
            RelType::SubqueryAlias(a) => {
                let input = self.input(&a.input).await?;
                Ok(LogicalPlanBuilder::from(input).alias(a.alias.as_str())?.build()?)
            }
            RelType::Repartition(r) => self.repartition(r).await,
            RelType::RepartitionByExpression(r) => self.repartition_by_expression(r).await,
            RelType::ToDf(t) => self.to_df(t).await,
            RelType::WithColumnsRenamed(w) => self.with_columns_renamed(w).await,
            RelType::ShowString(s) => self.show_string(s).await,
            RelType::HtmlString(h) => self.html_string(h).await,
            RelType::Drop(d) => self.drop(d).await,
            RelType::WithColumns(w) => self.with_columns(w).await,
            RelType::Hint(h) => self.input(&h.input).await,
            RelType::Unpivot(u) => self.unpivot(u).await,
            RelType::ToSchema(t) => self.to_schema(t).await,
            RelType::FillNa(f) => self.fill_na(f).await,
            RelType::DropNa(d) => self.drop_na(d).await,
            RelType::Replace(r) => self.replace_na(r).await,
            RelType::Describe(d) => self.describe(d).await,
            RelType::Corr(c) => match &c.input {
                Some(input) => self.corr_cov(input, &c.col1, &c.col2, true).await,
                None => Err(crate::error::analysis("corr without input")),
            },
            RelType::Cov(c) => match &c.input {
                Some(input) => self.corr_cov(input, &c.col1, &c.col2, false).await,
                None => Err(crate::error::analysis("cov without input")),
            },
            RelType::ApproxQuantile(q) => self.approx_quantile(q).await,
            RelType::Crosstab(c) => self.crosstab(c).await,
            RelType::Summary(s) => self.summary(s).await,
            RelType::WithRelations(w) => self.with_relations(w).await,
            RelType::MapPartitions(m) => self.map_partitions(m).await,
            RelType::GroupMap(g) => self.group_map(g).await,
            RelType::Catalog(c) => self.catalog(c, rel.common.as_ref().and_then(|c| c.plan_id)).await,
            RelType::CollectMetrics(c) => {
                let input = self.input(&c.input).await?;
                // The metrics as Spark names them: a global aggregate of the input.
                let mut aggs = vec![];
                for m in &c.metrics {
                    aggs.push(self.expr(m, input.schema())?.at_top());
                }
                let metrics = self.plan_aggregate(input.clone(), vec![], vec![], aggs, false)?;
                let plan_id = rel.common.as_ref().and_then(|c| c.plan_id).unwrap_or_default();
                self.observed.push(Observed { name: c.name.clone(), plan_id, metrics });
                Ok(input)
            }
            RelType::CachedRemoteRelation(c) => {
                let name = crate::cache::cached_table_name(&c.relation_id);
                let table =
                    self.session.ctx().table(name.as_str()).await.map_err(|_| {
                        SparkError::analysis(format!("cached relation {} is not available", c.relation_id))
                    })?;
                Ok(table.into_unoptimized_plan())
            }
            other => Err(SparkError::unsupported(format!("the relation {}", relation_name(other))).into()),
        }
    }

    /// The required input of a unary relation.
    pub(crate) async fn input(&mut self, input: &Option<Box<Relation>>) -> Result<LogicalPlan> {
        match input {
            Some(r) => self.relation(r).await,
            None => Err(analysis("relation without input")),
        }
    }

    /// The columns recorded for a plan id, if any.
    pub(crate) fn plan_id_columns(&self, plan_id: i64) -> Option<&[Column]> {
        self.plan_columns.get(&plan_id).map(Vec::as_slice)
    }

    /// A fresh hidden relation name (`__ember_N`), for scans and join sides.
    pub(crate) fn fresh_alias(&mut self) -> String {
        self.next_alias += 1;
        format!("__ember_{}", self.next_alias)
    }

    /// The position in the plan-id log; with [`Self::requalify_since`] it
    /// finds the plan ids of a subtree.
    pub(crate) fn log_mark(&self) -> usize {
        self.plan_log.len()
    }

    /// After a subtree (translated between `from..to` of the log) was
    /// wrapped in an alias, its plan ids' columns move to the new qualifier.
    pub(crate) fn requalify(&mut self, from: usize, to: usize, old_schema_cols: &[Column], alias: &str) {
        let ids: Vec<i64> = self.plan_log[from..to].to_vec();
        for id in ids {
            if let Some(cols) = self.plan_columns.get_mut(&id) {
                for c in cols.iter_mut() {
                    if old_schema_cols.contains(c) {
                        *c = Column::new(Some(TableReference::bare(alias)), c.name.clone());
                    }
                }
            }
        }
    }

    /// A plan over batches already in memory (results of a sub-query).
    pub(crate) fn batches_plan(
        &mut self,
        schema: datafusion::arrow::datatypes::SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<LogicalPlan> {
        let table = MemTable::try_new(schema, vec![batches])?;
        let name = self.fresh_alias();
        Ok(LogicalPlanBuilder::scan(name, datafusion::datasource::provider_as_source(Arc::new(table)), None)?
            .build()?)
    }

    /// A plan over one batch of these columns (none when `columns` is
    /// empty): the rows of commands and catalog calls.
    pub(crate) fn rows(
        &mut self,
        fields: Vec<datafusion::arrow::datatypes::Field>,
        columns: Vec<datafusion::arrow::array::ArrayRef>,
    ) -> Result<LogicalPlan> {
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
        let batches = if columns.is_empty() { vec![] } else { vec![RecordBatch::try_new(schema.clone(), columns)?] };
        self.batches_plan(schema, batches)
    }

    /// Runs a plan now and returns its batches (for tail, show, describe).
    pub(crate) async fn collect(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        self.session.collect(plan).await
    }
}

fn non_negative(v: i32, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| {
        SparkError::with_class(
            ember_common::ExceptionClass::Analysis,
            "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
            "42K0E",
            format!("The {what} like expression \"{v}\" is invalid. The {what} expression must be equal to or greater than 0, but got {v}."),
        )
        .into()
    })
}

fn relation_name(r: &RelType) -> String {
    let dbg = format!("{r:?}");
    dbg.split('(').next().unwrap_or("relation").to_string()
}
