//! Spark's inline tables (`VALUES`) as DataFusion's planner takes them.
//!
//! - Rows without parentheses — `VALUES 1, 2, 3 AS t(x)` is three
//!   one-column rows — which sqlparser reads only as `VALUES (1), (2),
//!   (3)`: each row expression is wrapped in parentheses before parsing.
//!   Text is only inserted, so quoted text keeps its exact spelling.
//! - Columns without names are `col1`, `col2`, … as in Spark.
//! - A column of numeric literals has Spark's type: the wider of its
//!   values' types, where DataFusion would make `VALUES (0.5), (PI())` a
//!   decimal(30,15) and `VALUES (1), (2.5)` a decimal(21,1) (Spark: double
//!   and decimal(11,1)).

use std::ops::ControlFlow;

use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::sqlparser::ast::{self, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::dialect::SparkSql;

/// Words that end an inline table's rows: its alias (`AS`), the clauses and
/// set operators that can follow a table, and joins.
const ENDS_ROWS: &[Keyword] = &[
    Keyword::AS,
    Keyword::FROM,
    Keyword::UNION,
    Keyword::INTERSECT,
    Keyword::EXCEPT,
    Keyword::MINUS,
    Keyword::WHERE,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::ORDER,
    Keyword::SORT,
    Keyword::CLUSTER,
    Keyword::DISTRIBUTE,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::WINDOW,
    Keyword::JOIN,
    Keyword::INNER,
    Keyword::LEFT,
    Keyword::RIGHT,
    Keyword::FULL,
    Keyword::CROSS,
    Keyword::NATURAL,
    Keyword::SEMI,
    Keyword::ANTI,
    Keyword::ON,
    Keyword::USING,
    Keyword::LATERAL,
];

/// Words that join two operands inside one row expression (`1 IS NULL`).
const JOINS_OPERANDS: &[Keyword] = &[
    Keyword::AND,
    Keyword::OR,
    Keyword::NOT,
    Keyword::IS,
    Keyword::IN,
    Keyword::LIKE,
    Keyword::ILIKE,
    Keyword::RLIKE,
    Keyword::REGEXP,
    Keyword::BETWEEN,
    Keyword::DIV,
    Keyword::ESCAPE,
    Keyword::COLLATE,
    Keyword::WHEN,
    Keyword::THEN,
    Keyword::ELSE,
    Keyword::END,
    // Interval units: `INTERVAL '1' DAY`, `INTERVAL '1-2' YEAR TO MONTH`.
    Keyword::YEAR,
    Keyword::YEARS,
    Keyword::MONTH,
    Keyword::MONTHS,
    Keyword::WEEK,
    Keyword::WEEKS,
    Keyword::DAY,
    Keyword::DAYS,
    Keyword::HOUR,
    Keyword::HOURS,
    Keyword::MINUTE,
    Keyword::MINUTES,
    Keyword::SECOND,
    Keyword::SECONDS,
    Keyword::MILLISECOND,
    Keyword::MILLISECONDS,
    Keyword::MICROSECOND,
    Keyword::MICROSECONDS,
    Keyword::TO,
];

/// Words that start a row's expression without a call's parenthesis.
const STARTS_ROW: &[Keyword] = &[
    Keyword::NULL,
    Keyword::TRUE,
    Keyword::FALSE,
    Keyword::DATE,
    Keyword::TIMESTAMP,
    Keyword::INTERVAL,
    Keyword::CASE,
    Keyword::NOT,
];

/// `sql` with the rows of every parenthesis-free `VALUES` list wrapped in
/// parentheses; unchanged when there is none (or it does not tokenize:
/// the parser then reports the error).
pub fn rewrite(sql: &str) -> String {
    if !sql.to_ascii_lowercase().contains("values") {
        return sql.to_string();
    }
    let Ok(tokens) = Tokenizer::new(&SparkSql, sql).tokenize_with_location() else { return sql.to_string() };
    let tokens: Vec<&TokenWithSpan> =
        tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect();
    let mut inserts: Vec<(Location, &str)> = vec![];
    let mut i = 0;
    while i < tokens.len() {
        let is_values = matches!(&tokens[i].token, Token::Word(w) if w.keyword == Keyword::VALUES)
            && (i == 0 || follows_values(&tokens[i - 1].token));
        i += 1;
        if !is_values || i >= tokens.len() || !starts_row(&tokens, i) {
            continue;
        }
        // One row per top-level comma, up to a word or bracket that ends the list.
        let mut row_start = i;
        let mut depth = 0usize;
        while i < tokens.len() {
            let t = &tokens[i].token;
            if depth == 0 && (t == &Token::RParen || t == &Token::SemiColon || ends_rows(&tokens, i, row_start)) {
                break;
            }
            match t {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
                Token::Comma if depth == 0 => {
                    if i > row_start {
                        inserts.push((tokens[row_start].span.start, "("));
                        inserts.push((tokens[i - 1].span.end, ")"));
                    }
                    row_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if i > row_start {
            inserts.push((tokens[row_start].span.start, "("));
            inserts.push((tokens[i - 1].span.end, ")"));
        }
    }
    if inserts.is_empty() {
        return sql.to_string();
    }
    insert_at(sql, &inserts)
}

/// Names the columns of inline tables as Spark does (`col1`, `col2`, …;
/// DataFusion's are `column1`, …) where the query gives no names: `FROM
/// VALUES (1, 2)`, `FROM VALUES (1) AS t` and `WITH t AS (VALUES (1))`
/// get the alias columns.
pub fn name_columns(stmt: &mut ast::Statement) {
    struct Namer {
        next: usize,
    }
    impl VisitorMut for Namer {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut ast::TableFactor) -> ControlFlow<()> {
            let ast::TableFactor::Derived { subquery, alias, .. } = factor else { return ControlFlow::Continue(()) };
            let ast::SetExpr::Values(v) = subquery.body.as_ref() else { return ControlFlow::Continue(()) };
            let Some(width) = v.rows.first().map(|r| r.content.len()) else { return ControlFlow::Continue(()) };
            let alias = alias.get_or_insert_with(|| {
                self.next += 1;
                ast::TableAlias {
                    explicit: true,
                    name: ast::Ident::new(format!("__inline_table{}", self.next)),
                    columns: vec![],
                    at: None,
                }
            });
            name_alias_columns(alias, width);
            ControlFlow::Continue(())
        }
        fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
            if let ast::SetExpr::Values(v) = q.body.as_mut() {
                widen_numeric_columns(v);
            }
            for cte in q.with.iter_mut().flat_map(|w| w.cte_tables.iter_mut()) {
                if let ast::SetExpr::Values(v) = cte.query.body.as_ref()
                    && let Some(row) = v.rows.first()
                {
                    name_alias_columns(&mut cte.alias, row.content.len());
                }
            }
            ControlFlow::Continue(())
        }
    }
    fn name_alias_columns(alias: &mut ast::TableAlias, width: usize) {
        if alias.columns.is_empty() {
            alias.columns = (1..=width).map(|i| ast::TableAliasColumnDef::from_name(format!("col{i}"))).collect();
        }
    }
    let _ = stmt.visit(&mut Namer { next: 0 });
}

/// A numeric literal's Spark type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Numeric {
    /// tinyint, smallint, int, bigint as 1, 2, 3, 4.
    Integral(u8),
    Float,
    Double,
    Decimal(usize, usize),
}

impl Numeric {
    /// The type of a literal value: `Some(None)` for NULL, `None` for what
    /// is not a numeric literal.
    fn of(e: &ast::Expr) -> Option<Option<Numeric>> {
        use ast::{DataType as T, Expr as E, Value as V};
        Some(Some(match e {
            E::Value(v) => match &v.value {
                V::Null => return Some(None),
                V::Number(n, _) => Self::of_number(n)?,
                _ => return None,
            },
            E::UnaryOp { op: ast::UnaryOperator::Minus | ast::UnaryOperator::Plus, expr } => match Self::of(expr)? {
                Some(n) => n,
                None => return None,
            },
            // `crate::literal_suffix`'s typed literals: `'2'::BIGINT`.
            E::Cast { kind: ast::CastKind::DoubleColon, expr, data_type, .. } if matches!(expr.as_ref(), E::Value(v) if matches!(v.value, V::SingleQuotedString(_))) => {
                match data_type {
                    T::TinyInt(_) => Numeric::Integral(1),
                    T::SmallInt(_) => Numeric::Integral(2),
                    T::BigInt(_) => Numeric::Integral(4),
                    T::Float(_) => Numeric::Float,
                    T::Double(_) => Numeric::Double,
                    T::Decimal(ast::ExactNumberInfo::PrecisionAndScale(p, s)) if *s >= 0 => {
                        Numeric::Decimal(*p as usize, *s as usize)
                    }
                    _ => return None,
                }
            }
            E::Function(f) if matches!(&f.args, ast::FunctionArguments::List(l) if l.args.is_empty()) => {
                match f.name.to_string().to_ascii_lowercase().as_str() {
                    "pi" | "e" => Numeric::Double,
                    _ => return None,
                }
            }
            _ => return None,
        }))
    }

    fn of_number(n: &str) -> Option<Numeric> {
        if n.contains(['e', 'E']) {
            return Some(Numeric::Double);
        }
        if !n.contains('.') {
            if n.parse::<i32>().is_ok() {
                return Some(Numeric::Integral(3));
            }
            if n.parse::<i64>().is_ok() {
                return Some(Numeric::Integral(4));
            }
        }
        let (p, s) = crate::literal_suffix::decimal_digits(n);
        (p <= 38).then_some(Numeric::Decimal(p, s))
    }

    /// Spark's wider type of two numeric types.
    fn wider(self, other: Numeric) -> Numeric {
        use Numeric::*;
        let as_decimal = |bytes: u8| match bytes {
            1 => (3, 0),
            2 => (5, 0),
            3 => (10, 0),
            _ => (20, 0),
        };
        match (self, other) {
            (Integral(a), Integral(b)) => Integral(a.max(b)),
            (Double, _) | (_, Double) => Double,
            (Decimal(..), Float) | (Float, Decimal(..)) => Double,
            (Float, _) | (_, Float) => Float,
            (Decimal(p1, s1), Decimal(p2, s2)) => {
                let scale = s1.max(s2);
                let integral = (p1 - s1).max(p2 - s2);
                Decimal((integral + scale).min(38), scale)
            }
            (Decimal(p, s), Integral(b)) | (Integral(b), Decimal(p, s)) => {
                let (ip, is) = as_decimal(b);
                Decimal(p, s).wider(Decimal(ip, is))
            }
        }
    }

    fn sql_type(self) -> ast::DataType {
        match self {
            Numeric::Integral(1) => ast::DataType::TinyInt(None),
            Numeric::Integral(2) => ast::DataType::SmallInt(None),
            Numeric::Integral(3) => ast::DataType::Int(None),
            Numeric::Integral(_) => ast::DataType::BigInt(None),
            Numeric::Float => ast::DataType::Float(ast::ExactNumberInfo::None),
            Numeric::Double => ast::DataType::Double(ast::ExactNumberInfo::None),
            Numeric::Decimal(p, s) => {
                ast::DataType::Decimal(ast::ExactNumberInfo::PrecisionAndScale(p as u64, s as i64))
            }
        }
    }
}

/// Casts the values of each column of numeric literals with a decimal
/// among them to the column's Spark type (DataFusion widens decimals
/// otherwise). Columns holding anything else are left to DataFusion.
fn widen_numeric_columns(values: &mut ast::Values) {
    let width = values.rows.first().map_or(0, |r| r.content.len());
    if values.rows.len() < 2 || values.rows.iter().any(|r| r.content.len() != width) {
        return;
    }
    for col in 0..width {
        let Some(types) =
            values.rows.iter().map(|r| Numeric::of(&r.content[col])).collect::<Option<Vec<Option<Numeric>>>>()
        else {
            continue;
        };
        if !types.iter().flatten().any(|t| matches!(t, Numeric::Decimal(..))) {
            continue;
        }
        let Some(wide) = types.iter().flatten().copied().reduce(Numeric::wider) else { continue };
        for (row, t) in values.rows.iter_mut().zip(&types) {
            if t.is_some_and(|t| t != wide) {
                let value = std::mem::replace(&mut row.content[col], ast::Expr::value(ast::Value::Null));
                row.content[col] = ast::Expr::Cast {
                    kind: ast::CastKind::Cast,
                    expr: Box::new(value),
                    data_type: wide.sql_type(),
                    array: false,
                    format: None,
                };
            }
        }
    }
}

/// A `VALUES` query's own plan (`VALUES 1, 2` as the whole statement, also
/// under ORDER BY, LIMIT or a set operation) with Spark's column names.
pub fn name_values_plan(plan: LogicalPlan) -> datafusion::common::Result<LogicalPlan> {
    fn values_below(plan: &LogicalPlan) -> bool {
        match plan {
            LogicalPlan::Values(_) => true,
            LogicalPlan::Limit(l) => values_below(&l.input),
            LogicalPlan::Sort(s) => values_below(&s.input),
            LogicalPlan::Distinct(d) => values_below(d.input()),
            LogicalPlan::Union(u) => u.inputs.first().is_some_and(|i| values_below(i)),
            _ => false,
        }
    }
    if !values_below(&plan) {
        return Ok(plan);
    }
    let exprs: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let name = format!("col{}", i + 1);
            if c.name == format!("column{}", i + 1) { Expr::Column(c).alias(name) } else { Expr::Column(c) }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(exprs)?.build()
}

/// Whether `VALUES` after `prev` is an inline table (`FROM VALUES`,
/// `(VALUES`, `UNION ALL VALUES`, `INSERT INTO t VALUES`), not a column
/// named `values` (`SELECT values`, `SELECT a, values`).
fn follows_values(prev: &Token) -> bool {
    match prev {
        Token::LParen | Token::RParen => true,
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::FROM
                | Keyword::JOIN
                | Keyword::UNION
                | Keyword::INTERSECT
                | Keyword::EXCEPT
                | Keyword::MINUS
                | Keyword::ALL
                | Keyword::DISTINCT
                | Keyword::NoKeyword
        ),
        _ => false,
    }
}

