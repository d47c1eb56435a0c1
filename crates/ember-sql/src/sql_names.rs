//! Spark's names for unaliased SQL expressions: `SELECT 1, a + b,
//! upper('q')` has the columns `1`, `(a + b)` and `upper(q)` in Spark
//! (Catalyst's `toPrettySQL`), where DataFusion would say `Int64(1)`,
//! `t.a + t.b` and `upper(Utf8("q"))`. The names are computed from the
//! parsed SQL and given to the select items as aliases before planning.
//!
//! Forms without a rendering here (window functions, intervals, ...) keep
//! DataFusion's name.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    self as ast, BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    UnaryOperator, Value, VisitMut, VisitorMut,
};

/// Gives every unaliased expression in a SELECT list (at any depth of the
/// statement) its Spark name as an alias. Items whose Spark name would
/// repeat another column's name in the same list are left unaliased.
pub fn alias_select_items<V: VisitMut>(node: &mut V) {
    struct Aliaser;
    impl VisitorMut for Aliaser {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
            alias_set_expr(&mut q.body);
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Aliaser);
}

fn alias_set_expr(body: &mut ast::SetExpr) {
    match body {
        ast::SetExpr::Select(select) => alias_items(&mut select.projection),
        ast::SetExpr::SetOperation { left, right, .. } => {
            alias_set_expr(left);
            alias_set_expr(right);
        }
        _ => {}
    }
}

/// Marks the name of a select item that repeats an earlier item's name:
/// DataFusion requires a projection's names to be unique, Spark does not.
/// The result's columns lose the mark (`crate::sql::spark_output_names`).
pub const REPEATED: char = '\u{E000}';

fn alias_items(items: &mut [ast::SelectItem]) {
    let mut taken: HashSet<String> = HashSet::new();
    for (i, item) in items.iter_mut().enumerate() {
        // (the expression, whether it is named already, its name)
        let (expr, named, name) = match &*item {
            ast::SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), true, Some(alias.value.clone())),
            ast::SelectItem::UnnamedExpr(e) => match e {
                Expr::Identifier(id) => (e.clone(), true, Some(id.value.clone())),
                // `t.c` or a struct's field `s.f`: Spark names it by its last
                // part, which DataFusion does for a column only.
                Expr::CompoundIdentifier(p) => (e.clone(), false, p.last().map(|id| id.value.clone())),
                e => (e.clone(), false, item_name(e)),
            },
            _ => continue,
        };
        let Some(mut name) = name else { continue };
        if !taken.insert(name.clone()) {
            name = format!("{name}{REPEATED}{i}");
        } else if named {
            continue;
        }
        let alias = ast::Ident::with_quote('"', name);
        *item = ast::SelectItem::ExprWithAlias { expr, alias };
    }
}

/// Spark's name for a select item: a cast of a column keeps the column's
/// name there (inside other expressions it is `CAST(c AS T)`).
pub fn item_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Cast { kind: CastKind::Cast | CastKind::DoubleColon, expr: column, format: None, .. }
            if matches!(column.as_ref(), Expr::Identifier(_) | Expr::CompoundIdentifier(_)) =>
        {
            spark_name(column)
        }
        _ => spark_name(e),
    }
}

