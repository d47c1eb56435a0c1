//! Spark SQL's `PIVOT` and `UNPIVOT` clauses, which DataFusion's planner
//! lacks, as the queries they stand for. Both need the columns of the
//! relation they turn, which is planned first:
//!
//! - `t PIVOT (agg(e) [AS a] FOR c IN (v [AS n], …))` groups by the
//!   columns of `t` that are neither `c` nor read by the aggregates, and
//!   computes `agg(CASE WHEN c = v THEN e END)` per value, named `n` (or
//!   the value), `n_a` when there are several aggregates.
//! - `t UNPIVOT [INCLUDE | EXCLUDE NULLS] (v FOR k IN (c [AS n], …))`
//!   keeps the other columns and stacks each listed column as a row
//!   (`k` its name, `v` its value), leaving out NULL values unless
//!   INCLUDE NULLS.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, TableFactor, VisitMut, VisitorMut};
use ember_common::SparkError;

use crate::error::Result;
use crate::plan::Planner;

/// Rewrites every PIVOT and UNPIVOT of the statement.
pub async fn rewrite(planner: &mut Planner<'_>, stmt: &mut ast::Statement) -> Result<()> {
    // The relations they turn, in visiting order.
    struct Sources(Vec<String>);
    impl VisitorMut for Sources {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Pivot { table, .. } | TableFactor::Unpivot { table, .. } = t {
                self.0.push(table.to_string());
            }
            ControlFlow::Continue(())
        }
    }
    let mut sources = Sources(vec![]);
    let _ = stmt.visit(&mut sources);
    if sources.0.is_empty() {
        return Ok(());
    }
    let mut columns = vec![];
    for source in &sources.0 {
        let query = spark_connect_proto::Sql { query: format!("SELECT * FROM {source}"), ..Default::default() };
        let plan = Box::pin(crate::sql::query_plan(planner, &query)).await?;
        columns.push(plan.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>());
    }
    struct Replace {
        columns: std::vec::IntoIter<Vec<String>>,
        error: Option<SparkError>,
    }
    impl VisitorMut for Replace {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            if !matches!(t, TableFactor::Pivot { .. } | TableFactor::Unpivot { .. }) {
                return ControlFlow::Continue(());
            }
            let columns = self.columns.next().unwrap_or_default();
            match replacement(t, &columns) {
                Ok(new) => *t = new,
                Err(e) => {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut replace = Replace { columns: columns.into_iter(), error: None };
    let _ = stmt.visit(&mut replace);
    match replace.error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The names of the columns an expression reads (lower case).
fn read_columns(e: &Expr) -> Vec<String> {
    let mut names = vec![];
    let _ = ast::visit_expressions(e, |x| {
        match x {
            Expr::Identifier(i) => names.push(i.value.to_lowercase()),
            Expr::CompoundIdentifier(parts) => names.extend(parts.last().map(|i| i.value.to_lowercase())),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    names
}

/// A pivot value's name: its alias, else a string's text or the literal.
fn value_name(v: &ast::ExprWithAlias) -> String {
    match (&v.alias, &v.expr) {
        (Some(a), _) => a.value.clone(),
        (None, Expr::Value(value)) => match &value.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        (None, e) => e.to_string(),
    }
}

fn unsupported(what: &str) -> SparkError {
    SparkError::unsupported(what.to_string())
}

fn replacement(t: &TableFactor, columns: &[String]) -> std::result::Result<TableFactor, SparkError> {
    let sql = match t {
        TableFactor::Pivot { table, aggregate_functions, value_column, value_source, default_on_null, alias } => {
            if default_on_null.is_some() {
                return Err(unsupported("PIVOT with DEFAULT ON NULL"));
            }
            let [pivot_column] = value_column.as_slice() else {
                return Err(unsupported("PIVOT over several columns"));
            };
            let ast::PivotValueSource::List(values) = value_source else {
                return Err(unsupported("PIVOT without a list of values"));
            };
            let mut used = read_columns(pivot_column);
            for a in aggregate_functions {
                used.extend(read_columns(&a.expr));
            }
            let groups: Vec<String> =
                columns.iter().filter(|c| !used.contains(&c.to_lowercase())).map(|c| quoted(c)).collect();
            let mut items = groups.clone();
            for v in values {
                for a in aggregate_functions {
                    let Expr::Function(f) = &a.expr else {
                        return Err(unsupported("PIVOT of an expression that is not an aggregate function"));
                    };
                    let mut f = f.clone();
                    let ast::FunctionArguments::List(list) = &mut f.args else {
                        return Err(unsupported("PIVOT of an aggregate without arguments"));
                    };
                    for arg in list.args.iter_mut() {
                        let ast::FunctionArg::Unnamed(arg) = arg else {
                            return Err(unsupported("PIVOT of an aggregate with named arguments"));
                        };
                        let value = match arg {
                            ast::FunctionArgExpr::Expr(e) => e.to_string(),
                            _ => "1".to_string(),
                        };
                        let case = format!("CASE WHEN {pivot_column} = {} THEN {value} END", v.expr);
                        let parsed =
                            crate::dialect::parse_expr(&case, 64).map_err(|e| SparkError::analysis(e.to_string()))?;
                        *arg = ast::FunctionArgExpr::Expr(parsed.expr);
                    }
                    let name = if aggregate_functions.len() == 1 {
                        value_name(v)
                    } else {
                        let agg = a.alias.as_ref().map(|i| i.value.clone()).unwrap_or_else(|| a.expr.to_string());
                        format!("{}_{agg}", value_name(v))
                    };
                    // NULL where no row has the value, whatever the aggregate.
                    let present = format!("count(CASE WHEN {pivot_column} = {} THEN 1 END) > 0", v.expr);
                    items.push(format!("CASE WHEN {present} THEN {f} END AS {}", quoted(&name)));
                }
            }
            let group_by = if groups.is_empty() { String::new() } else { format!(" GROUP BY {}", groups.join(", ")) };
            let alias = alias.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "__ember_pivot".into());
            format!("(SELECT {} FROM {table}{group_by}) AS {alias}", items.join(", "))
        }
        TableFactor::Unpivot { table, value, name, columns: listed, null_inclusion, alias } => {
            let used: Vec<String> = listed.iter().flat_map(|c| read_columns(&c.expr)).collect();
            let others: Vec<String> =
                columns.iter().filter(|c| !used.contains(&c.to_lowercase())).map(|c| quoted(c)).collect();
            let mut stacked = vec![listed.len().to_string()];
            for c in listed {
                let label = c.alias.as_ref().map(|a| a.value.clone()).unwrap_or_else(|| c.expr.to_string());
                stacked.push(format!("'{}'", label.replace('\'', "\\'")));
                stacked.push(c.expr.to_string());
            }
            let mut items = others;
            items.push(format!("stack({}) AS ({name}, {value})", stacked.join(", ")));
            let keep_nulls = matches!(null_inclusion, Some(ast::NullInclusion::IncludeNulls));
            let filter = if keep_nulls { String::new() } else { format!(" WHERE {value} IS NOT NULL") };
            let alias = alias.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "__ember_unpivot".into());
            format!("(SELECT * FROM (SELECT {} FROM {table}){filter}) AS {alias}", items.join(", "))
        }
        other => return Ok(other.clone()),
    };
    let parsed = crate::dialect::parse_statement(&format!("SELECT * FROM {sql}"), 64)
        .map_err(|e| SparkError::analysis(e.to_string()))?;
    if let datafusion::sql::parser::Statement::Statement(stmt) = parsed
        && let ast::Statement::Query(q) = *stmt
        && let ast::SetExpr::Select(select) = *q.body
        && let Some(from) = select.from.into_iter().next()
    {
        return Ok(from.relation);
    }
    Err(SparkError::analysis("PIVOT rewrite"))
}
