//! `df.na.fill/drop/replace`, `describe`, `summary`, `unpivot`, and
//! `df.stat`'s `corr`, `cov`, `approxQuantile` and `crosstab`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Array, ListBuilder, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{Expr, ExprFunctionExt, ExprSchemable, LogicalPlan, LogicalPlanBuilder, cast, col, lit};
use ember_common::SparkError;
use spark_connect_proto as sc;

use super::Planner;
use crate::error::{Result, analysis};
use crate::expr::NamedExpr;

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

impl Planner<'_> {
    /// The columns an na function applies to (all when `names` is empty).
    fn na_columns(&self, schema: &DFSchema, names: &[String]) -> Result<Vec<Column>> {
        if names.is_empty() {
            return Ok(schema.columns());
        }
        let mut out = vec![];
        for n in names {
            let (e, _) = self.resolve_attribute(&format!("`{}`", n.replace('`', "``")), None, schema)?;
            if let Expr::Column(c) = e {
                out.push(c);
            }
        }
        Ok(out)
    }

    pub(super) async fn fill_na(&mut self, f: &sc::NaFill) -> Result<LogicalPlan> {
        let input = self.input(&f.input).await?;
        let schema = input.schema().clone();
        let tz = self.session.time_zone();
        let values: Vec<ScalarValue> = f
            .values
            .iter()
            .map(|v| crate::literal::literal(v, &tz).map(|x| x.0))
            .collect::<datafusion::common::Result<_>>()?;
        let targets = self.na_columns(&schema, &f.cols)?;
        if values.len() != 1 && values.len() != targets.len() {
            return Err(analysis("na.fill needs one value, or one per column"));
        }
        let mut out = vec![];
        for (qualifier, field) in schema.iter() {
            let c = Column::new(qualifier.cloned(), field.name());
            let pos = targets.iter().position(|t| *t == c);
            let e = match pos {
                Some(i) => {
                    let v = if values.len() == 1 { &values[0] } else { &values[i] };
                    let t = field.data_type();
                    let compatible = match v {
                        ScalarValue::Utf8(_) => matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
                        ScalarValue::Boolean(_) => *t == DataType::Boolean,
                        _ => is_numeric(t),
                    };
                    if compatible {
                        datafusion::functions::core::expr_fn::coalesce(vec![
                            Expr::Column(c.clone()),
                            cast(Expr::Literal(v.clone(), None), t.clone()),
                        ])
                    } else {
                        Expr::Column(c.clone())
                    }
                }
                None => Expr::Column(c.clone()),
            };
            out.push(NamedExpr::new(e, field.name().clone()));
        }
        self.project_named(input, out)
    }

    pub(super) async fn drop_na(&mut self, d: &sc::NaDrop) -> Result<LogicalPlan> {
        let input = self.input(&d.input).await?;
        let schema = input.schema().clone();
        let cols = self.na_columns(&schema, &d.cols)?;
        // A value counts when it is neither null nor NaN.
        let present: Vec<Expr> = cols
            .iter()
            .map(|c| {
                let e = Expr::Column(c.clone());
                let t = e.get_type(&schema)?;
                let mut cond = e.clone().is_not_null();
                if matches!(t, DataType::Float32 | DataType::Float64) {
                    cond = cond.and(Expr::Not(Box::new(self.session.ctx().udf("isnan")?.call(vec![e]))));
                }
                Ok(cond)
            })
            .collect::<Result<_>>()?;
        let min = d.min_non_nulls.map(i64::from).unwrap_or(present.len() as i64);
        let count = present
            .into_iter()
            .map(|p| Expr::Case(Case::new(None, vec![(Box::new(p), Box::new(lit(1i64)))], Some(Box::new(lit(0i64))))))
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| lit(0i64));
        Ok(LogicalPlanBuilder::from(input).filter(count.gt_eq(lit(min)))?.build()?)
    }

    pub(super) async fn replace_na(&mut self, r: &sc::NaReplace) -> Result<LogicalPlan> {
        let input = self.input(&r.input).await?;
        let schema = input.schema().clone();
        let tz = self.session.time_zone();
        let targets = self.na_columns(&schema, &r.cols)?;
        let mut pairs = vec![];
        for rep in &r.replacements {
            let old = rep.old_value.as_ref().map(|v| crate::literal::literal(v, &tz)).transpose()?.map(|x| x.0);
            let new = rep.new_value.as_ref().map(|v| crate::literal::literal(v, &tz)).transpose()?.map(|x| x.0);
            pairs.push((old.unwrap_or(ScalarValue::Null), new.unwrap_or(ScalarValue::Null)));
        }
        let mut out = vec![];
        for (qualifier, field) in schema.iter() {
            let c = Column::new(qualifier.cloned(), field.name());
            let t = field.data_type();
            let col = Expr::Column(c.clone());
            let applicable: Vec<&(ScalarValue, ScalarValue)> = pairs
                .iter()
                .filter(|(old, _)| match old {
                    ScalarValue::Utf8(_) => matches!(t, DataType::Utf8 | DataType::LargeUtf8),
                    ScalarValue::Boolean(_) => *t == DataType::Boolean,
                    ScalarValue::Null => true,
                    _ => is_numeric(t),
                })
                .collect();
            let e = if targets.contains(&c) && !applicable.is_empty() {
                let whens = applicable
                    .into_iter()
                    .map(|(old, new)| {
                        let cond = if old.is_null() {
                            col.clone().is_null()
                        } else {
                            col.clone().eq(cast(Expr::Literal(old.clone(), None), t.clone()))
                        };
                        (Box::new(cond), Box::new(cast(Expr::Literal(new.clone(), None), t.clone())))
                    })
                    .collect();
                Expr::Case(Case::new(None, whens, Some(Box::new(col))))
            } else {
                col
            };
            out.push(NamedExpr::new(e, field.name().clone()));
        }
        self.project_named(input, out)
    }

    pub(super) async fn describe(&mut self, d: &sc::StatDescribe) -> Result<LogicalPlan> {
        let input = self.input(&d.input).await?;
        self.statistics(input, &d.cols, &["count", "mean", "stddev", "min", "max"]).await
    }

    pub(super) async fn summary(&mut self, s: &sc::StatSummary) -> Result<LogicalPlan> {
        let input = self.input(&s.input).await?;
        let stats: Vec<&str> = if s.statistics.is_empty() {
            vec!["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"]
        } else {
            s.statistics.iter().map(String::as_str).collect()
        };
        self.statistics(input, &[], &stats).await
    }

    /// describe/summary: one string row per statistic, one column per input
    /// column (numeric and string columns when none are named).
    async fn statistics(&mut self, input: LogicalPlan, names: &[String], stats: &[&str]) -> Result<LogicalPlan> {
        let schema = input.schema().clone();
        let cols: Vec<(Column, DataType)> = if names.is_empty() {
            schema
                .iter()
                .filter(|(_, f)| {
                    is_numeric(f.data_type()) || matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8)
                })
                .map(|(q, f)| (Column::new(q.cloned(), f.name()), f.data_type().clone()))
                .collect()
        } else {
            let mut v = vec![];
            for c in self.na_columns(&schema, names)? {
                let t = schema.qualified_field_from_column(&c)?.1.data_type().clone();
                v.push((c, t));
            }
            v
        };
        let percentile = |p: &str| -> Result<f64> {
            p.trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|f| (0.0..=100.0).contains(f))
                .map(|f| f / 100.0)
                .ok_or_else(|| SparkError::illegal_argument(format!("{p} is not a recognised statistic")).into())
        };
        let mut aggs = vec![];
        for (c, t) in &cols {
            let e = Expr::Column(c.clone());
            let numeric = is_numeric(t);
            for st in stats {
                let stat = match *st {
                    "count" => self.aggregate_call("count", vec![e.clone()], false)?,
                    "mean" if numeric => self.aggregate_call("avg", vec![cast(e.clone(), DataType::Float64)], false)?,
                    "stddev" if numeric => {
                        self.aggregate_call("stddev", vec![cast(e.clone(), DataType::Float64)], false)?
                    }
                    "min" => self.aggregate_call("min", vec![e.clone()], false)?,
                    "max" => self.aggregate_call("max", vec![e.clone()], false)?,
                    "count_distinct" => self.aggregate_call("count", vec![e.clone()], true)?,
                    // Filled in below from exact quantiles, as Spark's are.
                    p if p.ends_with('%') && numeric => {
                        percentile(p)?;
                        lit(ScalarValue::Utf8(None))
                    }
                    "mean" | "stddev" => lit(ScalarValue::Utf8(None)),
                    p if p.ends_with('%') => lit(ScalarValue::Utf8(None)),
                    other => {
                        return Err(
                            SparkError::illegal_argument(format!("{other} is not a recognised statistic")).into()
                        );
                    }
                };
                aggs.push(stat);
            }
        }
        let named: Vec<NamedExpr> =
            aggs.into_iter().enumerate().map(|(i, e)| NamedExpr::new(e, format!("s{i}"))).collect();
        let plan = if named.is_empty() {
            LogicalPlanBuilder::empty(true).build()?
        } else {
            self.project_named(input.clone(), named)?
        };
        let batches = self.collect(plan).await?;
        let row = batches.iter().find(|b| b.num_rows() > 0);
        let wanted: Vec<(usize, f64)> = stats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.ends_with('%'))
            .map(|(j, s)| Ok((j, percentile(s)?)))
            .collect::<Result<_>>()?;
        // (column, statistic) → the quantile, shown in the column's type.
        let mut quantiles = std::collections::HashMap::new();
        if !wanted.is_empty() {
            let probabilities: Vec<f64> = wanted.iter().map(|w| w.1).collect();
            for (i, (c, t)) in cols.iter().enumerate() {
                if !is_numeric(t) {
                    continue;
                }
                let x = cast(Expr::Column(c.clone()), DataType::Float64);
                let values = self.exact_quantiles(input.clone(), x, &probabilities).await?;
                for ((j, _), v) in wanted.iter().zip(values) {
                    let shown = ScalarValue::Float64(Some(v)).cast_to(t)?.to_array()?;
                    quantiles.insert((i, *j), crate::display::cell(&shown, 0));
                }
            }
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(stats.to_vec()))];
        let mut fields = vec![Field::new("summary", DataType::Utf8, true)];
        for (i, (c, _)) in cols.iter().enumerate() {
            let mut vals: Vec<Option<String>> = vec![];
            for j in 0..stats.len() {
                if let Some(q) = quantiles.get(&(i, j)) {
                    vals.push(Some(q.clone()));
                    continue;
                }
                let v = row.map(|b| b.column(i * stats.len() + j).clone());
                vals.push(v.and_then(|a| {
                    let s = crate::display::cell(&a, 0);
                    (s != "NULL").then_some(s)
                }));
            }
            fields.push(Field::new(c.name.clone(), DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(vals)));
        }
        self.rows(fields, columns)
    }

    /// `unpivot(ids, values, var, val)`: one output row per input row and
    /// value column, in input order.
    pub(super) async fn unpivot(&mut self, u: &sc::Unpivot) -> Result<LogicalPlan> {
        let input = self.input(&u.input).await?;
        let schema = input.schema().clone();
        let ids = self.projection(&u.ids, &schema)?;
        let values: Vec<NamedExpr> = match &u.values {
            Some(v) if !v.values.is_empty() => self.projection(&v.values, &schema)?,
            _ => schema
                .columns()
                .into_iter()
                .filter(|c| !ids.iter().any(|i| matches!(&i.expr, Expr::Column(ic) if ic == c)))
                .map(|c| {
                    let n = c.name.clone();
                    NamedExpr::new(Expr::Column(c), n)
                })
                .collect(),
        };
        if values.is_empty() {
            return Err(SparkError::with_class(
                ember_common::ExceptionClass::Analysis,
                "UNPIVOT_REQUIRES_VALUE_COLUMNS",
                "42K0A",
                "At least one value column needs to be specified for UNPIVOT, all columns specified as ids.",
            )
            .into());
        }
        // The value type: the widest of the value columns.
        let types: Vec<DataType> =
            values.iter().map(|v| v.expr.get_type(&schema)).collect::<std::result::Result<_, _>>()?;
        let value_type = types
            .iter()
            .skip(1)
            .try_fold(types[0].clone(), |acc, t| {
                datafusion::logical_expr::type_coercion::binary::comparison_coercion(&acc, t).ok_or(())
            })
            .map_err(|_| {
                analysis("[UNPIVOT_VALUE_DATA_TYPE_MISMATCH] Unpivot value columns must share a least common type")
            })?;
        let structs: Vec<Expr> = values
            .iter()
            .map(|v| {
                datafusion::functions::core::expr_fn::named_struct(vec![
                    lit("k"),
                    lit(v.name.clone()),
                    lit("v"),
                    cast(v.expr.clone(), value_type.clone()),
                ])
            })
            .collect();
        let hidden = self.fresh_alias();
        let mut pre: Vec<NamedExpr> = ids.clone();
        pre.push(NamedExpr::new(
            Expr::Unnest(datafusion::logical_expr::expr::Unnest::new(
                datafusion::functions_nested::expr_fn::make_array(structs),
            )),
            hidden.clone(),
        ));
        let exploded = self.project_named(input, pre)?;
        let mut out: Vec<NamedExpr> = ids
            .iter()
            .map(|i| NamedExpr::new(Expr::Column(Column::from_name(i.name.clone())), i.name.clone()))
            .collect();
        let s = Expr::Column(Column::from_name(hidden));
        out.push(NamedExpr::new(
            datafusion::functions::core::expr_fn::get_field(s.clone(), "k"),
            u.variable_column_name.clone(),
        ));
        out.push(NamedExpr::new(datafusion::functions::core::expr_fn::get_field(s, "v"), u.value_column_name.clone()));
        self.project_named(exploded, out)
    }
}