/// Spark's name for an expression, or `None` for forms without one here.
pub fn spark_name(e: &Expr) -> Option<String> {
    Some(match e {
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(parts) => parts.last()?.value.clone(),
        Expr::Nested(inner) => spark_name(inner)?,
        // `struct(1 AS a)`
        Expr::Named { expr, name } => format!("{} AS {}", spark_name(expr)?, name.value),
        Expr::Struct { values, fields } if fields.is_empty() => {
            format!("struct({})", values.iter().map(spark_name).collect::<Option<Vec<_>>>()?.join(", "))
        }
        Expr::Value(v) => value_name(&v.value)?,
        Expr::TypedString(t) => {
            let value = match &t.value.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                _ => return None,
            };
            format!("{} '{value}'", type_name(&t.data_type)?)
        }
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (spark_name(left)?, spark_name(right)?);
            match op {
                BinaryOperator::NotEq => format!("(NOT ({l} = {r}))"),
                BinaryOperator::StringConcat => format!("concat({l}, {r})"),
                _ => format!("({l} {} {r})", binary_symbol(op)?),
            }
        }
        Expr::UnaryOp { op, expr } => {
            let inner = spark_name(expr)?;
            match op {
                // `-5` is the literal -5 in Spark.
                UnaryOperator::Minus if matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))) =>
                {
                    format!("-{inner}")
                }
                UnaryOperator::Minus => format!("(- {inner})"),
                UnaryOperator::Plus => format!("(+ {inner})"),
                UnaryOperator::Not | UnaryOperator::BangNot => format!("(NOT {inner})"),
                UnaryOperator::BitwiseNot => format!("~{inner}"),
                _ => return None,
            }
        }
        Expr::IsNull(x) => format!("({} IS NULL)", spark_name(x)?),
        Expr::IsNotNull(x) => format!("({} IS NOT NULL)", spark_name(x)?),
        Expr::IsNotDistinctFrom(l, r) => format!("({} <=> {})", spark_name(l)?, spark_name(r)?),
        Expr::IsDistinctFrom(l, r) => format!("(NOT ({} <=> {}))", spark_name(l)?, spark_name(r)?),
        Expr::InList { expr, list, negated } => {
            let list = list.iter().map(spark_name).collect::<Option<Vec<_>>>()?.join(", ");
            negate(format!("({} IN ({list}))", spark_name(expr)?), *negated)
        }
        Expr::InSubquery { expr, negated, .. } => negate(format!("({} IN (listquery()))", spark_name(expr)?), *negated),
        Expr::Between { expr, negated, low, high } => {
            negate(format!("between({}, {}, {})", spark_name(expr)?, spark_name(low)?, spark_name(high)?), *negated)
        }
        Expr::Like { negated, any: false, expr, pattern, escape_char } => {
            let escape = match escape_char {
                None => String::new(),
                Some(c) => format!(" ESCAPE {c}"),
            };
            negate(format!("{} LIKE {}{escape}", spark_name(expr)?, spark_name(pattern)?), *negated)
        }
        Expr::ILike { negated, any: false, expr, pattern, .. } => {
            negate(format!("ilike({}, {})", spark_name(expr)?, spark_name(pattern)?), *negated)
        }
        Expr::RLike { negated, expr, pattern, .. } => {
            negate(format!("RLIKE({}, {})", spark_name(expr)?, spark_name(pattern)?), *negated)
        }
        // `10L`, `1.5D` (see crate::literal_suffix): named as the literal.
        Expr::Cast { kind: CastKind::DoubleColon, expr, data_type, format: None, .. } if matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))) =>
        {
            let Expr::Value(v) = expr.as_ref() else { return None };
            let Value::SingleQuotedString(text) = &v.value else { return None };
            match data_type {
                DataType::Double(_) | DataType::Float(_) | DataType::Real | DataType::DoublePrecision => {
                    crate::display::java_float(text.parse().ok()?)
                }
                _ => text.clone(),
            }
        }
        Expr::Cast { kind, expr, data_type, format: None, .. } => {
            let target = type_name(data_type)?;
            let child = spark_name(expr)?;
            match kind {
                CastKind::Cast | CastKind::DoubleColon => format!("CAST({child} AS {target})"),
                CastKind::TryCast | CastKind::SafeCast => format!("TRY_CAST({child} AS {target})"),
            }
        }
        Expr::Case { operand, conditions, else_result, .. } => {
            let mut s = String::from("CASE");
            let operand = operand.as_deref().map(spark_name);
            for c in conditions {
                let cond = spark_name(&c.condition)?;
                let cond = match &operand {
                    Some(op) => format!("({} = {cond})", op.clone()?),
                    None => cond,
                };
                s.push_str(&format!(" WHEN {cond} THEN {}", spark_name(&c.result)?));
            }
            if let Some(e) = else_result {
                s.push_str(&format!(" ELSE {}", spark_name(e)?));
            }
            s.push_str(" END");
            s
        }
        Expr::Extract { field, expr, .. } => {
            // Spark's names keep the field as written; sqlparser keeps an
            // abbreviation's spelling only.
            let field = match field {
                datafusion::sql::sqlparser::ast::DateTimeField::Custom(i) => i.value.clone(),
                other => other.to_string().to_ascii_lowercase(),
            };
            format!("extract({field} FROM {})", spark_name(expr)?)
        }
        Expr::Substring { expr, substring_from: Some(from), substring_for, shorthand, special } => {
            let len = match substring_for {
                Some(l) => spark_name(l)?,
                None => i32::MAX.to_string(),
            };
            // `substr(s FROM 2)` is named substring, `substr(s, 2)` substr.
            let name = if *shorthand && *special { "substr" } else { "substring" };
            format!("{name}({}, {}, {len})", spark_name(expr)?, spark_name(from)?)
        }
        Expr::Trim { trim_where, trim_what: None, expr, trim_characters: None } => {
            let f = match trim_where {
                Some(ast::TrimWhereField::Leading) => "ltrim",
                Some(ast::TrimWhereField::Trailing) => "rtrim",
                _ => "trim",
            };
            format!("{f}({})", spark_name(expr)?)
        }
        Expr::Trim { trim_where, trim_what: Some(what), expr, trim_characters: None } => {
            let side = trim_where.as_ref().map_or("BOTH".to_string(), |w| w.to_string());
            format!("TRIM({side} {} FROM {})", spark_name(what)?, spark_name(expr)?)
        }
        Expr::Position { expr, r#in } => format!("locate({}, {}, 1)", spark_name(expr)?, spark_name(r#in)?),
        Expr::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
            let len = match overlay_for {
                Some(l) => spark_name(l)?,
                None => "-1".to_string(),
            };
            format!(
                "overlay({}, {}, {}, {len})",
                spark_name(expr)?,
                spark_name(overlay_what)?,
                spark_name(overlay_from)?
            )
        }
        Expr::Ceil { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
            format!("CEIL({})", spark_name(expr)?)
        }
        Expr::Floor { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
            format!("FLOOR({})", spark_name(expr)?)
        }
        Expr::Ceil { expr, field: ast::CeilFloorKind::Scale(v) } => format!("ceil({}, {v})", spark_name(expr)?),
        Expr::Floor { expr, field: ast::CeilFloorKind::Scale(v) } => format!("floor({}, {v})", spark_name(expr)?),
        // `arr[0]`, `m['k']`, `named_struct('x', 1).x`.
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut name = spark_name(root)?;
            for access in access_chain {
                match access {
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                        name = format!("{name}[{}]", spark_name(index)?);
                    }
                    ast::AccessExpr::Dot(Expr::Identifier(i)) => name = format!("{name}.{}", i.value),
                    _ => return None,
                }
            }
            name
        }
        Expr::Subquery(_) => "scalarsubquery()".to_string(),
        Expr::Exists { negated, .. } => negate("exists()".to_string(), *negated),
        Expr::Function(f) => function_name(f)?,
        Expr::Lambda(l) => lambda_name(l)?,
        _ => return None,
    })
}

