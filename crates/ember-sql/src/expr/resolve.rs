//! Resolving Spark attribute names against a DataFusion schema, as Spark's
//! analyzer does: case-insensitive by default, `qualifier.column`,
//! `column.field.field` into structs, and `df["col"]` by plan id.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema};
use datafusion::logical_expr::{Expr, ExprSchemable};
use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
use crate::plan::Planner;

/// Splits `a.b`, `` `a.b`.c `` into parts (backticks quote, doubled backticks escape).
pub fn parse_identifier(ident: &str) -> Result<Vec<String>> {
    let mut parts = vec![];
    let mut cur = String::new();
    let mut chars = ident.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted => {
                if chars.peek() == Some(&'`') {
                    cur.push('`');
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            '`' => {
                quoted = true;
                was_quoted = true;
            }
            '.' if !quoted => {
                parts.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(SparkError::with_class(
            ExceptionClass::Parse,
            "PARSE_SYNTAX_ERROR",
            "42601",
            format!("Syntax error at or near '{ident}': unclosed backtick."),
        )
        .into());
    }
    if !cur.is_empty() || was_quoted || !parts.is_empty() {
        parts.push(cur);
    }
    Ok(parts)
}

fn eq(a: &str, b: &str, case_sensitive: bool) -> bool {
    if case_sensitive { a == b } else { a.eq_ignore_ascii_case(b) }
}

impl Planner<'_> {
    /// Resolves an attribute to an expression and the name Spark gives it:
    /// the name as the query spells it, matched case-insensitively unless
    /// `spark.sql.caseSensitive`.
    pub(crate) fn resolve_attribute(
        &self,
        ident: &str,
        plan_id: Option<i64>,
        schema: &DFSchema,
    ) -> Result<(Expr, String)> {
        let parts = parse_identifier(ident)?;
        let Some(first) = parts.first() else {
            return Err(SparkError::unresolved_column(ident, &[]).into());
        };
        let cs = self.session.case_sensitive();

        // A lambda variable shadows columns.
        if let Some((var, field)) = self.lambda_scope.iter().rev().find(|(v, _)| eq(v, first, cs)) {
            let base =
                Expr::LambdaVariable(datafusion::logical_expr::expr::LambdaVariable::new(var.clone(), field.clone()));
            return self.extract_fields(base, var.clone(), &parts[1..], schema);
        }

        if let Some(id) = plan_id {
            if let Some(cols) = self.plan_id_columns(id) {
                let hits: Vec<&Column> =
                    cols.iter().filter(|c| eq(&c.name, first, cs) && schema.has_column(c)).collect();
                if let Some(c) = hits.iter().find(|c| c.name == *first).or(hits.first()) {
                    return self.extract_fields(Expr::Column((*c).clone()), first.clone(), &parts[1..], schema);
                }
            }
        }

        if parts.len() >= 2 {
            let hits: Vec<Column> = schema
                .iter()
                .filter(|(q, f)| q.is_some_and(|q| eq(q.table(), first, cs)) && eq(f.name(), &parts[1], cs))
                .map(|(q, f)| Column::new(q.cloned(), f.name()))
                .collect();
            if hits.len() == 1 {
                let c = hits[0].clone();
                return self.extract_fields(Expr::Column(c), parts[1].clone(), &parts[2..], schema);
            }
        }

        let mut hits: Vec<Column> = schema
            .iter()
            .filter(|(_, f)| eq(f.name(), first, cs))
            .map(|(q, f)| Column::new(q.cloned(), f.name()))
            .collect();
        if hits.len() > 1 {
            // Prefer the exact-case spelling when that alone is unique.
            let exact: Vec<Column> = hits.iter().filter(|c| c.name == *first).cloned().collect();
            if exact.len() == 1 {
                hits = exact;
            }
        }
        match hits.len() {
            // Spark names the column as the query spells it (`select("NAME")`
            // of a column `name` is `NAME`).
            1 => {
                let c = hits.remove(0);
                self.extract_fields(Expr::Column(c), first.clone(), &parts[1..], schema)
            }
            0 => {
                let candidates: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).take(8).collect();
                Err(SparkError::unresolved_column(ident, &candidates).into())
            }
            _ => Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "AMBIGUOUS_REFERENCE",
                "42704",
                format!(
                    "Reference `{ident}` is ambiguous, could be: [{}].",
                    hits.iter().map(|c| format!("`{}`", c.flat_name())).collect::<Vec<_>>().join(", ")
                ),
            )
            .into()),
        }
    }

    /// `base.f1.f2`: struct field access, case-insensitive.
    fn extract_fields(
        &self,
        mut base: Expr,
        mut name: String,
        rest: &[String],
        schema: &DFSchema,
    ) -> Result<(Expr, String)> {
        let cs = self.session.case_sensitive();
        for part in rest {
            let t = base.get_type(schema)?;
            let DataType::Struct(fields) = &t else {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "INVALID_EXTRACT_BASE_FIELD_TYPE",
                    "42000",
                    format!("Can't extract a value from \"{name}\". Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\".", crate::types::simple_string(&t).to_uppercase()),
                )
                .into());
            };
            let Some(f) =
                fields.iter().find(|f| f.name() == part).or_else(|| fields.iter().find(|f| eq(f.name(), part, cs)))
            else {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "FIELD_NOT_FOUND",
                    "42704",
                    format!(
                        "No such struct field `{part}` in {}.",
                        fields.iter().map(|f| format!("`{}`", f.name())).collect::<Vec<_>>().join(", ")
                    ),
                )
                .into());
            };
            base = datafusion::functions::core::expr_fn::get_field(base, f.name().as_str());
            name = f.name().clone();
        }
        Ok((base, name))
    }

    /// `*`, `t.*` or `df["*"]`: every column it stands for, in order.
    pub(crate) fn expand_star(
        &self,
        target: Option<&str>,
        plan_id: Option<i64>,
        schema: &DFSchema,
    ) -> Result<Vec<(Expr, String)>> {
        let cols: Vec<Column> = schema.columns();
        let chosen: Vec<Column> = if let Some(id) = plan_id.filter(|_| target.is_none()) {
            match self.plan_id_columns(id) {
                Some(pc) => cols.into_iter().filter(|c| pc.contains(c)).collect(),
                None => cols,
            }
        } else if let Some(t) = target {
            let t = t.strip_suffix(".*").unwrap_or(t);
            let parts = parse_identifier(t)?;
            let q = parts.last().cloned().unwrap_or_default();
            let matched: Vec<Column> = cols
                .iter()
                .filter(|c| c.relation.as_ref().is_some_and(|r| r.table().eq_ignore_ascii_case(&q)))
                .cloned()
                .collect();
            if matched.is_empty() {
                // `s.*` on a struct column expands its fields.
                let (e, _) = self.resolve_attribute(t, plan_id, schema)?;
                if let DataType::Struct(fields) = e.get_type(schema)? {
                    return Ok(fields
                        .iter()
                        .map(|f| {
                            (
                                datafusion::functions::core::expr_fn::get_field(e.clone(), f.name().as_str()),
                                f.name().clone(),
                            )
                        })
                        .collect());
                }
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "CANNOT_RESOLVE_STAR_EXPAND",
                    "42704",
                    format!(
                        "Cannot resolve `{t}`.* given input columns {}.",
                        schema.fields().iter().map(|f| format!("`{}`", f.name())).collect::<Vec<_>>().join(", ")
                    ),
                )
                .into());
            }
            matched
        } else {
            cols
        };
        Ok(chosen
            .into_iter()
            .map(|c| {
                let n = c.name.clone();
                (Expr::Column(c), n)
            })
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_on_unquoted_dots() {
        assert_eq!(parse_identifier("a.b").unwrap(), ["a", "b"]);
        assert_eq!(parse_identifier("`a.b`.c").unwrap(), ["a.b", "c"]);
        assert_eq!(parse_identifier("`a``b`").unwrap(), ["a`b"]);
        assert_eq!(parse_identifier("Name").unwrap(), ["Name"]);
        assert!(parse_identifier("`open").is_err());
    }
}
