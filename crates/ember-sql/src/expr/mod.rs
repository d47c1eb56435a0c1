//! Connect `Expression` → DataFusion `Expr`, plus the column name Spark
//! gives each expression (`sum(x)`, `(a + b)`, `CAST(a AS INT)`).

mod function;
mod resolve;
mod sql_expr;

pub use resolve::parse_identifier;
pub use sql_expr::fix_identifier_case;

use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{Alias, Sort, WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::{
    Expr, ExprSchemable, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto::Expression;
use spark_connect_proto::expression::{self as pe, ExprType};

use crate::error::{Result, analysis};
use crate::plan::Planner;

/// A translated expression with the output name Spark would give it.
#[derive(Debug, Clone)]
pub struct NamedExpr {
    pub expr: Expr,
    pub name: String,
    /// The name as a column of its own, when it differs (a cast of a
    /// column is named after the column, `CAST(c AS T)` inside another
    /// expression).
    pub top_name: Option<String>,
}

impl NamedExpr {
    pub fn new(expr: Expr, name: impl Into<String>) -> Self {
        Self { expr, name: name.into(), top_name: None }
    }

    /// Named as a select list item.
    pub fn at_top(mut self) -> Self {
        if let Some(top) = self.top_name.take() {
            self.name = top;
        }
        self
    }

    /// The expression as a projection item: aliased to its Spark name
    /// unless it is a plain column of that name already.
    pub fn into_projection(self) -> Expr {
        match &self.expr {
            Expr::Column(c) if c.name == self.name => self.expr,
            Expr::Alias(a) if a.name == self.name => self.expr,
            _ => strip_alias(self.expr).alias(self.name),
        }
    }
}

/// How Spark shows a lambda's variable in a column's name.
pub(crate) const VARIABLE: &str = "namedlambdavariable()";

pub(crate) fn strip_alias(e: Expr) -> Expr {
    match e {
        Expr::Alias(Alias { expr, .. }) => strip_alias(*expr),
        e => e,
    }
}

impl Planner<'_> {
    /// Translates an expression against `schema`.
    pub fn expr(&mut self, e: &Expression, schema: &DFSchema) -> Result<NamedExpr> {
        let Some(t) = &e.expr_type else {
            return Err(analysis("expression without a type"));
        };
        match t {
            ExprType::Literal(l) => {
                let (v, name) = crate::literal::literal(l, &self.session.time_zone())?;
                Ok(NamedExpr::new(Expr::Literal(v, None), name))
            }
            ExprType::UnresolvedAttribute(a) => {
                let (e, name) = self.resolve_attribute(&a.unparsed_identifier, a.plan_id, schema)?;
                Ok(NamedExpr::new(e, name))
            }
            ExprType::UnresolvedFunction(f) => self.function(&f.function_name, &f.arguments, f.is_distinct, schema),
            ExprType::CallFunction(f) => self.function(&f.function_name, &f.arguments, false, schema),
            ExprType::ExpressionString(s) => self.sql_expression(&s.expression, schema),
            ExprType::UnresolvedStar(_) => {
                Err(analysis("[INVALID_USAGE_OF_STAR_OR_REGEX] Invalid usage of '*' in an expression."))
            }
            ExprType::Alias(a) => {
                let inner = self.required(&a.expr, schema)?;
                let name = match a.name.as_slice() {
                    [n] => n.clone(),
                    [] => return Err(analysis("alias without a name")),
                    many => {
                        // `posexplode(x).alias("p", "v")` names a generator's columns.
                        if let Expr::Unnest(u) = strip_alias(inner.expr)
                            && let Some((input, mut g)) = crate::plan::generate::Generator::decode(&u)
                        {
                            g.aliases = many.to_vec();
                            return Ok(NamedExpr::new(g.expr(input), many.join(", ")));
                        }
                        return Err(SparkError::unsupported(format!("multi-name alias ({})", many.join(", "))).into());
                    }
                };
                Ok(NamedExpr::new(strip_alias(inner.expr).alias(name.clone()), name))
            }
            ExprType::Cast(c) => self.cast(c, schema),
            ExprType::SortOrder(_) => Err(analysis("a sort order is only valid in orderBy or a window")),
            ExprType::Window(w) => self.window(w, schema),
            ExprType::UnresolvedExtractValue(x) => self.extract_value(x, schema),
            ExprType::UpdateFields(u) => self.update_fields(u, schema),
            ExprType::UnresolvedNamedLambdaVariable(v) if !self.lambda_scope.is_empty() => {
                let (e, name) = self.resolve_attribute(&v.name_parts.join("."), None, schema)?;
                // Spark names a lambda's variables alike.
                let name = if v.name_parts.len() == 1 { VARIABLE.to_string() } else { name };
                Ok(NamedExpr::new(e, name))
            }
            ExprType::LambdaFunction(_) | ExprType::UnresolvedNamedLambdaVariable(_) => {
                Err(analysis("a lambda function is only valid as an argument of a higher-order function"))
            }
            ExprType::UnresolvedRegex(r) => {
                Err(SparkError::unsupported(format!("column regex `{}`", r.col_name)).into())
            }
            ExprType::CommonInlineUserDefinedFunction(u) => self.python_udf(u, schema),
            ExprType::SubqueryExpression(s) => self.subquery(s, schema),
            other => {
                let dbg = format!("{other:?}");
                Err(SparkError::unsupported(format!("the expression {}", dbg.split('(').next().unwrap_or("?"))).into())
            }
        }
    }

    pub(crate) fn required(&mut self, e: &Option<Box<Expression>>, schema: &DFSchema) -> Result<NamedExpr> {
        match e {
            Some(e) => self.expr(e, schema),
            None => Err(analysis("missing expression")),
        }
    }

    /// Translates a projection list, expanding `*` and `t.*`.
    pub(crate) fn projection(&mut self, exprs: &[Expression], schema: &DFSchema) -> Result<Vec<NamedExpr>> {
        let mut out = vec![];
        for e in exprs {
            match &e.expr_type {
                Some(ExprType::UnresolvedStar(s)) => {
                    for (expr, name) in self.expand_star(s.unparsed_target.as_deref(), s.plan_id, schema)? {
                        out.push(NamedExpr::new(expr, name));
                    }
                }
                // `selectExpr("*")`, `expr("t.*")`.
                Some(ExprType::ExpressionString(s)) if star_text(&s.expression).is_some() => {
                    let target = star_text(&s.expression).flatten();
                    for (expr, name) in self.expand_star(target, None, schema)? {
                        out.push(NamedExpr::new(expr, name));
                    }
                }
                _ => out.push(self.expr(e, schema)?.at_top()),
            }
        }
        Ok(out)
    }

    /// A sort key; Spark's default puts nulls first when ascending, last when descending.
    pub(crate) fn sort_order(&mut self, s: &pe::SortOrder, schema: &DFSchema) -> Result<(Sort, String)> {
        let child = self.required(&s.child, schema)?;
        let asc = s.direction() != pe::sort_order::SortDirection::Descending;
        let nulls_first = match s.null_ordering() {
            pe::sort_order::NullOrdering::SortNullsFirst => true,
            pe::sort_order::NullOrdering::SortNullsLast => false,
            pe::sort_order::NullOrdering::SortNullsUnspecified => asc,
        };
        let name = format!(
            "{} {} NULLS {}",
            child.name,
            if asc { "ASC" } else { "DESC" },
            if nulls_first { "FIRST" } else { "LAST" }
        );
        Ok((Sort::new(strip_alias(child.expr), asc, nulls_first), name))
    }

    fn cast(&mut self, c: &pe::Cast, schema: &DFSchema) -> Result<NamedExpr> {
        let inner = self.required(&c.expr, schema)?;
        let tz = self.session.time_zone();
        let target = match &c.cast_to_type {
            Some(pe::cast::CastToType::Type(t)) => crate::types::to_arrow(t, &tz)?,
            Some(pe::cast::CastToType::TypeStr(s)) => crate::types::parse_ddl_type(s, &tz)?,
            None => return Err(analysis("cast without a target type")),
        };
        let type_name = crate::types::simple_string(&target).to_uppercase();
        let try_mode = c.eval_mode() == pe::cast::EvalMode::Try
            || (!self.session.ansi() && c.eval_mode() != pe::cast::EvalMode::Ansi);
        let column = matches!(strip_alias(inner.expr.clone()), Expr::Column(_));
        let expr = crate::functions::spark_cast(strip_alias(inner.expr), &target, try_mode, schema)?;
        let name = if try_mode && c.eval_mode() == pe::cast::EvalMode::Try {
            format!("TRY_CAST({} AS {type_name})", inner.name)
        } else {
            format!("CAST({} AS {type_name})", inner.name)
        };
        // A cast of a column, as a column of its own, keeps the column's
        // name, as in Spark.
        let mut named = NamedExpr::new(expr, name);
        named.top_name = column.then_some(inner.name);
        Ok(named)
    }

    /// `col[0]`, `col["key"]`, `col.field` via `getItem`/`getField`.
    fn extract_value(&mut self, x: &pe::UnresolvedExtractValue, schema: &DFSchema) -> Result<NamedExpr> {
        let child = self.required(&x.child, schema)?;
        let key = self.required(&x.extraction, schema)?;
        let t = child.expr.get_type(schema)?;
        use datafusion::arrow::datatypes::DataType as D;
        let (expr, name) = match &t {
            D::Struct(fields) => {
                let Expr::Literal(ScalarValue::Utf8(Some(k)), _) = &key.expr else {
                    return Err(analysis("a struct field must be extracted with a string literal"));
                };
                let f = fields
                    .iter()
                    .find(|f| f.name() == k)
                    .or_else(|| fields.iter().find(|f| f.name().eq_ignore_ascii_case(k)))
                    .ok_or_else(|| {
                        SparkError::with_class(
                            ExceptionClass::Analysis,
                            "FIELD_NOT_FOUND",
                            "42704",
                            format!("No such struct field `{k}`."),
                        )
                    })?;
                (
                    datafusion::functions::core::expr_fn::get_field(strip_alias(child.expr), f.name().as_str()),
                    // `r.getField('b')` and `r['b']` are named r.b.
                    format!("{}.{}", child.name, f.name()),
                )
            }
            D::List(_) | D::LargeList(_) => {
                // Spark's array[i] is 0-based.
                let ansi = self.session.ansi();
                (
                    crate::functions::array_index::get_item(strip_alias(child.expr), strip_alias(key.expr), ansi),
                    format!("{}[{}]", child.name, key.name),
                )
            }
            D::Map(..) => (
                crate::functions::map_lookup(strip_alias(child.expr), strip_alias(key.expr)),
                format!("{}[{}]", child.name, key.name),
            ),
            other => {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "INVALID_EXTRACT_BASE_FIELD_TYPE",
                    "42000",
                    format!(
                        "Can't extract a value from \"{}\". Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\".",
                        child.name,
                        crate::types::simple_string(other).to_uppercase()
                    ),
                )
                .into());
            }
        };
        Ok(NamedExpr::new(expr, name))
    }

    /// `withField` / `dropFields`: rebuild the struct with one field (a
    /// path `e.g` reaches into nested structs) set, added or dropped. A NULL
    /// struct stays NULL, as in Spark.
    fn update_fields(&mut self, u: &pe::UpdateFields, schema: &DFSchema) -> Result<NamedExpr> {
        let base = self.required(&u.struct_expression, schema)?;
        let t = base.expr.get_type(schema)?;
        let path = resolve::parse_identifier(&u.field_name)?;
        let value = u.value_expression.as_ref().map(|v| self.expr(v, schema)).transpose()?;
        let shown = match &value {
            Some(v) => format!("WithField({})", v.name),
            None => "dropfield()".to_string(),
        };
        let value = value.map(|v| strip_alias(v.expr));
        let e = updated_struct(strip_alias(base.expr), &t, &path, value.as_ref())?;
        Ok(NamedExpr::new(e, format!("update_fields({}, {shown})", base.name)))
    }

    /// `f(...).over(window)`: an aggregate or ranking function over a window.
    /// A Python UDF called on columns, named `f(a, b)` as in Spark.
    fn python_udf(
        &mut self,
        u: &spark_connect_proto::CommonInlineUserDefinedFunction,
        schema: &DFSchema,
    ) -> Result<NamedExpr> {
        let function = crate::python::function(u, &self.session.time_zone())?;
        let mut args = vec![];
        let mut names = vec![];
        let mut shown = vec![];
        for a in &u.arguments {
            match &a.expr_type {
                Some(ExprType::NamedArgumentExpression(n)) => {
                    let v = self.required(&n.value, schema)?;
                    shown.push(format!("{} => {}", n.key, v.name));
                    names.push(Some(n.key.clone()));
                    args.push(v.expr);
                }
                _ => {
                    let v = self.expr(a, schema)?;
                    shown.push(v.name);
                    names.push(None);
                    args.push(strip_alias(v.expr));
                }
            }
        }
        let name = format!("{}({})", function.name, shown.join(", "));
        let udf = crate::python::udf::PythonUdf::try_new(function, names, &crate::python::env(self.session))?;
        let f = datafusion::logical_expr::ScalarUDF::new_from_impl(udf);
        Ok(NamedExpr::new(f.call(args), name))
    }

    fn window(&mut self, w: &pe::Window, schema: &DFSchema) -> Result<NamedExpr> {
        let func = self.required(&w.window_function, schema)?;
        let mut partition_by = vec![];
        let mut part_names = vec![];
        for p in &w.partition_spec {
            let n = self.expr(p, schema)?;
            part_names.push(n.name.clone());
            partition_by.push(strip_alias(n.expr));
        }
        let mut order_by = vec![];
        let mut order_names = vec![];
        for o in &w.order_spec {
            let (s, n) = self.sort_order(o, schema)?;
            order_by.push(s);
            order_names.push(n);
        }
        // A RANGE offset has the ORDER BY column's type (Spark sends longs).
        let order_type = match order_by.first() {
            Some(s) => Some(s.expr.get_type(schema)?),
            None => None,
        };
        let frame = match &w.frame_spec {
            Some(f) => self.window_frame(f, order_type.as_ref(), schema)?,
            None => WindowFrame::new(if order_by.is_empty() { None } else { Some(false) }),
        };
        let (fun, args, distinct, filter, null_treatment) = match strip_alias(func.expr) {
            // first/last over a frame: DataFusion's window forms, which slide
            // (its aggregates cannot) and keep IGNORE NULLS.
            Expr::AggregateFunction(a)
                if matches!(a.func.name(), "first_value" | "last_value") && !a.params.distinct =>
            {
                let f = datafusion::execution::FunctionRegistry::udwf(self.session.ctx(), a.func.name())?;
                (WindowFunctionDefinition::WindowUDF(f), a.params.args, false, a.params.filter, a.params.null_treatment)
            }
            Expr::AggregateFunction(a) => (
                WindowFunctionDefinition::AggregateUDF(a.func),
                a.params.args,
                a.params.distinct,
                a.params.filter,
                a.params.null_treatment,
            ),
            Expr::WindowFunction(wf) => (wf.fun, wf.params.args, false, None, wf.params.null_treatment),
            _ => {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "UNSUPPORTED_EXPR_FOR_WINDOW",
                    "42P20",
                    format!("Expression \"{}\" not supported within a window function.", func.name),
                )
                .into());
            }
        };
        // Ranking and offset functions need an ordered window.
        if order_by.is_empty()
            && matches!(
                fun.name(),
                "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile" | "lag" | "lead"
            )
        {
            let name = fun.name().to_string();
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "WINDOW_FUNCTION_FRAME_NOT_ORDERED",
                "42601",
                format!("Window function {name} requires the window to be ordered. You need to add an ORDER BY clause. For example: SELECT {name}() OVER (PARTITION BY window_partition ORDER BY window_ordering) FROM table."),
            )
            .param("windowFunction", name)
            .into());
        }
        let expr = Expr::WindowFunction(Box::new(WindowFunction {
            fun,
            params: WindowFunctionParams {
                args,
                partition_by,
                order_by,
                window_frame: frame,
                filter,
                null_treatment,
                distinct,
            },
        }));
        // Spark's ranking functions return int; DataFusion's return unsigned.
        let expr = match &expr {
            Expr::WindowFunction(w) if matches!(w.fun.name(), "row_number" | "rank" | "dense_rank" | "ntile") => {
                datafusion::logical_expr::cast(expr, datafusion::arrow::datatypes::DataType::Int32)
            }
            _ => expr,
        };
        let mut spec = vec![];
        if !part_names.is_empty() {
            spec.push(format!("PARTITION BY {}", part_names.join(", ")));
        }
        if !order_names.is_empty() {
            spec.push(format!("ORDER BY {}", order_names.join(", ")));
        }
        spec.push(shown_frame(&expr, w.frame_spec.is_some(), !order_names.is_empty()));
        Ok(NamedExpr::new(expr, format!("{} OVER ({})", func.name, spec.join(" "))))
    }

    fn window_frame(
        &mut self,
        f: &pe::window::WindowFrame,
        order_type: Option<&datafusion::arrow::datatypes::DataType>,
        schema: &DFSchema,
    ) -> Result<WindowFrame> {
        use pe::window::window_frame::{FrameType, frame_boundary::Boundary};
        let units = match f.frame_type() {
            FrameType::Row => WindowFrameUnits::Rows,
            FrameType::Range => WindowFrameUnits::Range,
            FrameType::Undefined => return Err(analysis("window frame without a type")),
        };
        let mut bound =
            |b: &Option<Box<pe::window::window_frame::FrameBoundary>>, lower: bool| -> Result<WindowFrameBound> {
                let b = b.as_ref().and_then(|b| b.boundary.as_ref());
                Ok(match b {
                    None | Some(Boundary::CurrentRow(_)) => WindowFrameBound::CurrentRow,
                    Some(Boundary::Unbounded(_)) => {
                        if lower {
                            WindowFrameBound::Preceding(ScalarValue::UInt64(None))
                        } else {
                            WindowFrameBound::Following(ScalarValue::UInt64(None))
                        }
                    }
                    Some(Boundary::Value(v)) => {
                        let n = self.expr(v, schema)?;
                        let value = match strip_alias(n.expr) {
                            Expr::Literal(s, _) => s,
                            _ => return Err(analysis("a window frame boundary must be a literal")),
                        };
                        let i = match &value {
                            ScalarValue::Int64(Some(i)) => *i,
                            ScalarValue::Int32(Some(i)) => i64::from(*i),
                            _ => {
                                return Ok(if lower {
                                    WindowFrameBound::Preceding(value)
                                } else {
                                    WindowFrameBound::Following(value)
                                });
                            }
                        };
                        // Spark encodes unbounded as Long.MinValue/MaxValue.
                        if i <= i64::from(i32::MIN) {
                            WindowFrameBound::Preceding(ScalarValue::UInt64(None))
                        } else if i >= i64::from(i32::MAX) {
                            WindowFrameBound::Following(ScalarValue::UInt64(None))
                        } else if i == 0 {
                            WindowFrameBound::CurrentRow
                        } else if i < 0 {
                            WindowFrameBound::Preceding(scalar_like(&value, i.unsigned_abs(), units, order_type)?)
                        } else {
                            WindowFrameBound::Following(scalar_like(&value, i as u64, units, order_type)?)
                        }
                    }
                })
            };
        let start = bound(&f.lower, true)?;
        let end = bound(&f.upper, false)?;
        Ok(WindowFrame::new_bounds(units, start, end))
    }
}

