//! SQL expression strings (`selectExpr("a + 1 AS b")`, `expr(...)`,
//! `filter("x > 1")`), parsed by DataFusion after identifiers are matched
//! to the input's columns case-insensitively, as Spark does.

use std::ops::ControlFlow;

use datafusion::common::DFSchema;
use datafusion::logical_expr::Expr;
use datafusion::sql::sqlparser::ast::{self as ast, VisitMut, VisitorMut};

use super::NamedExpr;
use crate::error::Result;
use crate::plan::Planner;

impl Planner<'_> {
    pub(crate) fn sql_expression(&mut self, sql: &str, schema: &DFSchema) -> Result<NamedExpr> {
        let state = self.session.ctx().state();
        // `stack(2, 'a', a, 'b', b) AS (key, value)`: a generator's columns
        // named, which the expression parser does not take.
        static NAMES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"(?is)^(.*\S)\s+AS\s*\(([^()]+)\)\s*$").expect("a valid pattern")
        });
        let (sql, aliases) = match NAMES.captures(sql) {
            Some(c) => {
                let aliases = c[2].split(',').map(|a| a.trim().trim_matches('`').to_string()).collect::<Vec<_>>();
                (c[1].to_string(), Some(aliases))
            }
            None => (sql.to_string(), None),
        };
        let sql = crate::literal_suffix::rewrite(&sql);
        let mut parsed = crate::dialect::parse_expr(&sql, state.config().options().sql_parser.recursion_limit.get())?;
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let qualifiers: Vec<String> = schema.iter().filter_map(|(q, _)| q.map(|q| q.table().to_string())).collect();
        fix_identifier_case(&mut parsed.expr, &names, &qualifiers);
        crate::dialect::spark_generators(&mut parsed.expr);
        let name = match (&parsed.alias, &parsed.expr) {
            (Some(a), _) => a.value.clone(),
            (None, ast::Expr::Identifier(i)) => i.value.clone(),
            (None, ast::Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.clone()).unwrap_or_default(),
            (None, e) => crate::sql_names::item_name(e).unwrap_or_else(|| e.to_string()),
        };
        crate::dialect::spark_operators(&mut parsed.expr);
        let expr = state.create_logical_expr_from_sql_expr(parsed, schema)?;
        let tz = self.session.time_zone();
        let expr = crate::sql_types::spark_expr_types(super::strip_alias(expr), schema, self.sql_types(&tz))?;
        if let Some(aliases) = aliases {
            let generator = match &expr {
                Expr::Unnest(u) => crate::plan::generate::Generator::decode(u),
                Expr::ScalarFunction(f) => crate::plan::generate::generator_call(&expr).map(|g| (f.args[0].clone(), g)),
                _ => None,
            };
            if let Some((input, mut g)) = generator {
                g.aliases = aliases.clone();
                return Ok(NamedExpr::new(g.expr(input), aliases.join(", ")));
            }
            return Err(ember_common::SparkError::with_class(
                ember_common::ExceptionClass::Analysis,
                "MULTI_ALIAS_WITHOUT_GENERATOR",
                "42K0E",
                format!(
                    "Multi part aliasing ({}) is not supported with \"{name}\" as it is not a generator function.",
                    aliases.join(", ")
                ),
            )
            .into());
        }
        Ok(NamedExpr::new(expr, name))
    }
}

/// Rewrites identifiers that match a known column (or table) name only
/// case-insensitively to that name's exact spelling.
pub fn fix_identifier_case<V: VisitMut>(node: &mut V, columns: &[String], tables: &[String]) {
    struct Fixer<'a> {
        columns: &'a [String],
        tables: &'a [String],
    }
    fn fix(ident: &mut ast::Ident, names: &[String]) {
        if ident.quote_style.is_some() || names.iter().any(|n| *n == ident.value) {
            return;
        }
        let hits: Vec<&String> = names.iter().filter(|n| n.eq_ignore_ascii_case(&ident.value)).collect();
        if let Some(first) = hits.first() {
            if hits.iter().all(|h| h == first) {
                ident.value = (*first).clone();
            }
        }
    }
    impl VisitorMut for Fixer<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
            match expr {
                ast::Expr::Identifier(i) => fix(i, self.columns),
                ast::Expr::CompoundIdentifier(parts) => {
                    let n = parts.len();
                    if n >= 2 {
                        fix(&mut parts[n - 2], self.tables);
                        fix(&mut parts[n - 1], self.columns);
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Fixer { columns, tables });
}