/// The most values whose quantiles are computed exactly (by a sort).
const EXACT_QUANTILE_ROWS: usize = 1_000_000;

impl Planner<'_> {
    /// One numeric column of `df.stat`, with Spark's error for the others.
    fn stat_column(&self, schema: &DFSchema, name: &str, what: &str) -> Result<Expr> {
        let c = self.na_columns(schema, &[name.to_string()])?.pop().ok_or_else(|| analysis("no column"))?;
        let t = schema.qualified_field_from_column(&c)?.1.data_type().clone();
        if !is_numeric(&t) {
            let type_name = crate::types::simple_string(&t);
            return Err(SparkError::illegal_argument(match what {
                "quantile" => format!(
                    "requirement failed: Quantile calculation for column {name} with data type {} is not supported.",
                    spark_type_class(&type_name)
                ),
                _ => format!(
                    "requirement failed: Currently {what} calculation for columns with dataType {type_name} not supported."
                ),
            })
            .into());
        }
        Ok(cast(Expr::Column(c), DataType::Float64))
    }

    /// `df.stat.corr` (Pearson) and `df.stat.cov` (sample covariance): one
    /// row, one double column named as the client reads it.
    pub(super) async fn corr_cov(
        &mut self,
        input: &sc::Relation,
        col1: &str,
        col2: &str,
        corr: bool,
    ) -> Result<LogicalPlan> {
        let input = self.input(&Some(Box::new(input.clone()))).await?;
        let what = if corr { "correlation" } else { "covariance" };
        let schema = input.schema().clone();
        // Spark's StatFunctions count a NULL as 0.
        let zero_for_null = |e: Expr| datafusion::functions::core::expr_fn::coalesce(vec![e, lit(0.0f64)]);
        let (a, b) = (self.stat_column(&schema, col1, what)?, self.stat_column(&schema, col2, what)?);
        let (a, b) = (zero_for_null(a), zero_for_null(b));
        // Without enough rows Spark's corr is NaN and its cov 0.
        let (f, name, none) = if corr { ("corr", "corr", f64::NAN) } else { ("covar_samp", "cov", 0.0) };
        let e = self.aggregate_call(f, vec![a, b], false)?;
        let plan = LogicalPlanBuilder::from(input).aggregate(Vec::<Expr>::new(), vec![e.alias("v")])?.build()?;
        let value = datafusion::functions::core::expr_fn::coalesce(vec![col("v"), lit(none)]);
        Ok(LogicalPlanBuilder::from(plan).project(vec![value.alias(name)])?.build()?)
    }

    /// `df.approxQuantile(cols, probabilities, relativeError)`: exact
    /// quantiles (always within the error asked for), one array per column,
    /// NULLs skipped, as the row `approx_quantile` the client reads.
    pub(super) async fn approx_quantile(&mut self, q: &sc::StatApproxQuantile) -> Result<LogicalPlan> {
        let input = self.input(&q.input).await?;
        if let Some(p) = q.probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(SparkError::illegal_argument(format!(
                "requirement failed: percentile should be in the range [0.0, 1.0], but got {p}."
            ))
            .into());
        }
        if q.relative_error < 0.0 {
            return Err(SparkError::illegal_argument(format!(
                "requirement failed: Relative Error must be non-negative but got {}",
                q.relative_error
            ))
            .into());
        }
        let schema = input.schema().clone();
        let mut per_column = vec![];
        for name in &q.cols {
            let x = self.stat_column(&schema, name, "quantile")?;
            per_column.push(self.exact_quantiles(input.clone(), x, &q.probabilities).await?);
        }
        let mut outer = ListBuilder::new(ListBuilder::new(Float64Builder::new()));
        for values in per_column {
            for v in values {
                outer.values().values().append_value(v);
            }
            outer.values().append(true);
        }
        outer.append(true);
        let array = outer.finish();
        self.rows(vec![Field::new("approx_quantile", array.data_type().clone(), true)], vec![Arc::new(array)])
    }

    /// The quantiles of `x` (a double) over `input`: for each probability
    /// `p` the value at rank `ceil(p * n)` of the non-NULL values, which is
    /// what Spark's quantile summaries give within their error (up to
    /// `EXACT_QUANTILE_ROWS` values). Empty when there are no values.
    async fn exact_quantiles(&mut self, input: LogicalPlan, x: Expr, probabilities: &[f64]) -> Result<Vec<f64>> {
        let values =
            LogicalPlanBuilder::from(input).project(vec![x.alias("x")])?.filter(col("x").is_not_null())?.build()?;
        let count = LogicalPlanBuilder::from(values.clone())
            .aggregate(Vec::<Expr>::new(), vec![self.aggregate_call("count", vec![lit(1i32)], false)?.alias("n")])?
            .build()?;
        let n = self
            .collect(count)
            .await?
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| b.column(0).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
            .unwrap_or(0);
        let n = usize::try_from(n).unwrap_or(0);
        if n == 0 {
            return Ok(vec![]);
        }
        // Past this many values, sorting them all in one partition costs
        // too much: DataFusion's t-digest answers, within Spark's error
        // bounds in value though not always a value of the column.
        if n > EXACT_QUANTILE_ROWS {
            let mut digests = vec![];
            for (i, p) in probabilities.iter().enumerate() {
                let d = self.aggregate_call("approx_percentile_cont", vec![col("x"), lit(*p)], false)?;
                digests.push(d.alias(format!("q{i}")));
            }
            let plan = LogicalPlanBuilder::from(values).aggregate(Vec::<Expr>::new(), digests)?.build()?;
            let batches = self.collect(plan).await?;
            let Some(row) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(vec![]) };
            return Ok(row.columns().iter().map(|c| c.as_primitive::<Float64Type>().value(0)).collect());
        }
        let ranks: Vec<usize> =
            probabilities.iter().map(|p| crate::functions::percentile::quantile_rank(*p, n)).collect();
        let rank_literals: Vec<Expr> = ranks.iter().map(|r| lit(*r as u64)).collect();
        let row_number = datafusion::functions_window::expr_fn::row_number()
            .order_by(vec![col("x").sort(true, true)])
            .build()?
            .alias("rn");
        let picked = LogicalPlanBuilder::from(values)
            .window(vec![row_number])?
            .filter(col("rn").in_list(rank_literals, false))?
            .project(vec![col("x"), cast(col("rn"), DataType::Int64)])?
            .build()?;
        let mut at = std::collections::HashMap::new();
        for b in self.collect(picked).await? {
            let (x, rn) = (b.column(0).as_primitive::<Float64Type>(), b.column(1).as_primitive::<Int64Type>());
            for i in 0..b.num_rows() {
                at.insert(rn.value(i) as usize, x.value(i));
            }
        }
        Ok(ranks.iter().map(|r| at.get(r).copied().unwrap_or(f64::NAN)).collect())
    }

    /// `df.crosstab(col1, col2)`: a row per value of `col1` (as text, NULL
    /// as "null"), a bigint column of counts per value of `col2`, sorted.
    pub(super) async fn crosstab(&mut self, c: &sc::StatCrosstab) -> Result<LogicalPlan> {
        let input = self.input(&c.input).await?;
        let schema = input.schema().clone();
        let mut keys = vec![];
        for name in [&c.col1, &c.col2] {
            let column = self.na_columns(&schema, &[name.clone()])?.pop().ok_or_else(|| analysis("no column"))?;
            let text = cast(Expr::Column(column), DataType::Utf8);
            keys.push(datafusion::functions::core::expr_fn::coalesce(vec![text, lit("null")]));
        }
        let counts = LogicalPlanBuilder::from(input)
            .aggregate(
                vec![keys[0].clone().alias("a"), keys[1].clone().alias("b")],
                vec![self.aggregate_call("count", vec![lit(1i32)], false)?.alias("n")],
            )?
            .build()?;
        let mut cells: std::collections::BTreeMap<(String, String), i64> = Default::default();
        let mut rows: Vec<String> = vec![];
        let mut columns: std::collections::BTreeSet<String> = Default::default();
        for b in self.collect(counts).await? {
            let n = b.column(2).as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                let (row, column) = (crate::display::cell(b.column(0), i), crate::display::cell(b.column(1), i));
                if !rows.contains(&row) {
                    rows.push(row.clone());
                }
                columns.insert(column.clone());
                cells.insert((row, column), n.value(i));
            }
        }
        let mut fields = vec![Field::new(format!("{}_{}", c.col1, c.col2), DataType::Utf8, true)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(rows.clone()))];
        for column in &columns {
            fields.push(Field::new(column.clone(), DataType::Int64, true));
            let counts: Int64Array =
                rows.iter().map(|r| Some(cells.get(&(r.clone(), column.clone())).copied().unwrap_or(0))).collect();
            arrays.push(Arc::new(counts));
        }
        self.rows(fields, arrays)
    }
}

/// Spark's Scala name of a type in messages (`StringType`).
fn spark_type_class(simple: &str) -> String {
    let base = simple.split(['(', '<']).next().unwrap_or(simple);
    let name = match base {
        "string" => "String",
        "boolean" => "Boolean",
        "date" => "Date",
        "timestamp" => "Timestamp",
        "binary" => "Binary",
        "array" => "Array",
        "map" => "Map",
        "struct" => "Struct",
        other => other,
    };
    format!("{name}Type")
}