/// A frame offset: a row count for ROWS, a value of the ORDER BY
/// column's type for RANGE.
fn scalar_like(
    orig: &ScalarValue,
    magnitude: u64,
    units: WindowFrameUnits,
    order_type: Option<&datafusion::arrow::datatypes::DataType>,
) -> Result<ScalarValue> {
    Ok(match (units, orig) {
        (WindowFrameUnits::Range, ScalarValue::Int32(_) | ScalarValue::Int64(_)) => {
            let v = ScalarValue::Int64(Some(magnitude as i64));
            match order_type {
                Some(t) if t.is_numeric() => v.cast_to(t)?,
                _ => v,
            }
        }
        _ => ScalarValue::UInt64(Some(magnitude)),
    })
}

/// The frame Spark shows in a window column's name: the one a ranking or
/// offset function fixes (`ROWS BETWEEN -1 FOLLOWING AND -1 FOLLOWING` for
/// `lag(v, 1)`), the one given, or the default: RANGE to the current row
/// when ordered, all ROWS otherwise. Offsets print as `n FOLLOWING`, also
/// negative ones, as Spark prints them.
fn shown_frame(expr: &Expr, specified: bool, ordered: bool) -> String {
    use datafusion::logical_expr::{WindowFrameBound, WindowFrameUnits};
    const TO_CURRENT: &str = "BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW";
    let window = match expr {
        Expr::WindowFunction(w) => w.as_ref(),
        Expr::Cast(c) => match c.expr.as_ref() {
            Expr::WindowFunction(w) => w.as_ref(),
            _ => return String::new(),
        },
        _ => return String::new(),
    };
    match window.fun.name() {
        "row_number" | "rank" | "dense_rank" | "percent_rank" | "ntile" => return format!("ROWS {TO_CURRENT}"),
        "cume_dist" => return format!("RANGE {TO_CURRENT}"),
        f @ ("lag" | "lead") => {
            let offset = match window.params.args.get(1) {
                Some(Expr::Literal(v, _)) => v.cast_to(&datafusion::arrow::datatypes::DataType::Int64).ok(),
                None => Some(ScalarValue::Int64(Some(1))),
                _ => None,
            };
            if let Some(ScalarValue::Int64(Some(n))) = offset {
                let n = if f == "lag" { -n } else { n };
                return format!("ROWS BETWEEN {n} FOLLOWING AND {n} FOLLOWING");
            }
        }
        _ => {}
    }
    if !specified {
        return if ordered {
            format!("RANGE {TO_CURRENT}")
        } else {
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING".to_string()
        };
    }
    let frame = &window.params.window_frame;
    let bound = |b: &WindowFrameBound| match b {
        WindowFrameBound::CurrentRow => "CURRENT ROW".to_string(),
        WindowFrameBound::Preceding(v) if v.is_null() => "UNBOUNDED PRECEDING".to_string(),
        WindowFrameBound::Following(v) if v.is_null() => "UNBOUNDED FOLLOWING".to_string(),
        WindowFrameBound::Preceding(v) => format!("-{v} FOLLOWING"),
        WindowFrameBound::Following(v) => format!("{v} FOLLOWING"),
    };
    let units = match frame.units {
        WindowFrameUnits::Rows => "ROWS",
        WindowFrameUnits::Range => "RANGE",
        WindowFrameUnits::Groups => "GROUPS",
    };
    format!("{units} BETWEEN {} AND {}", bound(&frame.start_bound), bound(&frame.end_bound))
}