/// Whether the token at `i` starts a row expression: a literal, a sign, a
/// literal keyword, or a function call (`array(1)`); not a type (`INT`).
fn starts_row(tokens: &[&TokenWithSpan], i: usize) -> bool {
    match &tokens[i].token {
        Token::Number(..)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::HexStringLiteral(_)
        | Token::Minus
        | Token::Plus => true,
        Token::Word(w) => {
            STARTS_ROW.contains(&w.keyword) || tokens.get(i + 1).is_some_and(|t| t.token == Token::LParen)
        }
        _ => false,
    }
}

/// Whether the token at `i` ends an inline table's rows: a clause keyword,
/// or a plain word right after a complete operand (the alias in
/// `VALUES 1, 2 t(x)`).
fn ends_rows(tokens: &[&TokenWithSpan], i: usize, row_start: usize) -> bool {
    let Token::Word(w) = &tokens[i].token else { return false };
    // A row's first word is its expression (`left('ab', 1)`).
    if i == row_start {
        return false;
    }
    if ENDS_ROWS.contains(&w.keyword) {
        return true;
    }
    if JOINS_OPERANDS.contains(&w.keyword) {
        return false;
    }
    match &tokens[i - 1].token {
        Token::Number(..) | Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) | Token::RParen => true,
        Token::RBracket => true,
        Token::Word(prev) => matches!(prev.keyword, Keyword::NULL | Keyword::TRUE | Keyword::FALSE | Keyword::END),
        _ => false,
    }
}

