//! Spark functions and operators → DataFusion expressions.
//!
//! Operators (`+`, `==`, `and`, ...) and Spark-only forms (`when`, `in`,
//! `count(*)`, `explode`) are built here; everything else is looked up by
//! name in the session's function registry, which holds DataFusion's
//! functions overlaid with `datafusion-spark`'s Spark-semantics versions and
//! ember's own (see `crate::functions`).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::{AggregateFunction, Case, InList, Like, WindowFunction};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, cast, lit};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto::Expression;
use spark_connect_proto::expression::ExprType;

use super::{NamedExpr, strip_alias};
use crate::error::{Result, analysis};
use crate::plan::Planner;

/// The percentages of `percentile(x, array(…))`: an array literal's
/// elements or `array(…)`'s arguments.
fn percentages(e: &Expr) -> Option<Vec<Expr>> {
    match e {
        Expr::Literal(ScalarValue::List(l), _)
            if datafusion::arrow::array::Array::len(l.as_ref()) == 1
                && datafusion::arrow::array::Array::is_valid(l.as_ref(), 0) =>
        {
            let values = l.value(0);
            (0..values.len()).map(|i| ScalarValue::try_from_array(&values, i).ok().map(lit)).collect()
        }
        Expr::ScalarFunction(f) if matches!(f.func.name(), "array" | "make_array") => Some(f.args.clone()),
        _ => None,
    }
}

/// `e` folded to a literal when it is constant (`map('sep', ';')`), else `e`.
fn fold_constant(e: Expr) -> Expr {
    use datafusion::logical_expr::simplify::SimplifyContext;
    use datafusion::optimizer::simplify_expressions::ExprSimplifier;
    if matches!(e, Expr::Literal(..)) || !e.column_refs().is_empty() {
        return e;
    }
    let context = SimplifyContext::builder().with_schema(std::sync::Arc::new(DFSchema::empty())).build();
    match ExprSimplifier::new(context).simplify(e.clone()) {
        Ok(folded @ Expr::Literal(..)) => folded,
        _ => e,
    }
}

/// Spark's display name for a function in column names.
fn display_name(spark: &str, args: usize) -> String {
    match spark {
        "mean" => "avg".to_string(),
        other => crate::functions::pretty_name(other, args),
    }
}