/// A SQL expression that is a star: `*` (`Some(None)`) or `t.*`
/// (`Some(Some("t.*"))`).
pub(crate) fn star_text(sql: &str) -> Option<Option<&str>> {
    let sql = sql.trim();
    if sql == "*" {
        return Some(None);
    }
    let qualifier = sql.strip_suffix(".*")?;
    let plain = !qualifier.is_empty()
        && (qualifier.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            || (qualifier.starts_with('`') && qualifier.ends_with('`')));
    plain.then_some(Some(sql))
}

/// `base` (of type `t`) with the field at `path` set to `value`, or
/// dropped when there is no value; NULL where `base` is NULL.
fn updated_struct(
    base: Expr,
    t: &datafusion::arrow::datatypes::DataType,
    path: &[String],
    value: Option<&Expr>,
) -> Result<Expr> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::functions::core::expr_fn::{get_field, named_struct};
    use datafusion::logical_expr::lit;
    let DataType::Struct(fields) = t else {
        return Err(analysis(format!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] update_fields takes a struct, not {}",
            crate::types::simple_string(t)
        )));
    };
    let Some((name, rest)) = path.split_first() else { return Err(analysis("withField needs a field name")) };
    let mut args = vec![];
    let mut found = false;
    for f in fields.iter() {
        let field = get_field(base.clone(), f.name().as_str());
        let updated = if f.name() != name || found {
            Some(field)
        } else if rest.is_empty() {
            found = true;
            value.cloned()
        } else {
            found = true;
            Some(updated_struct(field, f.data_type(), rest, value)?)
        };
        if let Some(v) = updated {
            args.push(lit(f.name().as_str()));
            args.push(v);
        }
    }
    if !found {
        match (value, rest.is_empty()) {
            (Some(v), true) => {
                args.push(lit(name.as_str()));
                args.push(v.clone());
            }
            (Some(_), false) => {
                return Err(analysis(format!(
                    "[FIELD_NOT_FOUND] No such struct field `{name}` in {}.",
                    fields.iter().map(|f| format!("`{}`", f.name())).collect::<Vec<_>>().join(", ")
                )));
            }
            (None, _) => {}
        }
    }
    if args.is_empty() {
        return Err(analysis(
            "[DATATYPE_MISMATCH.CANNOT_DROP_ALL_FIELDS] Cannot drop all fields in struct.".to_string(),
        ));
    }
    let rebuilt = named_struct(args);
    Ok(Expr::Case(datafusion::logical_expr::expr::Case::new(
        None,
        vec![(Box::new(base.is_null()), Box::new(Expr::Literal(ScalarValue::Null, None)))],
        Some(Box::new(rebuilt)),
    )))
}