/// `x -> x + 1` is `lambdafunction((namedlambdavariable() + 1),
/// namedlambdavariable())`: Spark names no lambda variable.
fn lambda_name(l: &ast::LambdaFunction) -> Option<String> {
    struct Anonymize<'a>(&'a [String]);
    impl VisitorMut for Anonymize<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::Identifier(i) = e {
                if self.0.contains(&i.value) {
                    *e = Expr::Identifier(ast::Ident::new(crate::expr::VARIABLE));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let params: Vec<String> = l.params.iter().map(|p| p.name.value.clone()).collect();
    let mut body = l.body.as_ref().clone();
    let _ = body.visit(&mut Anonymize(&params));
    let variables = vec![crate::expr::VARIABLE; params.len()].join(", ");
    Some(format!("lambdafunction({}, {variables})", spark_name(&body)?))
}

fn negate(s: String, negated: bool) -> String {
    if negated { format!("(NOT {s})") } else { s }
}

fn function_name(f: &ast::Function) -> Option<String> {
    if f.over.is_some() || f.null_treatment.is_some() || !matches!(f.parameters, FunctionArguments::None) {
        return None;
    }
    let [ast::ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() else { return None };
    let name = ident.value.to_ascii_lowercase();
    // A generator names the columns it makes (plan::generate).
    if crate::plan::generate::Generator::named(&name).is_some() {
        return None;
    }
    let (distinct, mut args) = match &f.args {
        FunctionArguments::None => (false, vec![]),
        FunctionArguments::Subquery(_) => return None,
        FunctionArguments::List(list) => {
            if !list.clauses.is_empty() {
                return None;
            }
            let mut args = vec![];
            for a in &list.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(spark_name(e)?),
                    // count(*) is count(1) in Spark.
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "count" => args.push("1".into()),
                    _ => return None,
                }
            }
            (matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)), args)
        }
    };
    // aggregate's finish lambda defaults to the identity.
    if matches!(name.as_str(), "aggregate" | "reduce") && args.len() == 3 {
        args.push("lambdafunction(namedlambdavariable(), namedlambdavariable())".into());
    }
    crate::functions::shown_args(&name, &mut args);
    let listed = args.join(", ");
    let mut s = match name.as_str() {
        "isnull" => format!("({listed} IS NULL)"),
        // An interval literal (crate::interval::parse_literal) is named as
        // Spark writes its value.
        "ember_interval" if args.len() == 2 => {
            let (value, interval) = (args[0].parse::<i64>().ok()?, crate::interval::Interval::parse(&args[1])?);
            interval.format(value)
        }
        // A cast function is named as a CAST: after its argument.
        n if args.len() == 1 && (crate::functions::spelled::is_cast(n) || n == "timestamp") => listed,
        "like" if args.len() == 2 => format!("{} LIKE {}", args[0], args[1]),
        "ltrim" if args.len() == 2 => format!("TRIM(LEADING {} FROM {})", args[0], args[1]),
        "rtrim" if args.len() == 2 => format!("TRIM(TRAILING {} FROM {})", args[0], args[1]),
        "isnotnull" => format!("({listed} IS NOT NULL)"),
        "if" => format!("(IF({listed}))"),
        // SQL's one-argument log is of base e.
        "log" if args.len() == 1 => format!("LOG(E(), {listed})"),
        _ if distinct => format!("{}(DISTINCT {listed})", crate::functions::pretty_name(&name, args.len())),
        _ => format!("{}({listed})", crate::functions::pretty_name(&name, args.len())),
    };
    if let Some(filter) = &f.filter {
        s.push_str(&format!(" FILTER (WHERE {})", spark_name(filter)?));
    }
    Some(s)
}