/// `sql` with each text inserted at its (1-based line and column) location.
fn insert_at(sql: &str, inserts: &[(Location, &str)]) -> String {
    let mut at: Vec<(usize, &str)> =
        inserts.iter().filter_map(|(loc, s)| byte_offset(sql, *loc).map(|o| (o, *s))).collect();
    // Stable: a `)` and the next row's `(` at one offset keep their order.
    at.sort_by_key(|(o, _)| *o);
    let mut out = String::with_capacity(sql.len() + at.len());
    let mut last = 0;
    for (offset, text) in at {
        out.push_str(&sql[last..offset]);
        out.push_str(text);
        last = offset;
    }
    out.push_str(&sql[last..]);
    out
}

pub(crate) fn byte_offset(sql: &str, loc: Location) -> Option<usize> {
    let line_start =
        if loc.line <= 1 { 0 } else { sql.match_indices('\n').nth(usize::try_from(loc.line).ok()? - 2)?.0 + 1 };
    let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
    let line = &sql[line_start..];
    match line.char_indices().nth(column) {
        Some((o, _)) => Some(line_start + o),
        None => Some(line_start + line.len()).filter(|_| column == line.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rows_without_parentheses_get_them() {
        assert_eq!(rewrite("SELECT * FROM VALUES 1, 2, 3 AS t(x)"), "SELECT * FROM VALUES (1), (2), (3) AS t(x)");
        assert_eq!(rewrite("VALUES 1, 2"), "VALUES (1), (2)");
        assert_eq!(rewrite("SELECT * FROM VALUES 1 + 1, 'a,b' t(y)"), "SELECT * FROM VALUES (1 + 1), ('a,b') t(y)");
        assert_eq!(
            rewrite("SELECT * FROM VALUES array(1, 2), NULL AS t(a)"),
            "SELECT * FROM VALUES (array(1, 2)), (NULL) AS t(a)"
        );
        assert_eq!(rewrite("SELECT * FROM (VALUES 1,\n 2) AS t(x)"), "SELECT * FROM (VALUES (1),\n (2)) AS t(x)");
        assert_eq!(
            rewrite("SELECT * FROM VALUES INTERVAL '1' DAY AS t(i)"),
            "SELECT * FROM VALUES (INTERVAL '1' DAY) AS t(i)"
        );
        assert_eq!(
            rewrite("SELECT * FROM VALUES left('ab', 1), 'c' AS t(s)"),
            "SELECT * FROM VALUES (left('ab', 1)), ('c') AS t(s)"
        );
        assert_eq!(rewrite("INSERT INTO t VALUES 1, 2"), "INSERT INTO t VALUES (1), (2)");
        assert_eq!(rewrite("VALUES 1 UNION ALL VALUES 2"), "VALUES (1) UNION ALL VALUES (2)");
        assert_eq!(
            rewrite("SELECT * FROM VALUES 1 AS t(x) INTERSECT SELECT * FROM VALUES 2 u(x)"),
            "SELECT * FROM VALUES (1) AS t(x) INTERSECT SELECT * FROM VALUES (2) u(x)"
        );
    }

    #[test]
    fn parenthesized_rows_and_quoted_text_are_unchanged() {
        for sql in [
            "SELECT * FROM VALUES (1, 'a'), (2, 'b')",
            "SELECT 'values 1, 2'",
            "INSERT INTO t VALUES (1)",
            "SELECT '\\\\d' FROM VALUES (1)",
            "SELECT values FROM t",
            "SELECT a, values FROM t",
            "CREATE TABLE t (values INT)",
        ] {
            assert_eq!(rewrite(sql), sql);
        }
        assert_eq!(rewrite("SELECT '\\\\d', 'é' FROM VALUES 1"), "SELECT '\\\\d', 'é' FROM VALUES (1)");
    }
}