impl Planner<'_> {
    /// `df.scalar()`, `df.exists()` and `col.isin(df)`: a subquery over a
    /// relation of the enclosing `WithRelations`. (A subquery that refers
    /// to the outer query's columns, `col(...).outer()`, is not supported:
    /// its relation does not resolve on its own.)
    fn subquery(&mut self, s: &spark_connect_proto::SubqueryExpression, schema: &DFSchema) -> Result<NamedExpr> {
        use datafusion::logical_expr::Subquery;
        use datafusion::logical_expr::expr::{Exists, InSubquery};
        use spark_connect_proto::subquery_expression::SubqueryType;
        let plan = self.references.get(&s.plan_id).cloned().ok_or_else(|| {
            analysis(format!("the subquery's relation (plan id {}) is not among the query's references", s.plan_id))
        })?;
        let subquery =
            Subquery { subquery: std::sync::Arc::new(plan), outer_ref_columns: vec![], spans: Default::default() };
        match SubqueryType::try_from(s.subquery_type) {
            Ok(SubqueryType::Scalar) => {
                let columns = subquery.subquery.schema().fields().len();
                if columns != 1 {
                    return Err(SparkError::with_class(
                        ember_common::ExceptionClass::Analysis,
                        "INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN",
                        "42823",
                        format!("Invalid subquery: Scalar subquery must return only one column, but got {columns}."),
                    )
                    .into());
                }
                Ok(NamedExpr::new(Expr::ScalarSubquery(subquery), "scalarsubquery()".to_string()))
            }
            Ok(SubqueryType::Exists) => {
                Ok(NamedExpr::new(Expr::Exists(Exists::new(subquery, false)), "exists()".to_string()))
            }
            Ok(SubqueryType::In) => {
                let [value] = s.in_subquery_values.as_slice() else {
                    return Err(SparkError::unsupported("isin(DataFrame) of several columns").into());
                };
                let value = self.expr(value, schema)?;
                let name = format!("({} IN (listquery()))", value.name);
                Ok(NamedExpr::new(Expr::InSubquery(InSubquery::new(Box::new(value.expr), subquery, false)), name))
            }
            _ => Err(SparkError::unsupported("this kind of subquery expression").into()),
        }
    }
}