impl Planner<'_> {
    pub(crate) fn function(
        &mut self,
        name: &str,
        args: &[Expression],
        distinct: bool,
        schema: &DFSchema,
    ) -> Result<NamedExpr> {
        let lname = name.to_ascii_lowercase();
        if matches!(
            lname.as_str(),
            "transform"
                | "filter"
                | "aggregate"
                | "reduce"
                | "exists"
                | "forall"
                | "zip_with"
                | "transform_keys"
                | "transform_values"
                | "map_filter"
                | "array_sort"
        ) && args.iter().any(|a| matches!(a.expr_type, Some(ExprType::LambdaFunction(_))))
        {
            return self.higher_order(&lname, args, schema);
        }
        if lname == "map_zip_with"
            && matches!(args.get(2).and_then(|a| a.expr_type.as_ref()), Some(ExprType::LambdaFunction(_)))
        {
            return self.map_zip_with(args, schema);
        }
        // count(*) counts rows: Spark names it count(1).
        let star = |a: &Expression| match &a.expr_type {
            Some(ExprType::UnresolvedStar(_)) => true,
            Some(ExprType::ExpressionString(s)) => super::star_text(&s.expression) == Some(None),
            _ => false,
        };
        if lname == "count" && args.len() == 1 && star(&args[0]) {
            let e = self.aggregate_call("count", vec![lit(1i32)], distinct)?;
            return Ok(NamedExpr::new(e, "count(1)"));
        }
        if lname == "struct" {
            return self.struct_of(args, schema);
        }
        let mut named = vec![];
        for a in args {
            match &a.expr_type {
                // `hash("*")`: a star among a function's arguments stands for
                // every column, as Spark expands it.
                Some(ExprType::UnresolvedStar(s)) => {
                    let columns = self.expand_star(s.unparsed_target.as_deref(), s.plan_id, schema)?;
                    named.extend(columns.into_iter().map(|(e, n)| NamedExpr::new(e, n)));
                }
                _ => named.push(self.expr(a, schema)?),
            }
        }
        let names: Vec<String> = named.iter().map(|n| n.name.clone()).collect();
        let exprs: Vec<Expr> = named.into_iter().map(|n| strip_alias(n.expr)).collect();
        self.build_function(&lname, name, exprs, names, distinct, schema)
    }

    fn build_function(
        &mut self,
        lname: &str,
        orig: &str,
        mut a: Vec<Expr>,
        n: Vec<String>,
        distinct: bool,
        schema: &DFSchema,
    ) -> Result<NamedExpr> {
        let bin = |op: Operator, sym: &str, a: &mut Vec<Expr>, n: &[String]| -> Result<NamedExpr> {
            let (l, r) = two(a, sym)?;
            Ok(NamedExpr::new(
                Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r))),
                format!("({} {sym} {})", n[0], n[1]),
            ))
        };
        let ansi = self.session.ansi();
        let tz = self.session.time_zone();
        let arith = |op: Operator, sym: &str, a: &mut Vec<Expr>, n: &[String]| -> Result<NamedExpr> {
            let (l, r) = two(a, sym)?;
            let e = match crate::functions::intervals::arithmetic(&l, op, &r, schema, &tz)? {
                Some(e) => e,
                None if op == Operator::Divide => crate::functions::spark_divide(l, r, schema, ansi)?,
                None => crate::functions::spark_arithmetic(l, op, r, schema, ansi)?,
            };
            Ok(NamedExpr::new(e, format!("({} {sym} {})", n[0], n[1])))
        };
        match lname {
            "+" if a.len() == 2 => arith(Operator::Plus, "+", &mut a, &n),
            "-" if a.len() == 2 => arith(Operator::Minus, "-", &mut a, &n),
            "*" => arith(Operator::Multiply, "*", &mut a, &n),
            "%" | "mod" => arith(Operator::Modulo, "%", &mut a, &n),
            "/" => arith(Operator::Divide, "/", &mut a, &n),
            "==" => bin(Operator::Eq, "=", &mut a, &n),
            "!=" => {
                let (l, r) = two(&mut a, "!=")?;
                Ok(NamedExpr::new(l.not_eq(r), format!("(NOT ({} = {}))", n[0], n[1])))
            }
            "<" => bin(Operator::Lt, "<", &mut a, &n),
            "<=" => bin(Operator::LtEq, "<=", &mut a, &n),
            ">" => bin(Operator::Gt, ">", &mut a, &n),
            ">=" => bin(Operator::GtEq, ">=", &mut a, &n),
            "<=>" => bin(Operator::IsNotDistinctFrom, "<=>", &mut a, &n),
            "equal_null" => {
                let (l, r) = two(&mut a, "equal_null")?;
                let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(l), Operator::IsNotDistinctFrom, Box::new(r)));
                Ok(NamedExpr::new(e, format!("equal_null({}, {})", n[0], n[1])))
            }
            "and" => bin(Operator::And, "AND", &mut a, &n),
            // create_map(): an empty map, of keys and values of no type.
            "map" if a.is_empty() => {
                Ok(NamedExpr::new(datafusion::functions_nested::map::map(vec![], vec![]), "map()"))
            }
            "or" => bin(Operator::Or, "OR", &mut a, &n),
            "&" | "bitwiseand" => bin(Operator::BitwiseAnd, "&", &mut a, &n),
            "|" | "bitwiseor" => bin(Operator::BitwiseOr, "|", &mut a, &n),
            "^" | "bitwisexor" => bin(Operator::BitwiseXor, "^", &mut a, &n),
            "not" | "!" => Ok(NamedExpr::new(Expr::Not(Box::new(one(&mut a, "not")?)), format!("(NOT {})", n[0]))),
            "-" | "negative" => {
                let name = if lname == "-" { format!("(- {})", n[0]) } else { format!("negative({})", n[0]) };
                let x = one(&mut a, "negative")?;
                let e = match crate::functions::intervals::negate(&x, schema)? {
                    Some(e) => e,
                    None => Expr::Negative(Box::new(x)),
                };
                Ok(NamedExpr::new(e, name))
            }
            "positive" => Ok(NamedExpr::new(one(&mut a, "positive")?, format!("(+ {})", n[0]))),
            "isnull" => Ok(NamedExpr::new(one(&mut a, "isnull")?.is_null(), format!("({} IS NULL)", n[0]))),
            "isnotnull" => {
                Ok(NamedExpr::new(one(&mut a, "isnotnull")?.is_not_null(), format!("({} IS NOT NULL)", n[0])))
            }
            "in" => {
                if a.is_empty() {
                    return Err(analysis("in() needs a value"));
                }
                let v = a.remove(0);
                let name = format!("({} IN ({}))", n[0], n[1..].join(", "));
                Ok(NamedExpr::new(Expr::InList(InList::new(Box::new(v), a, false)), name))
            }
            // trim(trimStr, str): Spark's two-argument trims take the
            // characters first.
            "trim" | "ltrim" | "rtrim" if a.len() == 2 => {
                let (chars, s) = two(&mut a, lname)?;
                let (f, side) = match lname {
                    "ltrim" => ("ltrim", "LEADING"),
                    "rtrim" => ("rtrim", "TRAILING"),
                    _ => ("btrim", "BOTH"),
                };
                let name = format!("TRIM({side} {} FROM {})", n[0], n[1]);
                self.call_registry(f, vec![s, chars], false, name)
            }
            "like" | "ilike" => {
                // like(str, pattern[, escapeChar]): the escape is a one-character literal.
                let escape = match a.len() {
                    3 => match a.pop() {
                        Some(Expr::Literal(ScalarValue::Utf8(Some(e)), _)) if e.chars().count() == 1 => {
                            e.chars().next()
                        }
                        _ => {
                            return Err(analysis(format!(
                                "[INVALID_ESCAPE_CHAR] EscapeChar should be a string literal of length one, but got {}.",
                                n[2]
                            )));
                        }
                    },
                    _ => None,
                };
                let (l, r) = two(&mut a, lname)?;
                let ci = lname == "ilike";
                let name = match (ci, escape) {
                    (true, _) => format!("ilike({}, {})", n[0], n[1]),
                    (false, None) => format!("{} LIKE {}", n[0], n[1]),
                    (false, Some(c)) => format!("{} LIKE {} ESCAPE '{c}'", n[0], n[1]),
                };
                Ok(NamedExpr::new(Expr::Like(Like::new(false, Box::new(l), Box::new(r), escape, ci)), name))
            }
            "when" | "case_when" => {
                let mut pairs = vec![];
                let mut name = String::from("CASE");
                let mut it = a.into_iter().zip(n.iter());
                let mut else_expr = None;
                loop {
                    match (it.next(), it.next()) {
                        (Some((c, cn)), Some((v, vn))) => {
                            name.push_str(&format!(" WHEN {cn} THEN {vn}"));
                            pairs.push((Box::new(c), Box::new(v)));
                        }
                        (Some((e, en)), None) => {
                            name.push_str(&format!(" ELSE {en}"));
                            else_expr = Some(Box::new(e));
                            break;
                        }
                        _ => break,
                    }
                }
                name.push_str(" END");
                Ok(NamedExpr::new(Expr::Case(Case::new(None, pairs, else_expr)), name))
            }
            "explode" | "explode_outer" | "posexplode" | "posexplode_outer" | "inline" | "inline_outer" => {
                // The projection plans it (plan::generate), naming its columns.
                let g = crate::plan::generate::Generator::named(lname).unwrap_or_default();
                let e = one(&mut a, lname)?;
                Ok(NamedExpr::new(g.expr(e), "col"))
            }
            // json_tuple(json, 'f1', …): one row of columns c0, c1, …, as
            // inline() of a one-element array of datafusion-spark's struct.
            "json_tuple" => {
                let call = self.session.ctx().udf("json_tuple")?.call(a);
                let g = crate::plan::generate::Generator::named("inline").unwrap_or_default();
                Ok(NamedExpr::new(g.expr(datafusion::functions_nested::expr_fn::make_array(vec![call])), "col"))
            }
            // stack(n, v1, v2, ...): n rows in columns col0, col1, ..., as
            // inline() of an array of structs (see dialect::spark_generators).
            "stack" => {
                let rows = match a.first() {
                    Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64) {
                        Ok(ScalarValue::Int64(Some(n))) if n > 0 => n as usize,
                        _ => 0,
                    },
                    _ => 0,
                };
                if rows == 0 || a.len() < 2 {
                    return Err(analysis("stack takes a positive integer literal row count and at least one value"));
                }
                let structs = crate::functions::stack_rows(&a[1..], rows, || lit(ScalarValue::Null))
                    .into_iter()
                    .map(|row| {
                        let fields = row.into_iter().flat_map(|(name, v)| [lit(name), v]);
                        datafusion::functions::core::expr_fn::named_struct(fields.collect())
                    })
                    .collect();
                let g = crate::plan::generate::Generator::named("inline").unwrap_or_default();
                Ok(NamedExpr::new(g.expr(datafusion::functions_nested::expr_fn::make_array(structs)), "col"))
            }
            "create_map" | "map" => {
                let (mut keys, mut values) = (vec![], vec![]);
                for (i, e) in a.into_iter().enumerate() {
                    if i % 2 == 0 { keys.push(e) } else { values.push(e) }
                }
                let e = crate::functions::map::SparkMap::call(keys, values);
                Ok(NamedExpr::new(e, format!("map({})", n.join(", "))))
            }
            "element_at" => {
                let (base, key) = two(&mut a, "element_at")?;
                let e = match base.get_type(schema)? {
                    DataType::Map(..) => crate::functions::map_lookup(base, key),
                    _ => crate::functions::array_index::element_at(base, key, self.session.ansi()),
                };
                Ok(NamedExpr::new(e, format!("element_at({}, {})", n[0], n[1])))
            }
            "getitem" | "get" => {
                let (base, idx) = two(&mut a, lname)?;
                // get() is NULL outside the array, whatever the ANSI mode.
                let ansi = lname == "getitem" && self.session.ansi();
                let e = crate::functions::array_index::get_item(base, idx, ansi);
                let name =
                    if lname == "get" { format!("get({}, {})", n[0], n[1]) } else { format!("{}[{}]", n[0], n[1]) };
                Ok(NamedExpr::new(e, name))
            }
            // DataFusion's approx_distinct is unsigned and grouping() an
            // int: Spark's are bigint and tinyint.
            "approx_count_distinct" | "grouping" => {
                // approx_count_distinct(x, rsd): DataFusion's sketch has one
                // precision, whose error is below Spark's default rsd (0.05).
                if lname == "approx_count_distinct" && a.len() == 2 {
                    match a.pop() {
                        Some(Expr::Literal(v, _)) if v.data_type().is_numeric() => {}
                        _ => return Err(analysis("approx_count_distinct's rsd must be a numeric literal")),
                    }
                }
                let name = format!("{lname}({})", n[..a.len()].join(", "));
                let (f, t) = if lname == "grouping" {
                    ("grouping", DataType::Int8)
                } else {
                    ("approx_distinct", DataType::Int64)
                };
                let e = self.aggregate_call(f, a, distinct)?;
                Ok(NamedExpr::new(cast(e, t), name))
            }
            // Spark names it by its value alone. A schema from
            // schema_of_json(literal) is known while planning.
            // The options map is folded to a literal, which the function
            // checks while planning.
            "from_json" | "from_csv" | "to_json" | "to_csv" | "schema_of_csv" if !a.is_empty() => {
                let at = if matches!(lname, "from_json" | "from_csv") { 2 } else { 1 };
                if let Some(options) = a.get_mut(at) {
                    *options = fold_constant(std::mem::take(options));
                }
                if let Some(Expr::ScalarFunction(f)) = a.get(1) {
                    match (lname, f.func.name(), f.args.as_slice()) {
                        ("from_json", "schema_of_json", [Expr::Literal(ScalarValue::Utf8(Some(text)), _)]) => {
                            if let Some(schema) = crate::functions::json::schema_of_json(text) {
                                a[1] = lit(schema);
                            }
                        }
                        (
                            "from_csv",
                            "schema_of_csv",
                            [Expr::Literal(ScalarValue::Utf8(Some(text)), _), options @ ..],
                        ) => {
                            let options = match options.first().map(|o| fold_constant(o.clone())) {
                                Some(Expr::Literal(v, _)) => crate::functions::text_options::options_of(&v)?,
                                _ => Default::default(),
                            };
                            a[1] = lit(crate::functions::csv::schema_of_literal(text, &options, &tz)?);
                        }
                        _ => {}
                    }
                }
                self.call_registry(lname, a, false, format!("{lname}({})", n[0]))
            }
            // Spark names the missing delimiter.
            "listagg" | "string_agg" if a.len() == 1 => {
                let name = format!("{lname}({}{}, NULL)", if distinct { "DISTINCT " } else { "" }, n[0]);
                self.call_registry(lname, a, distinct, name)
            }
            // Spark's pretty name is upper case.
            "spark_partition_id" => self.call_registry(lname, a, false, "SPARK_PARTITION_ID()".to_string()),
            "log" if a.len() == 1 => self.call_registry("ln", a, false, format!("ln({})", n[0])),
            "split" => {
                let name = format!("split({})", n.join(", "));
                if a.len() > 3 {
                    return Err(wrong_args("split", 3, a.len()));
                }
                let limit = if a.len() == 3 { a.pop() } else { None };
                let (s, pat) = two_or_more(&mut a, "split")?;
                Ok(NamedExpr::new(crate::functions::spark_split(s, pat, limit)?, name))
            }
            // extract(YEAR FROM ts), datepart(YEAR FROM ts), date_part(YEAR, ts).
            "extract" | "datepart" | "date_part" => {
                let name = match lname {
                    "date_part" => format!("date_part({}, {})", n[0], n[1]),
                    _ => format!("{lname}({} FROM {})", n[0], n[1]),
                };
                Ok(NamedExpr::new(self.session.ctx().udf(lname)?.call(a), name))
            }
            "year" | "month" | "quarter" | "dayofmonth" | "day" | "dayofyear" | "weekofyear" | "dayofweek" | "hour"
            | "minute" | "second" => {
                let e = one(&mut a, lname)?;
                let part = match lname {
                    "dayofmonth" | "day" => "day",
                    "dayofyear" => "doy",
                    "weekofyear" => "week",
                    "dayofweek" => "dow",
                    p => p,
                };
                let mut v = datafusion::functions::datetime::expr_fn::date_part(lit(part), e);
                if lname == "dayofweek" {
                    v = v + lit(1i32);
                }
                Ok(NamedExpr::new(cast(v, DataType::Int32), format!("{lname}({})", n[0])))
            }
            "count" => {
                let name = if distinct {
                    format!("count(DISTINCT {})", n.join(", "))
                } else {
                    format!("count({})", n.join(", "))
                };
                // count(a, b) counts rows where all are non-null.
                let arg = if a.len() > 1 {
                    let cond =
                        a.iter().cloned().map(|e| e.is_not_null()).reduce(|x, y| x.and(y)).unwrap_or_else(|| lit(true));
                    if distinct {
                        datafusion::functions::core::expr_fn::named_struct(
                            a.into_iter().enumerate().flat_map(|(i, e)| [lit(format!("c{i}")), e]).collect(),
                        )
                    } else {
                        Expr::Case(Case::new(None, vec![(Box::new(cond), Box::new(lit(1i32)))], None))
                    }
                } else {
                    one(&mut a, "count")?
                };
                Ok(NamedExpr::new(self.aggregate_call("count", vec![arg], distinct)?, name))
            }
            // Under ANSI, a sum of integers fails on overflow.
            "sum" if ansi && !distinct && a.len() == 1 => {
                let call = AggregateFunction::new_udf(self.session.ctx().udaf("sum")?, a, false, None, vec![], None);
                let e = crate::functions::checked_sum::checked(&call, schema).unwrap_or(Expr::AggregateFunction(call));
                Ok(NamedExpr::new(e, format!("sum({})", n[0])))
            }
            "sum_distinct" => {
                let e = self.aggregate_call("sum", a, true)?;
                Ok(NamedExpr::new(e, format!("sum(DISTINCT {})", n.join(", "))))
            }
            "count_distinct" | "countdistinct" => {
                let e = self.aggregate_call("count", a, true)?;
                Ok(NamedExpr::new(e, format!("count(DISTINCT {})", n.join(", "))))
            }
            "first" | "last" | "first_value" | "last_value" | "any_value" => {
                // first(col, ignoreNulls)
                let ignore_nulls = matches!(a.get(1), Some(Expr::Literal(ScalarValue::Boolean(Some(true)), _)));
                a.truncate(1);
                let fname = if lname.starts_with("last") { "last_value" } else { "first_value" };
                let f = self.session.ctx().udaf(fname)?;
                let e = Expr::AggregateFunction(AggregateFunction::new_udf(
                    f,
                    a,
                    false,
                    None,
                    vec![],
                    ignore_nulls.then_some(datafusion::sql::sqlparser::ast::NullTreatment::IgnoreNulls.into()),
                ));
                Ok(NamedExpr::new(e, format!("{}({})", display_name(lname, 1), n[0])))
            }
            // nth_value(col, n, ignoreNulls): the flag is the window's IGNORE NULLS.
            "nth_value" if a.len() == 3 => {
                let ignore_nulls = match a.pop() {
                    Some(Expr::Literal(ScalarValue::Boolean(Some(b)), _)) => b,
                    _ => return Err(analysis("nth_value's ignoreNulls must be a boolean literal")),
                };
                let mut w = WindowFunction::new(self.session.ctx().udwf("nth_value")?, a);
                w.params.null_treatment =
                    ignore_nulls.then_some(datafusion::sql::sqlparser::ast::NullTreatment::IgnoreNulls.into());
                let name = if ignore_nulls {
                    format!("nth_value({}, {}) ignore nulls", n[0], n[1])
                } else {
                    format!("nth_value({}, {})", n[0], n[1])
                };
                Ok(NamedExpr::new(Expr::from(w), name))
            }
            "grouping_id" => Ok(NamedExpr::new(
                Expr::Column(datafusion::common::Column::from_name("__grouping_id")),
                "grouping_id()",
            )),
            "nanvl" => {
                let (x, y) = two(&mut a, "nanvl")?;
                let isnan = self.session.ctx().udf("isnan")?.call(vec![x.clone()]);
                Ok(NamedExpr::new(
                    Expr::Case(Case::new(None, vec![(Box::new(isnan), Box::new(y))], Some(Box::new(x)))),
                    format!("nanvl({})", n.join(", ")),
                ))
            }
            // max_by(x, y, k): k is a literal in [1, 100000].
            "max_by" | "min_by" if a.len() == 3 => {
                let name = format!("{lname}({})", n.join(", "));
                let k = match &a[2] {
                    Expr::Literal(v, _) if v.data_type().is_integer() => match v.cast_to(&DataType::Int64) {
                        Ok(ScalarValue::Int64(Some(k))) => k,
                        _ => 0,
                    },
                    _ => {
                        return Err(SparkError::with_class(
                            ExceptionClass::Analysis,
                            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                            "42K09",
                            format!("Cannot resolve \"{name}\" due to data type mismatch: the input k should be a foldable int expression; however, got {}.", n[2]),
                        )
                        .into());
                    }
                };
                if !(1..=100_000).contains(&k) {
                    return Err(SparkError::with_class(
                        ExceptionClass::Analysis,
                        "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                        "42K09",
                        format!("Cannot resolve \"{name}\" due to data type mismatch: The `k` must be between [1, 100000] (current value = {k})."),
                    )
                    .into());
                }
                self.call_registry(lname, a, distinct, name)
            }
            // percentile(x, array(p1, p2, …)[, 1]): the array of each
            // percentile.
            "percentile" if (2..=3).contains(&a.len()) && percentages(&a[1]).is_some() => {
                let mut shown = n.clone();
                if shown.len() == 2 {
                    shown.push("1".into());
                }
                let name = format!("percentile({})", shown.join(", "));
                if a.len() == 3 && !matches!(&a[2], Expr::Literal(v, _) if v.to_string() == "1") {
                    return Err(SparkError::unsupported("percentile with a frequency other than 1").into());
                }
                let x = a.remove(0);
                let mut each = vec![];
                for p in percentages(&a[0]).unwrap_or_default() {
                    each.push(self.call_registry("percentile", vec![x.clone(), p], distinct, String::new())?.expr);
                }
                Ok(NamedExpr::new(datafusion::functions_nested::expr_fn::make_array(each), name))
            }
            // percentile(x, p, frequency): every row counts once.
            "percentile" if a.len() == 3 => {
                let name = format!("percentile({})", n.join(", "));
                let one = |e: &Expr| match e {
                    Expr::Literal(v, _) => v.to_string() == "1",
                    _ => false,
                };
                if !a.last().is_some_and(one) {
                    return Err(SparkError::unsupported("percentile with a frequency other than 1").into());
                }
                a.pop();
                self.call_registry("percentile", a, distinct, name)
            }
            // replace(s, search): the replacement defaults to ''.
            "replace" if a.len() == 2 => {
                a.push(lit(""));
                self.call_registry("replace", a, false, format!("replace({}, {}, )", n[0], n[1]))
            }
            // levenshtein(a, b, threshold): -1 past the threshold.
            "levenshtein" if a.len() == 3 => {
                let threshold = a.pop().unwrap_or_else(|| lit(ScalarValue::Null));
                let distance = self.call_registry("levenshtein", a, false, String::new())?.expr;
                let e = Expr::Case(Case::new(
                    None,
                    vec![
                        (Box::new(threshold.clone().is_null()), Box::new(lit(ScalarValue::Int32(None)))),
                        (Box::new(distance.clone().gt(threshold)), Box::new(lit(-1i32))),
                    ],
                    Some(Box::new(distance)),
                ));
                Ok(NamedExpr::new(e, format!("levenshtein({})", n.join(", "))))
            }
            "asc" | "desc" | "asc_nulls_first" | "asc_nulls_last" | "desc_nulls_first" | "desc_nulls_last" => {
                Err(analysis(format!("{orig}() is only valid in a sort")))
            }
            // window(time, duration[, slide[, start]]): the windows a row
            // falls in, one row each (see `functions::time_window`).
            "window" if (2..=4).contains(&a.len()) => {
                use crate::functions::time_window::{NAME, duration_micros};
                let text = |e: &Expr, what: &str| match e {
                    Expr::Literal(ScalarValue::Utf8(Some(s)), _) => duration_micros(s, what).map_err(Into::into),
                    _ => Err(analysis(format!("window's {what} must be a string literal"))),
                };
                let duration = text(&a[1], "windowDuration")?;
                let slide = a.get(2).map(|e| text(e, "slideDuration")).transpose()?.unwrap_or(duration);
                let start = a.get(3).map(|e| text(e, "startTime")).transpose()?.unwrap_or(0);
                if slide > duration {
                    return Err(analysis(format!(
                        "The slide duration ({slide}) must be less than or equal to the windowDuration ({duration})."
                    )));
                }
                let f = self.session.ctx().udf(NAME)?;
                let windows = f.call(vec![a.swap_remove(0), lit(duration), lit(slide), lit(start)]);
                Ok(NamedExpr::new(Expr::Unnest(datafusion::logical_expr::expr::Unnest::new(windows)), "window"))
            }
            // window_time(window): the last microsecond of the window.
            "window_time" => {
                let w = one(&mut a, "window_time")?;
                let end = datafusion::functions::core::expr_fn::get_field(w, "end");
                let e = end
                    - lit(ScalarValue::IntervalMonthDayNano(Some(
                        datafusion::arrow::datatypes::IntervalMonthDayNano::new(0, 0, 1000),
                    )));
                Ok(NamedExpr::new(e, format!("window_time({})", n[0])))
            }
            "~" => {
                let name = format!("~{}", n[0]);
                self.call_registry("bitwise_not", a, false, name)
            }
            // mode(col, deterministic => true) is named as its SQL form.
            "mode" if n.get(1).is_some_and(|d| d == "true") => {
                let name = format!("mode() WITHIN GROUP (ORDER BY {} DESC)", n[0]);
                self.call_registry("mode", a, distinct, name)
            }
            _ => {
                let mut n = n;
                if lname == "assert_true" && a.len() == 1 {
                    a.push(lit(crate::functions::assert_true_message(&n[0])));
                }
                crate::functions::shown_args(lname, &mut n);
                // A function the session registered keeps the case it was called by.
                let shown = match self.session.ctx().udf(lname) {
                    Ok(f) if f.inner().as_ref().is::<crate::python::udf::PythonUdf>() => orig.to_string(),
                    _ => display_name(lname, n.len()),
                };
                let display = if distinct {
                    format!("{shown}(DISTINCT {})", n.join(", "))
                } else {
                    format!("{shown}({})", n.join(", "))
                };
                self.call_registry(crate::functions::registry_name(lname), a, distinct, display)
            }
        }
    }

    /// `struct(...)`: a field takes its column's name or its alias, else
    /// `col<i>` (1-based), as Spark names them; the struct's name shows the
    /// aliases (`struct(1 AS a, id)`).
    fn struct_of(&mut self, args: &[Expression], schema: &DFSchema) -> Result<NamedExpr> {
        let mut fields = vec![];
        let mut shown = vec![];
        for (i, a) in args.iter().enumerate() {
            let (field, e, name) = match &a.expr_type {
                Some(ExprType::Alias(al)) if al.name.len() == 1 => {
                    let inner = self.required(&al.expr, schema)?;
                    let name = format!("{} AS {}", inner.name, al.name[0]);
                    (al.name[0].clone(), inner.expr, name)
                }
                _ => {
                    let n = self.expr(a, schema)?;
                    let e = strip_alias(n.expr);
                    let field = match (&e, &a.expr_type) {
                        (Expr::Column(c), _) => c.name.clone(),
                        // A nested field, `s.x`: named x.
                        (_, Some(ExprType::UnresolvedAttribute(_))) => {
                            n.name.rsplit('.').next().unwrap_or(&n.name).to_string()
                        }
                        _ => format!("col{}", i + 1),
                    };
                    (field, e, n.name)
                }
            };
            fields.push(lit(field));
            fields.push(strip_alias(e));
            shown.push(name);
        }
        Ok(NamedExpr::new(
            datafusion::functions::core::expr_fn::named_struct(fields),
            format!("struct({})", shown.join(", ")),
        ))
    }

    /// A registered scalar, aggregate or window function by name.
    fn call_registry(&mut self, name: &str, args: Vec<Expr>, distinct: bool, display: String) -> Result<NamedExpr> {
        let ctx = self.session.ctx();
        if let Ok(f) = ctx.udf(name) {
            return Ok(NamedExpr::new(f.call(args), display));
        }
        if ctx.udaf(name).is_ok() {
            return Ok(NamedExpr::new(self.aggregate_call(name, args, distinct)?, display));
        }
        if let Ok(f) = ctx.udwf(name) {
            return Ok(NamedExpr::new(Expr::from(WindowFunction::new(f, args)), display));
        }
        Err(SparkError::unresolved_routine(name).into())
    }

    pub(crate) fn aggregate_call(&self, name: &str, args: Vec<Expr>, distinct: bool) -> Result<Expr> {
        let f = self.session.ctx().udaf(name)?;
        Ok(Expr::AggregateFunction(AggregateFunction::new_udf(f, args, distinct, None, vec![], None)))
    }

    /// `transform`, `filter`, `exists`, `forall`, `aggregate`/`reduce` and
    /// `zip_with` with lambdas, on DataFusion's higher-order functions and ember's
    /// (`crate::functions::hof`).
    fn higher_order(&mut self, name: &str, args: &[Expression], schema: &DFSchema) -> Result<NamedExpr> {
        let unsupported = |what: &str| -> crate::error::Error {
            SparkError::unsupported(format!("the higher-order function {name} {what}")).into()
        };
        if matches!(name, "map_filter" | "transform_keys" | "transform_values") {
            return self.map_higher_order(name, args, schema);
        }
        let function = match name {
            "transform" => "transform",
            "aggregate" | "reduce" | "zip_with" => name,
            "filter" => "array_filter",
            "exists" | "forall" => name,
            _ => return Err(unsupported("with a lambda")),
        };
        // Values come first, then lambdas: (array, λ) or, for aggregate,
        // (array, zero, merge[, finish]).
        let fold = matches!(name, "aggregate" | "reduce");
        let zip = name == "zip_with";
        let (values, max_lambdas) = match (fold, zip) {
            (true, _) => (2, 2),
            (_, true) => (2, 1),
            _ => (1, 1),
        };
        if args.len() <= values || args.len() - values > max_lambdas {
            return Err(wrong_args(name, values + 1, args.len()));
        }
        // A transform lambda may take the index, a fold's merge lambda the
        // accumulator and zip_with's two elements; the others take one.
        let max_params = if fold || zip || name == "transform" { 2 } else { 1 };
        let state = self.session.ctx().state();
        let Some(f) = state.higher_order_functions().get(function).cloned() else {
            return Err(unsupported("with a lambda"));
        };
        let mut call_args = vec![];
        let mut names = vec![];
        for a in &args[..values] {
            let v = self.expr(a, schema)?;
            names.push(v.name);
            call_args.push(v.expr);
        }
        // The lambdas' parameters as the function gives them (`acc` is the
        // zero's type), so that their bodies can reach into structs.
        let params_of = {
            use datafusion::logical_expr::{LambdaParametersProgress, ValueOrLambda};
            let mut fields = vec![];
            for v in &call_args {
                fields.push(ValueOrLambda::Value(v.to_field(schema)?.1));
            }
            fields.extend(args[values..].iter().map(|_| ValueOrLambda::Lambda(None)));
            match f.lambda_parameters(0, &fields) {
                Ok(LambdaParametersProgress::Complete(params)) => params,
                _ => vec![],
            }
        };
        for (i, a) in args[values..].iter().enumerate() {
            let Some(ExprType::LambdaFunction(lambda)) = &a.expr_type else {
                return Err(analysis(format!("argument {} of {name} must be a lambda function", values + i + 1)));
            };
            let params: Vec<String> = lambda.arguments.iter().map(|v| v.name_parts.join(".")).collect();
            // The finish lambda of aggregate takes only the accumulator.
            let allowed = if i == 1 { 1 } else { max_params };
            if params.is_empty() || params.len() > allowed {
                return Err(unsupported(&format!("with a lambda of {} arguments", params.len())));
            }
            let scope = self.lambda_scope.len();
            let fields = params_of.get(i);
            self.lambda_scope
                .extend(params.iter().enumerate().map(|(j, p)| (p.clone(), fields.and_then(|f| f.get(j)).cloned())));
            let body = self.required(&lambda.function, schema);
            self.lambda_scope.truncate(scope);
            let body = body?;
            let body_expr = body.expr;
            names.push(format!("lambdafunction({}, {})", body.name, vec![super::VARIABLE; params.len()].join(", ")));
            call_args.push(Expr::Lambda(datafusion::logical_expr::expr::Lambda::new(params, body_expr)));
        }
        let call = Expr::HigherOrderFunction(datafusion::logical_expr::expr::HigherOrderFunction::new(f, call_args));
        let call = call.resolve_lambda_variables(schema)?.data;
        // aggregate's finish lambda defaults to the identity, which Spark names.
        if fold && args.len() == 3 {
            names.push(format!("lambdafunction({0}, {0})", super::VARIABLE));
        }
        Ok(NamedExpr::new(call, format!("{name}({})", names.join(", "))))
    }
}

