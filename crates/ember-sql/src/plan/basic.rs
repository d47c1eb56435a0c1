//! The row-wise relations: project, filter, sort, tail, sample, range,
//! repartition, column renames and drops, SQL, show.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, TableReference};
use datafusion::logical_expr::expr::Alias;
use datafusion::logical_expr::utils::{find_aggregate_exprs, find_window_exprs};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Partitioning, cast, lit};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto as sc;

use super::Planner;
use crate::error::{Result, analysis};
use crate::expr::{NamedExpr, strip_alias};

impl Planner<'_> {
    pub(super) async fn project(&mut self, p: &sc::Project) -> Result<LogicalPlan> {
        let input = match &p.input {
            Some(i) => self.relation(i).await?,
            // `spark.range`-less selects such as `SELECT 1`: one empty row.
            None => LogicalPlanBuilder::empty(true).build()?,
        };
        let exprs = self.projection(&p.expressions, input.schema())?;
        self.project_named(input, exprs)
    }

    /// Projects Spark-named expressions, planning what a projection may
    /// contain in Spark but not in DataFusion: window functions, aggregates
    /// without groupBy (a global aggregate), `explode`, and repeated names.
    pub(crate) fn project_named(&mut self, input: LogicalPlan, exprs: Vec<NamedExpr>) -> Result<LogicalPlan> {
        let raw: Vec<Expr> = exprs.iter().map(|n| n.expr.clone()).collect();
        let mut plan = input;
        let mut exprs = exprs;

        let aggs = find_aggregate_exprs(&raw);
        let windows = find_window_exprs(&raw);
        if !aggs.is_empty() && windows.is_empty() {
            // select(sum(x)) is a global aggregate.
            plan = LogicalPlanBuilder::from(plan).aggregate(Vec::<Expr>::new(), aggs.clone())?.build()?;
            exprs = exprs
                .into_iter()
                .map(|n| Ok(NamedExpr::new(columnize(n.expr, &aggs)?, n.name)))
                .collect::<Result<_>>()?;
        }
        if !windows.is_empty() {
            plan = LogicalPlanBuilder::window_plan(plan, windows.clone())?;
            exprs = exprs
                .into_iter()
                .map(|n| Ok(NamedExpr::new(columnize(n.expr, &windows)?, n.name)))
                .collect::<Result<_>>()?;
        }

        // `window(t, …).start`: the windows are unnested below, where the
        // expression reads them as a column.
        (plan, exprs) = self.time_windows_below(plan, exprs)?;

        // A generator (explode, posexplode, inline) adds an unnest below.
        let mut fresh = || self.fresh_alias();
        let (plan, exprs, _) = super::generate::plan_generators(plan, exprs, &mut fresh)?;

        let items = dedup_names(exprs.into_iter().map(NamedExpr::into_projection).collect());
        Ok(LogicalPlanBuilder::from(plan).project(items)?.build()?)
    }

    /// Unnests the time windows (`functions::time_window`) that an item
    /// reads inside an expression into columns of a plan below `input`.
    fn time_windows_below(
        &mut self,
        input: LogicalPlan,
        exprs: Vec<NamedExpr>,
    ) -> Result<(LogicalPlan, Vec<NamedExpr>)> {
        let mut hidden: Vec<NamedExpr> = vec![];
        let mut out = Vec::with_capacity(exprs.len());
        for n in exprs {
            if matches!(strip_alias(n.expr.clone()), Expr::Unnest(_)) {
                out.push(n);
                continue;
            }
            let NamedExpr { expr, name, top_name } = n;
            let expr = expr
                .transform_down(|e| {
                    if !crate::functions::time_window::is_windows(&e) {
                        return Ok(Transformed::no(e));
                    }
                    let column = format!("__ember_window_{}", hidden.len());
                    hidden.push(NamedExpr::new(e, column.clone()));
                    Ok(Transformed::yes(Expr::Column(Column::from_name(column))))
                })?
                .data;
            out.push(NamedExpr { expr, name, top_name });
        }
        if hidden.is_empty() {
            return Ok((input, out));
        }
        Ok((self.unnest_below(input, hidden)?, out))
    }

    /// `input`'s columns (qualifiers kept, so expressions over them resolve
    /// as before) and a column of each named unnest's rows.
    pub(super) fn unnest_below(&mut self, input: LogicalPlan, unnests: Vec<NamedExpr>) -> Result<LogicalPlan> {
        let columns = input.schema().columns();
        let mut items: Vec<NamedExpr> =
            columns.iter().map(|c| NamedExpr::new(Expr::Column(c.clone()), c.name.clone())).collect();
        let names: Vec<String> = unnests.iter().map(|u| u.name.clone()).collect();
        items.extend(unnests);
        let mut fresh = || self.fresh_alias();
        let (plan, made, _) = super::generate::plan_generators(input, items, &mut fresh)?;
        let mut below: Vec<Expr> = columns.into_iter().map(Expr::Column).collect();
        let generated = made[below.len()..].iter().zip(names).map(|(m, n)| strip_alias(m.expr.clone()).alias(n));
        below.extend(generated.collect::<Vec<_>>());
        Ok(LogicalPlanBuilder::from(plan).project(below)?.build()?)
    }

    pub(super) async fn filter(&mut self, f: &sc::Filter) -> Result<LogicalPlan> {
        let input = self.input(&f.input).await?;
        let Some(c) = &f.condition else {
            return Err(analysis("filter without a condition"));
        };
        let cond = match self.expr(c, input.schema()) {
            Ok(cond) => cond,
            // `df.select(a).where(df.b > 1)`: Spark resolves b below the projection.
            Err(e) => match self.below_projection(&input, |p, schema| p.expr(c, schema)) {
                Some(((exprs, below), cond)) => {
                    let filtered = LogicalPlanBuilder::from(below).filter(strip_alias(cond.expr))?.build()?;
                    return Ok(LogicalPlanBuilder::from(filtered).project(exprs)?.build()?);
                }
                None => return Err(e),
            },
        };
        let t = cond.expr.get_type(input.schema())?;
        if t != DataType::Boolean && t != DataType::Null {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN",
                "42K09",
                format!(
                    "Cannot resolve \"{}\" due to data type mismatch: Filter expression \"{}\" of type \"{}\" is not a boolean.",
                    cond.name,
                    cond.name,
                    crate::types::simple_string(&t).to_uppercase()
                ),
            )
            .into());
        }
        Ok(LogicalPlanBuilder::from(input).filter(strip_alias(cond.expr))?.build()?)
    }

    pub(super) async fn sort(&mut self, s: &sc::Sort) -> Result<LogicalPlan> {
        let input = self.input(&s.input).await?;
        let mut keys = vec![];
        let mut failed = None;
        for o in &s.order {
            match self.sort_order(o, input.schema()) {
                Ok(k) => keys.push(k.0),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let Some(e) = failed else {
            return Ok(LogicalPlanBuilder::from(input).sort(keys)?.build()?);
        };
        // `df.select(a).orderBy(df.b)`: sort below the projection, as Spark does.
        let resolved = self.below_projection(&input, |p, schema| {
            s.order.iter().map(|o| p.sort_order(o, schema).map(|k| k.0)).collect::<Result<Vec<_>>>()
        });
        match resolved {
            Some(((exprs, inner), keys)) => {
                let sorted = LogicalPlanBuilder::from(inner).sort(keys)?.build()?;
                Ok(LogicalPlanBuilder::from(sorted).project(exprs)?.build()?)
            }
            None => Err(e),
        }
    }

    /// When `input` is a projection, runs `resolve` against the projection's
    /// input instead; returns (the projection's expressions and input, result).
    fn below_projection<T>(
        &mut self,
        input: &LogicalPlan,
        resolve: impl FnOnce(&mut Self, &datafusion::common::DFSchema) -> Result<T>,
    ) -> Option<((Vec<Expr>, LogicalPlan), T)> {
        let LogicalPlan::Projection(p) = input else { return None };
        let inner = p.input.as_ref().clone();
        let value = resolve(self, inner.schema()).ok()?;
        Some(((p.expr.clone(), inner), value))
    }

    /// `df.tail(n)`: the last `n` rows, computed now.
    pub(super) async fn tail(&mut self, t: &sc::Tail) -> Result<LogicalPlan> {
        let input = self.input(&t.input).await?;
        let n = usize::try_from(t.limit).map_err(|_| analysis("tail needs a non-negative count"))?;
        let schema = Arc::new(input.schema().as_arrow().clone());
        let batches = self.collect(input).await?;
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut skip = total.saturating_sub(n);
        let mut out = vec![];
        for b in batches {
            if skip >= b.num_rows() {
                skip -= b.num_rows();
                continue;
            }
            out.push(b.slice(skip, b.num_rows() - skip));
            skip = 0;
        }
        self.batches_plan(schema, out)
    }

    pub(super) async fn sql_relation(&mut self, s: &sc::Sql) -> Result<LogicalPlan> {
        crate::sql::query_plan(self, s).await
    }

    pub(super) async fn range(&mut self, r: &sc::Range) -> Result<LogicalPlan> {
        let start = r.start.unwrap_or(0);
        let sql = match r.num_partitions {
            Some(n) => format!("SELECT id FROM range({start}, {}, {}, {n})", r.end, r.step),
            None => format!("SELECT id FROM range({start}, {}, {})", r.end, r.step),
        };
        let plan = self.session.ctx().sql(&sql).await?.into_unoptimized_plan();
        let name = self.fresh_alias();
        Ok(LogicalPlanBuilder::from(plan).alias(name)?.build()?)
    }

    pub(super) async fn sample(&mut self, s: &sc::Sample) -> Result<LogicalPlan> {
        let input = self.input(&s.input).await?;
        if s.with_replacement.unwrap_or(false) {
            return Err(SparkError::unsupported("sample with replacement").into());
        }
        if !(0.0..=1.0).contains(&s.lower_bound)
            || !(0.0..=1.0).contains(&s.upper_bound)
            || s.lower_bound > s.upper_bound
        {
            return Err(SparkError::illegal_argument(format!(
                "Sampling fraction ({}) must be on interval [0, 1] without replacement",
                s.upper_bound - s.lower_bound
            ))
            .into());
        }
        // A row is kept when its seeded hash, mapped to [0, 1), falls in the bounds.
        let seed = s.seed.unwrap_or(0);
        let udf = crate::functions::sample_udf();
        let mut args = vec![lit(seed)];
        args.extend(input.schema().columns().into_iter().map(Expr::Column));
        let u = udf.call(args);
        let cond = u.clone().gt_eq(lit(s.lower_bound)).and(u.lt(lit(s.upper_bound)));
        Ok(LogicalPlanBuilder::from(input).filter(cond)?.build()?)
    }

    /// `df.sampleBy(col, fractions, seed)`: each row kept with its
    /// stratum's fraction (0 for a stratum not listed), as Spark's
    /// `rand(seed) < fraction`.
    pub(super) async fn sample_by(&mut self, s: &sc::StatSampleBy) -> Result<LogicalPlan> {
        let input = self.input(&s.input).await?;
        let schema = input.schema().clone();
        let stratum = match &s.col {
            Some(c) => crate::expr::strip_alias(self.expr(c, &schema)?.expr),
            None => return Err(analysis("sampleBy without a column")),
        };
        let tz = self.session.time_zone();
        let mut cases = vec![];
        for f in &s.fractions {
            if !(0.0..=1.0).contains(&f.fraction) {
                return Err(SparkError::illegal_argument(format!(
                    "requirement failed: Fractions must be in [0, 1], but got {}.",
                    f.fraction
                ))
                .into());
            }
            let Some(value) = &f.stratum else { return Err(analysis("sampleBy fraction without a stratum")) };
            let value = crate::literal::literal(value, &tz)?.0;
            cases.push((Box::new(stratum.clone().eq(lit(value))), Box::new(lit(f.fraction))));
        }
        let fraction = if cases.is_empty() {
            lit(0.0)
        } else {
            Expr::Case(datafusion::logical_expr::expr::Case::new(None, cases, Some(Box::new(lit(0.0)))))
        };
        let mut args = vec![lit(s.seed.unwrap_or(0))];
        args.extend(schema.columns().into_iter().map(Expr::Column));
        let u = crate::functions::sample_udf().call(args);
        Ok(LogicalPlanBuilder::from(input).filter(u.lt(fraction))?.build()?)
    }

    pub(super) async fn deduplicate(&mut self, d: &sc::Deduplicate) -> Result<LogicalPlan> {
        let input = self.input(&d.input).await?;
        if d.all_columns_as_keys.unwrap_or(false) || d.column_names.is_empty() {
            return Ok(LogicalPlanBuilder::from(input).distinct()?.build()?);
        }
        let schema = input.schema().clone();
        let mut on = vec![];
        for c in &d.column_names {
            let (e, _) = self.resolve_attribute(&format!("`{}`", c.replace('`', "``")), None, &schema)?;
            on.push(e);
        }
        let select: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
        Ok(LogicalPlanBuilder::from(input).distinct_on(on, select, None)?.build()?)
    }

    pub(super) async fn repartition(&mut self, r: &sc::Repartition) -> Result<LogicalPlan> {
        let input = self.input(&r.input).await?;
        let n = usize::try_from(r.num_partitions).ok().filter(|n| *n > 0).ok_or_else(|| {
            SparkError::illegal_argument(format!("Number of partitions ({}) must be positive.", r.num_partitions))
        })?;
        Ok(LogicalPlanBuilder::from(input).repartition(Partitioning::RoundRobinBatch(n))?.build()?)
    }

    pub(super) async fn repartition_by_expression(&mut self, r: &sc::RepartitionByExpression) -> Result<LogicalPlan> {
        let input = self.input(&r.input).await?;
        let n = r
            .num_partitions
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| self.session.shuffle_partitions());
        let mut keys = vec![];
        let mut sort_keys = vec![];
        for e in &r.partition_exprs {
            match &e.expr_type {
                // repartitionByRange: sort keys; a hash on the keys keeps equal keys together.
                Some(sc::expression::ExprType::SortOrder(s)) => {
                    let (sk, _) = self.sort_order(s, input.schema())?;
                    keys.push(sk.expr.clone());
                    sort_keys.push(sk);
                }
                _ => keys.push(strip_alias(self.expr(e, input.schema())?.expr)),
            }
        }
        if keys.is_empty() {
            return Ok(LogicalPlanBuilder::from(input).repartition(Partitioning::RoundRobinBatch(n))?.build()?);
        }
        Ok(LogicalPlanBuilder::from(input).repartition(Partitioning::Hash(keys, n))?.build()?)
    }

    pub(super) async fn to_df(&mut self, t: &sc::ToDf) -> Result<LogicalPlan> {
        let input = self.input(&t.input).await?;
        let cols = input.schema().columns();
        if cols.len() != t.column_names.len() {
            return Err(SparkError::with_class(
                ExceptionClass::IllegalArgument,
                "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                "42605",
                format!(
                    "The number of columns doesn't match. Old column names ({}): {}. New column names ({}): {}.",
                    cols.len(),
                    cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", "),
                    t.column_names.len(),
                    t.column_names.join(", ")
                ),
            )
            .into());
        }
        let exprs =
            cols.into_iter().zip(&t.column_names).map(|(c, n)| NamedExpr::new(Expr::Column(c), n.clone())).collect();
        self.project_named(input, exprs)
    }

    pub(super) async fn with_columns_renamed(&mut self, w: &sc::WithColumnsRenamed) -> Result<LogicalPlan> {
        let input = self.input(&w.input).await?;
        let mut renames: Vec<(String, String)> =
            w.renames.iter().map(|r| (r.col_name.clone(), r.new_col_name.clone())).collect();
        #[allow(deprecated)]
        renames.extend(w.rename_columns_map.iter().map(|(k, v)| (k.clone(), v.clone())));
        let cs = self.session.case_sensitive();
        let exprs = input
            .schema()
            .columns()
            .into_iter()
            .map(|c| {
                let mut name = c.name.clone();
                for (from, to) in &renames {
                    if if cs { name == *from } else { name.eq_ignore_ascii_case(from) } {
                        name = to.clone();
                    }
                }
                NamedExpr::new(Expr::Column(c), name)
            })
            .collect();
        self.project_named(input, exprs)
    }

    pub(super) async fn drop(&mut self, d: &sc::Drop) -> Result<LogicalPlan> {
        let input = self.input(&d.input).await?;
        let schema = input.schema().clone();
        let mut dropped: HashSet<Column> = HashSet::new();
        let cs = self.session.case_sensitive();
        for name in &d.column_names {
            for c in schema.columns() {
                if if cs { c.name == *name } else { c.name.eq_ignore_ascii_case(name) } {
                    dropped.insert(c);
                }
            }
        }
        for e in &d.columns {
            // Dropping a column that does not exist is a no-op in Spark.
            if let Ok(n) = self.expr(e, &schema) {
                if let Expr::Column(c) = strip_alias(n.expr) {
                    dropped.insert(c);
                }
            }
        }
        let keep: Vec<NamedExpr> = schema
            .columns()
            .into_iter()
            .filter(|c| !dropped.contains(c))
            .map(|c| {
                let n = c.name.clone();
                NamedExpr::new(Expr::Column(c), n)
            })
            .collect();
        if keep.len() == schema.fields().len() {
            return Ok(input);
        }
        LogicalPlanBuilder::from(input)
            .project(keep.into_iter().map(NamedExpr::into_projection))?
            .build()
            .map_err(Into::into)
    }

    pub(super) async fn with_columns(&mut self, w: &sc::WithColumns) -> Result<LogicalPlan> {
        let input = self.input(&w.input).await?;
        let schema = input.schema().clone();
        let mut out: Vec<NamedExpr> = schema
            .columns()
            .into_iter()
            .map(|c| {
                let n = c.name.clone();
                NamedExpr::new(Expr::Column(c), n)
            })
            .collect();
        let cs = self.session.case_sensitive();
        for a in &w.aliases {
            let name = a.name.first().cloned().ok_or_else(|| analysis("withColumn without a name"))?;
            let value = self.required(&a.expr, &schema)?;
            let value = match strip_alias(value.expr) {
                // A generator's single column takes the name given here.
                e @ Expr::Unnest(_) => e.alias(name.clone()),
                e => e,
            };
            let new = NamedExpr::new(value, name.clone());
            match out.iter_mut().find(|n| if cs { n.name == name } else { n.name.eq_ignore_ascii_case(&name) }) {
                Some(slot) => *slot = new,
                None => out.push(new),
            }
        }
        self.project_named(input, out)
    }

    pub(super) async fn to_schema(&mut self, t: &sc::ToSchema) -> Result<LogicalPlan> {
        let input = self.input(&t.input).await?;
        let target = match &t.schema {
            Some(s) => crate::types::to_arrow(s, &self.session.time_zone())?,
            None => return Err(analysis("to(schema) without a schema")),
        };
        let DataType::Struct(fields) = target else {
            return Err(analysis("to(schema) needs a struct type"));
        };
        let schema = input.schema().clone();
        let mut exprs = vec![];
        for f in fields.iter() {
            let (e, _) = self.resolve_attribute(&format!("`{}`", f.name().replace('`', "``")), None, &schema)?;
            exprs.push(NamedExpr::new(cast(e, f.data_type().clone()), f.name().clone()));
        }
        self.project_named(input, exprs)
    }

    pub(super) async fn with_relations(&mut self, w: &sc::WithRelations) -> Result<LogicalPlan> {
        // References register their plan ids as they are translated, so the
        // root's attributes that point at them resolve. A SQL root names its
        // DataFrame arguments (`spark.sql("... {t}", t=df)`) as views, which
        // exist while the query is planned.
        let sql_root =
            matches!(w.root.as_deref().and_then(|r| r.rel_type.as_ref()), Some(sc::relation::RelType::Sql(_)));
        let mut views = crate::catalog::ScopedViews::new(self.session);
        for r in &w.references {
            let plan = self.relation(r).await?;
            if let Some(id) = r.common.as_ref().and_then(|c| c.plan_id) {
                self.references.insert(id, plan.clone());
            }
            if let (true, Some(sc::relation::RelType::SubqueryAlias(a))) = (sql_root, &r.rel_type) {
                views.add(&a.alias, plan)?;
            }
        }
        self.input(&w.root).await
    }

    pub(super) async fn show_string(&mut self, s: &sc::ShowString) -> Result<LogicalPlan> {
        let input = self.input(&s.input).await?;
        // The planned fields: batches from executors lose field metadata
        // (an interval's fields).
        let fields = input.schema().fields().clone();
        let n = usize::try_from(s.num_rows).unwrap_or(0);
        let limited = LogicalPlanBuilder::from(input).limit(0, Some(n + 1))?.build()?;
        let batches = self.collect(limited).await?;
        let text =
            crate::display::show_string(&batches, &fields, n, usize::try_from(s.truncate).unwrap_or(0), s.vertical)?;
        self.string_plan("show_string", text)
    }

    pub(super) async fn html_string(&mut self, h: &sc::HtmlString) -> Result<LogicalPlan> {
        let input = self.input(&h.input).await?;
        let names: Vec<String> = input.schema().fields().iter().map(|f| f.name().clone()).collect();
        let n = usize::try_from(h.num_rows).unwrap_or(0);
        let limited = LogicalPlanBuilder::from(input).limit(0, Some(n + 1))?.build()?;
        let batches = self.collect(limited).await?;
        let mut html = String::from("<table border='1'>\n<tr>");
        for name in &names {
            html.push_str(&format!("<th>{}</th>", escape_html(name)));
        }
        html.push_str("</tr>\n");
        let mut shown = 0;
        'outer: for b in &batches {
            for r in 0..b.num_rows() {
                if shown == n {
                    break 'outer;
                }
                html.push_str("<tr>");
                for c in b.columns() {
                    html.push_str(&format!("<td>{}</td>", escape_html(&crate::display::cell(c, r))));
                }
                html.push_str("</tr>\n");
                shown += 1;
            }
        }
        html.push_str("</table>\n");
        self.string_plan("html_string", html)
    }

    /// A one-row, one-column string relation (what show/explain return).
    pub(crate) fn string_plan(&mut self, column: &str, text: String) -> Result<LogicalPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![text]))])?;
        self.batches_plan(schema, vec![batch])
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Replaces each occurrence of one of `targets` in `e` by a column named
/// like it (after an Aggregate or Window node computed them).
pub(crate) fn columnize(e: Expr, targets: &[Expr]) -> Result<Expr> {
    Ok(e.transform_down(|sub| {
        if targets.contains(&sub) {
            let name = sub.schema_name().to_string();
            Ok(Transformed::yes(Expr::Column(Column::from_name(name))))
        } else {
            Ok(Transformed::no(sub))
        }
    })?
    .data)
}

/// Spark allows two output columns with one name; DataFusion needs each
/// (qualifier, name) pair once, so repeats get a hidden qualifier.
fn dedup_names(items: Vec<Expr>) -> Vec<Expr> {
    let names: Vec<(Option<TableReference>, String)> = items.iter().map(|e| e.qualified_name()).collect();
    let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (_, n) in &names {
        *count.entry(n.as_str()).or_insert(0) += 1;
    }
    // DataFusion takes `q1.a` and `q2.a` as two names, but not `a` and
    // `q.a`: each unqualified or repeated column of a shared name gets a
    // qualifier of its own.
    let mut seen: HashSet<(Option<TableReference>, String)> = HashSet::new();
    items
        .into_iter()
        .zip(names.iter())
        .enumerate()
        .map(|(i, (e, (q, n)))| {
            let shared = count[n.as_str()] > 1;
            if !shared || (q.is_some() && seen.insert((q.clone(), n.clone()))) {
                return e;
            }
            Expr::Alias(Alias::new(strip_alias(e), Some(TableReference::bare(format!("__dup{i}"))), n.clone()))
        })
        .collect()
}
