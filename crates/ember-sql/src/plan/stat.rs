//! `df.na.fill/drop/replace`, `describe`, `summary` and `unpivot`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, cast, lit};
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
                    p if p.ends_with('%') && numeric => {
                        let frac: f64 =
                            p.trim_end_matches('%').parse::<f64>().map_err(|_| {
                                SparkError::illegal_argument(format!("{p} is not a recognised statistic"))
                            })? / 100.0;
                        cast(
                            self.aggregate_call(
                                "approx_percentile_cont",
                                vec![cast(e.clone(), DataType::Float64), lit(frac)],
                                false,
                            )?,
                            t.clone(),
                        )
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
        let plan =
            if named.is_empty() { LogicalPlanBuilder::empty(true).build()? } else { self.project_named(input, named)? };
        let batches = self.collect(plan).await?;
        let row = batches.iter().find(|b| b.num_rows() > 0);
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(stats.to_vec()))];
        let mut fields = vec![Field::new("summary", DataType::Utf8, true)];
        for (i, (c, _)) in cols.iter().enumerate() {
            let mut vals: Vec<Option<String>> = vec![];
            for j in 0..stats.len() {
                let v = row.map(|b| b.column(i * stats.len() + j).clone());
                vals.push(v.and_then(|a| {
                    let s = crate::display::cell(&a, 0);
                    (s != "NULL").then_some(s)
                }));
            }
            fields.push(Field::new(c.name.clone(), DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(vals)));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        self.batches_plan(schema, vec![batch])
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