impl Planner<'_> {
    /// `map_filter(m, (k, v) -> p)`, `transform_values(m, (k, v) -> e)` and
    /// `transform_keys(m, (k, v) -> e)`: the lambda runs over the map's
    /// entries (`filter` or `transform` of `map_entries(m)`, with `k` and
    /// `v` the entry's key and value), and the result is a map again.
    fn map_higher_order(&mut self, name: &str, args: &[Expression], schema: &DFSchema) -> Result<NamedExpr> {
        use datafusion::common::tree_node::{Transformed, TreeNode};
        use datafusion::functions_nested::expr_fn::{map_entries, map_keys, map_values};
        use datafusion::logical_expr::expr::{HigherOrderFunction, Lambda, LambdaVariable};
        if args.len() != 2 {
            return Err(wrong_args(name, 2, args.len()));
        }
        let map = self.expr(&args[0], schema)?;
        let Some(ExprType::LambdaFunction(lambda)) = &args[1].expr_type else {
            return Err(analysis(format!("argument 2 of {name} must be a lambda function")));
        };
        let params: Vec<String> = lambda.arguments.iter().map(|v| v.name_parts.join(".")).collect();
        let [key, value] = params.as_slice() else {
            return Err(SparkError::unsupported(format!(
                "{name} with a lambda of {} arguments (it takes a key and a value)",
                params.len()
            ))
            .into());
        };
        // The key and value fields of the map's entries.
        let entry_fields = match map.expr.get_type(schema)? {
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => vec![Some(kv[0].clone()), Some(kv[1].clone())],
                _ => vec![None, None],
            },
            _ => vec![None, None],
        };
        let scope = self.lambda_scope.len();
        self.lambda_scope.extend(params.iter().cloned().zip(entry_fields));
        let body = self.required(&lambda.function, schema);
        self.lambda_scope.truncate(scope);
        let body = body?;
        let entry = format!("__ember_entry_{scope}");
        let field = |f: &str| {
            datafusion::functions::core::expr_fn::get_field(
                Expr::LambdaVariable(LambdaVariable::new(entry.clone(), None)),
                f,
            )
        };
        let over_entry = body
            .expr
            .transform(|e| {
                Ok(match &e {
                    Expr::LambdaVariable(v) if &v.name == key => Transformed::yes(field("key")),
                    Expr::LambdaVariable(v) if &v.name == value => Transformed::yes(field("value")),
                    _ => Transformed::no(e),
                })
            })?
            .data;
        let state = self.session.ctx().state();
        let over = if name == "map_filter" { "array_filter" } else { "transform" };
        let Some(f) = state.higher_order_functions().get(over).cloned() else {
            return Err(SparkError::unsupported(format!("{name}: no {over} function")).into());
        };
        let call = Expr::HigherOrderFunction(HigherOrderFunction::new(
            f,
            vec![map_entries(map.expr.clone()), Expr::Lambda(Lambda::new(vec![entry.clone()], over_entry))],
        ))
        .resolve_lambda_variables(schema)?
        .data;
        let ctx = self.session.ctx();
        let result = match name {
            "map_filter" => ctx.udf("map_from_entries")?.call(vec![call]),
            "transform_values" => ctx.udf("map_from_arrays")?.call(vec![map_keys(map.expr), call]),
            _ => ctx.udf("map_from_arrays")?.call(vec![call, map_values(map.expr)]),
        };
        let variables = vec![super::VARIABLE; 2].join(", ");
        Ok(NamedExpr::new(result, format!("{name}({}, lambdafunction({}, {variables}))", map.name, body.name)))
    }
}