fn value_name(v: &Value) -> Option<String> {
    Some(match v {
        Value::Number(n, _) if n.contains(['e', 'E']) => crate::display::java_float(n.parse().ok()?),
        Value::Number(n, _) => n.clone(),
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
        Value::Boolean(b) => b.to_string(),
        Value::Null => "NULL".to_string(),
        Value::HexStringLiteral(h) => format!("X'{}'", h.to_ascii_uppercase()),
        _ => return None,
    })
}

fn binary_symbol(op: &BinaryOperator) -> Option<&'static str> {
    Some(match op {
        BinaryOperator::Plus => "+",
        BinaryOperator::Minus => "-",
        BinaryOperator::Multiply => "*",
        BinaryOperator::Divide => "/",
        BinaryOperator::Modulo => "%",
        BinaryOperator::MyIntegerDivide => "div",
        BinaryOperator::Eq => "=",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        BinaryOperator::Spaceship => "<=>",
        BinaryOperator::And => "AND",
        BinaryOperator::Or => "OR",
        BinaryOperator::BitwiseAnd => "&",
        BinaryOperator::BitwiseOr => "|",
        BinaryOperator::BitwiseXor | BinaryOperator::PGBitwiseXor => "^",
        _ => return None,
    })
}

/// Spark's SQL name of a type in names (`CAST(1 AS BIGINT)`).
fn type_name(t: &DataType) -> Option<String> {
    Some(match t {
        DataType::TinyInt(_) => "TINYINT".into(),
        DataType::SmallInt(_) => "SMALLINT".into(),
        DataType::Int(_) | DataType::Integer(_) => "INT".into(),
        DataType::BigInt(_) => "BIGINT".into(),
        DataType::Float(_) | DataType::Real => "FLOAT".into(),
        DataType::Double(_) | DataType::DoublePrecision => "DOUBLE".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::String(_) | DataType::Varchar(_) | DataType::Char(_) | DataType::Text => "STRING".into(),
        DataType::Date => "DATE".into(),
        DataType::Timestamp(..) => "TIMESTAMP".into(),
        DataType::Binary(_) => "BINARY".into(),
        DataType::Decimal(info) | DataType::Dec(info) | DataType::Numeric(info) => match info {
            ast::ExactNumberInfo::None => "DECIMAL(10,0)".into(),
            ast::ExactNumberInfo::Precision(p) => format!("DECIMAL({p},0)"),
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => format!("DECIMAL({p},{s})"),
        },
        DataType::Custom(name, args) if args.is_empty() => match name.to_string().to_ascii_uppercase().as_str() {
            "LONG" => "BIGINT".into(),
            "SHORT" => "SMALLINT".into(),
            "BYTE" => "TINYINT".into(),
            "TIMESTAMP_NTZ" => "TIMESTAMP_NTZ".into(),
            "TIMESTAMP_LTZ" => "TIMESTAMP".into(),
            _ => return None,
        },
        DataType::TimestampNtz(_) => "TIMESTAMP_NTZ".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn name(sql: &str) -> Option<String> {
        let e = Parser::new(&crate::dialect::SparkSql).try_with_sql(sql).unwrap().parse_expr().unwrap();
        item_name(&e)
    }

    // Each expected name is what Apache Spark 4.2 calls the column.
    #[test]
    fn names_follow_spark() {
        let cases = [
            ("1", "1"),
            ("1 + 2", "(1 + 2)"),
            ("-5", "-5"),
            ("- a", "(- a)"),
            ("'q'", "q"),
            ("1.50", "1.50"),
            ("1e20", "1.0E20"),
            ("1e3", "1000.0"),
            ("NULL", "NULL"),
            ("DATE '2024-01-01'", "DATE '2024-01-01'"),
            ("t.a * 2", "(a * 2)"),
            ("a <> 1", "(NOT (a = 1))"),
            ("a > 1 AND b < 3", "((a > 1) AND (b < 3))"),
            ("2 * (a + 1)", "(2 * (a + 1))"),
            ("s || s || s", "concat(concat(s, s), s)"),
            ("UPPER(s)", "upper(s)"),
            ("count(*)", "count(1)"),
            ("COUNT(DISTINCT a, b)", "count(DISTINCT a, b)"),
            ("concat(s, 'y')", "concat(s, y)"),
            ("CAST(a AS BIGINT)", "a"),
            ("upper(CAST(a AS STRING))", "upper(CAST(a AS STRING))"),
            ("position('b' IN s)", "locate(b, s, 1)"),
            ("TRIM(LEADING 'a' FROM s)", "TRIM(LEADING a FROM s)"),
            ("overlay('abc' PLACING 'x' FROM 2)", "overlay(abc, x, 2, -1)"),
            ("split(s, ',')", "split(s, ,, -1)"),
            ("rlike(s, 'b')", "RLIKE(s, b)"),
            ("like(s, 'b%')", "s LIKE b%"),
            ("first(x, true)", "first(x)"),
            ("struct(a, 1 AS b)", "struct(a, 1 AS b)"),
            ("~a", "~a"),
            ("CAST(a + 1 AS VARCHAR(3))", "CAST((a + 1) AS STRING)"),
            ("CAST(1 AS DECIMAL)", "CAST(1 AS DECIMAL(10,0))"),
            ("a IS NULL", "(a IS NULL)"),
            ("a NOT IN (1)", "(NOT (a IN (1)))"),
            ("a NOT BETWEEN 1 AND 2", "(NOT between(a, 1, 2))"),
            ("s NOT LIKE 'y'", "(NOT s LIKE y)"),
            ("CASE a WHEN 1 THEN 'one' END", "CASE WHEN (a = 1) THEN one END"),
            ("CASE WHEN a = 1 THEN 'one' ELSE 'other' END", "CASE WHEN (a = 1) THEN one ELSE other END"),
            ("if(a > 0, 1, 0)", "(IF((a > 0), 1, 0))"),
            ("ceil(dec)", "CEIL(dec)"),
            ("ceil(dec, 1)", "ceil(dec, 1)"),
            ("log(a)", "LOG(E(), a)"),
            ("TRIM(BOTH FROM s)", "trim(s)"),
            ("TRIM(LEADING FROM s)", "ltrim(s)"),
            ("substr(s, 2)", "substr(s, 2, 2147483647)"),
            ("extract(year FROM d)", "extract(year FROM d)"),
            ("sum(a) FILTER (WHERE a > 0)", "sum(a) FILTER (WHERE (a > 0))"),
            ("a IS DISTINCT FROM 1", "(NOT (a <=> 1))"),
            ("x'0a0b'", "X'0A0B'"),
            ("'10'::BIGINT", "10"),
            ("a DIV 2", "(a div 2)"),
            ("'2'::FLOAT", "2.0"),
            (
                "aggregate(array(1, 2), 0, (a, x) -> a + x)",
                "aggregate(array(1, 2), 0, lambdafunction((namedlambdavariable() + namedlambdavariable()), \
                 namedlambdavariable(), namedlambdavariable()), lambdafunction(namedlambdavariable(), namedlambdavariable()))",
            ),
            (
                "transform(array(1, 2), x -> x + 1)",
                "transform(array(1, 2), lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(name(sql).as_deref(), Some(want), "{sql}");
        }
        assert_eq!(name("row_number() OVER (ORDER BY a)"), None);
    }

    #[test]
    fn repeated_names_are_marked() {
        let sql = "SELECT count(*), count(1), a + 1 AS x, t.a, s.a, 2 AS x FROM t";
        let mut stmt = Parser::parse_sql(&crate::dialect::SparkSql, sql).unwrap();
        alias_select_items(&mut stmt);
        let m = REPEATED;
        assert_eq!(
            stmt[0].to_string(),
            format!(
                "SELECT count(*) AS \"count(1)\", count(1) AS \"count(1){m}1\", a + 1 AS x, t.a AS \"a\", s.a AS \"a{m}4\", 2 AS \"x{m}5\" FROM t"
            )
        );
    }
}