impl Planner<'_> {
    /// `map_zip_with(m1, m2, (k, v1, v2) -> e)`: `transform` over the
    /// union of the maps' keys (`m1`'s first), with `v1` and `v2` the key's
    /// value in each map (NULL where a map lacks it), made a map again; NULL
    /// when either map is.
    fn map_zip_with(&mut self, args: &[Expression], schema: &DFSchema) -> Result<NamedExpr> {
        use datafusion::common::tree_node::{Transformed, TreeNode};
        use datafusion::functions_nested::expr_fn::map_keys;
        use datafusion::logical_expr::expr::{HigherOrderFunction, Lambda, LambdaVariable};
        let [m1, m2, f] = args else { return Err(wrong_args("map_zip_with", 3, args.len())) };
        let (m1, m2) = (self.expr(m1, schema)?, self.expr(m2, schema)?);
        let Some(ExprType::LambdaFunction(lambda)) = &f.expr_type else {
            return Err(analysis("argument 3 of map_zip_with must be a lambda function"));
        };
        let params: Vec<String> = lambda.arguments.iter().map(|v| v.name_parts.join(".")).collect();
        let [k, v1, v2] = params.as_slice() else {
            return Err(SparkError::unsupported(format!(
                "map_zip_with with a lambda of {} arguments (it takes a key and two values)",
                params.len()
            ))
            .into());
        };
        let entry = |m: &Expr| -> Result<(
            Option<datafusion::arrow::datatypes::FieldRef>,
            Option<datafusion::arrow::datatypes::FieldRef>,
        )> {
            Ok(match m.get_type(schema)? {
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => (Some(kv[0].clone()), Some(kv[1].clone())),
                    _ => (None, None),
                },
                other => {
                    return Err(analysis(format!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] map_zip_with takes two maps, not {}",
                        crate::types::simple_string(&other)
                    )));
                }
            })
        };
        let ((key, value1), (_, value2)) = (entry(&m1.expr)?, entry(&m2.expr)?);
        let scope = self.lambda_scope.len();
        self.lambda_scope.extend([(k.clone(), key.clone()), (v1.clone(), value1), (v2.clone(), value2)]);
        let body = self.required(&lambda.function, schema);
        self.lambda_scope.truncate(scope);
        let body = body?;
        let key_var = Expr::LambdaVariable(LambdaVariable::new(k.clone(), key));
        let over_key = body
            .expr
            .transform(|e| {
                Ok(match &e {
                    Expr::LambdaVariable(v) if &v.name == v1 => {
                        Transformed::yes(crate::functions::map_lookup(m1.expr.clone(), key_var.clone()))
                    }
                    Expr::LambdaVariable(v) if &v.name == v2 => {
                        Transformed::yes(crate::functions::map_lookup(m2.expr.clone(), key_var.clone()))
                    }
                    _ => Transformed::no(e),
                })
            })?
            .data;
        let state = self.session.ctx().state();
        let Some(transform) = state.higher_order_functions().get("transform").cloned() else {
            return Err(SparkError::unsupported("map_zip_with: no transform function").into());
        };
        let ctx = self.session.ctx();
        let keys = ctx.udf("array_union")?.call(vec![map_keys(m1.expr.clone()), map_keys(m2.expr.clone())]);
        let values = Expr::HigherOrderFunction(HigherOrderFunction::new(
            transform,
            vec![keys.clone(), Expr::Lambda(Lambda::new(vec![k.clone()], over_key))],
        ))
        .resolve_lambda_variables(schema)?
        .data;
        let zipped = ctx.udf("map_from_arrays")?.call(vec![keys, values]);
        let either_null = m1.expr.clone().is_null().or(m2.expr.clone().is_null());
        let e = Expr::Case(Case::new(
            None,
            vec![(Box::new(either_null), Box::new(lit(ScalarValue::Null)))],
            Some(Box::new(zipped)),
        ));
        let variables = vec![super::VARIABLE; 3].join(", ");
        let name = format!("map_zip_with({}, {}, lambdafunction({}, {variables}))", m1.name, m2.name, body.name);
        Ok(NamedExpr::new(e, name))
    }
}

fn one(a: &mut Vec<Expr>, f: &str) -> Result<Expr> {
    if a.len() != 1 {
        return Err(wrong_args(f, 1, a.len()));
    }
    Ok(a.remove(0))
}

fn two(a: &mut Vec<Expr>, f: &str) -> Result<(Expr, Expr)> {
    if a.len() != 2 {
        return Err(wrong_args(f, 2, a.len()));
    }
    let r = a.remove(1);
    let l = a.remove(0);
    Ok((l, r))
}

fn two_or_more(a: &mut Vec<Expr>, f: &str) -> Result<(Expr, Expr)> {
    if a.len() < 2 {
        return Err(wrong_args(f, 2, a.len()));
    }
    let r = a.remove(1);
    let l = a.remove(0);
    Ok((l, r))
}

fn wrong_args(f: &str, expected: usize, got: usize) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Analysis,
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        "42605",
        format!("The `{f}` requires {expected} parameters but the actual number is {got}."),
    )
    .into()
}
