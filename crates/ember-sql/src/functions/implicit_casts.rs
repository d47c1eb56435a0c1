//! Spark's implicit casts into functions. `date_add('2015-04-08', 1)`
//! takes the string (or a timestamp) as a date and the day count as an
//! int (`'1'` too); `upper(14)` and `substring(20240101, 1, 4)` take the
//! number as its text. DataFusion's and datafusion-spark's versions take
//! exact types only, so each is wrapped: the wrapper casts the arguments,
//! then calls it.
//!
//! Floats and timestamps are not cast by Arrow, whose text differs from
//! Spark's (`1e20` for `1.0E20`, `T` between date and time): the wrapper
//! turns them into Spark's text itself (`to_string`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use super::is_text;
use super::to_string::{FloatToString, TimestampToString, differs_from_arrow, spark_text};

/// What an argument becomes.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Arg {
    /// A date: strings, timestamps and NULL are cast.
    Date,
    /// An int (a day count): other integers, strings and NULL are cast.
    Int,
    /// A string: numbers, booleans, dates, timestamps, binary and NULL
    /// are cast.
    Text,
    /// A string, but binary stays binary (`length(X'0102')` counts bytes).
    TextOrBinary,
    /// As the wrapped function coerces it.
    Keep,
}

use Arg::{Date, Int, Keep, Text, TextOrBinary};

/// A wrapped function: its name, its arguments (the last ones may be left
/// out down to `min`).
pub struct Wrapped {
    name: &'static str,
    args: &'static [Arg],
    min: usize,
}

const fn f(name: &'static str, args: &'static [Arg], min: usize) -> Wrapped {
    Wrapped { name, args, min }
}

/// The functions wrapped. DataFusion's aliases (`substr`, `instr`,
/// `char_length`, …) are wrapped with their function.
pub const FUNCTIONS: &[Wrapped] = &[
    f("date_add", &[Date, Int], 2),
    f("date_sub", &[Date, Int], 2),
    f("last_day", &[Date], 1),
    f("next_day", &[Date, Keep], 2),
    f("monthname", &[Date], 1),
    f("weekday", &[Date], 1),
    f("date_diff", &[Date, Date], 2),
    f("upper", &[Text], 1),
    f("lower", &[Text], 1),
    f("initcap", &[Text], 1),
    f("substring", &[Text, Keep, Keep], 2),
    f("replace", &[Text, Text, Text], 2),
    f("repeat", &[Text, Keep], 2),
    f("btrim", &[Text, Text], 1),
    f("ltrim", &[Text, Text], 1),
    f("rtrim", &[Text, Text], 1),
    f("strpos", &[Text, Text], 2),
    f("locate", &[Text, Text, Keep], 2),
    f("position", &[Text, Text, Keep], 2),
    f("levenshtein", &[Text, Text, Keep], 2),
    f("length", &[TextOrBinary], 1),
    f("bit_length", &[TextOrBinary], 1),
    f("octet_length", &[TextOrBinary], 1),
    f("ascii", &[Text], 1),
    f("starts_with", &[Text, Text], 2),
    f("ends_with", &[Text, Text], 2),
    f("contains", &[Text, Text], 2),
    f("like", &[Text, Text, Keep], 2),
    f("regexp_like", &[Text, Text, Keep], 2),
    f("factorial", &[Int], 1),
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ImplicitCasts {
    inner: ScalarUDF,
    /// The inner function's aliases that still name it in the session.
    aliases: Vec<String>,
    args: &'static [Arg],
    min: usize,
    signature: Signature,
}

impl ImplicitCasts {
    fn new(inner: ScalarUDF, aliases: Vec<String>, w: &Wrapped) -> Self {
        let volatility = inner.signature().volatility;
        Self { inner, aliases, args: w.args, min: w.min, signature: Signature::user_defined(volatility) }
    }

    fn arg(&self, i: usize) -> Arg {
        self.args.get(i).copied().unwrap_or(Keep)
    }

    /// Whether argument `i` of type `t` is turned into Spark's text here
    /// rather than by an Arrow cast.
    fn texted_here(&self, i: usize, t: &DataType) -> bool {
        matches!(self.arg(i), Text | TextOrBinary) && differs_from_arrow(t)
    }

    /// The argument types the wrapped function sees.
    fn inner_types(&self, types: &[DataType]) -> Vec<DataType> {
        types.iter().enumerate().map(|(i, t)| if self.texted_here(i, t) { DataType::Utf8 } else { t.clone() }).collect()
    }
}

/// Types Arrow casts to string as Spark does.
fn casts_to_text(t: &DataType) -> bool {
    t.is_integer()
        || t.is_null()
        || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..) | DataType::Boolean | DataType::Date32)
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
}

impl ScalarUDFImpl for ImplicitCasts {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() < self.min || types.len() > self.args.len() {
            let expected = if self.min == self.args.len() {
                self.min.to_string()
            } else {
                format!("[{}, {}]", self.min, self.args.len())
            };
            return datafusion::common::plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {expected} parameters but the actual number is {}.",
                self.name(),
                types.len()
            );
        }
        let cast: Vec<DataType> = types
            .iter()
            .zip(self.args)
            .map(|(t, a)| match a {
                Date if is_text(t) || t.is_null() || matches!(t, DataType::Timestamp(..) | DataType::Date64) => {
                    DataType::Date32
                }
                Int if t.is_integer() || is_text(t) || t.is_null() => DataType::Int32,
                Text if casts_to_text(t) || is_binary(t) => DataType::Utf8,
                TextOrBinary if casts_to_text(t) => DataType::Utf8,
                Text | TextOrBinary if differs_from_arrow(t) => DataType::Utf8,
                _ => t.clone(),
            })
            .collect();
        // The wrapped function's own coercion of the rest (`substring`'s
        // positions to bigint, …).
        let coerced = super::coerced_types(&cast, &self.inner)?;
        // Floats and timestamps stay: `invoke_with_args` makes their text.
        Ok(coerced
            .into_iter()
            .zip(types)
            .enumerate()
            .map(|(i, (c, t))| if self.texted_here(i, t) { t.clone() } else { c })
            .collect())
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(&self.inner_types(types))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields: Vec<FieldRef> = args
            .arg_fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if self.texted_here(i, f.data_type()) {
                    Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8))
                } else {
                    f.clone()
                }
            })
            .collect();
        // A float or timestamp literal is no longer the literal the wrapped
        // function would see.
        let scalars: Vec<Option<&ScalarValue>> = args
            .scalar_arguments
            .iter()
            .enumerate()
            .map(|(i, s)| if self.texted_here(i, args.arg_fields[i].data_type()) { None } else { *s })
            .collect();
        self.inner.return_field_from_args(ReturnFieldArgs { arg_fields: &fields, scalar_arguments: &scalars })
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        // A wrapped function that rewrites itself (`locate`) gets the text.
        let mut texted = Vec::with_capacity(args.len());
        for (i, a) in args.into_iter().enumerate() {
            let t = info.get_data_type(&a)?;
            texted.push(match t {
                DataType::Float32 | DataType::Float64 if self.texted_here(i, &t) => {
                    ScalarUDF::from(FloatToString::new()).call(vec![a])
                }
                DataType::Timestamp(..) if self.texted_here(i, &t) => {
                    ScalarUDF::from(TimestampToString::new()).call(vec![a])
                }
                _ => a,
            });
        }
        self.inner.simplify(texted, info)
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        for i in 0..args.args.len() {
            if !self.texted_here(i, args.arg_fields[i].data_type()) {
                continue;
            }
            let scalar = matches!(args.args[i], ColumnarValue::Scalar(_));
            let values = args.args[i].to_array(if scalar { 1 } else { args.number_rows })?;
            let text = spark_text(&values)?.unwrap_or(values);
            args.args[i] = if scalar {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&text, 0)?)
            } else {
                ColumnarValue::Array(text)
            };
            args.arg_fields[i] = Arc::new(args.arg_fields[i].as_ref().clone().with_data_type(DataType::Utf8));
        }
        self.inner.invoke_with_args(args)
    }
}

/// Wraps the session's functions of `FUNCTIONS`, under their names and
/// those of their aliases that another function has not taken (`position`
/// is DataFusion's alias of `strpos`, but Spark's `locate`).
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    use datafusion::execution::FunctionRegistry;
    for w in FUNCTIONS {
        let Ok(f) = ctx.udf(w.name) else { continue };
        let aliases = f.aliases().iter().filter(|a| ctx.udf(a).is_ok_and(|g| g.name() == f.name())).cloned().collect();
        ctx.register_udf(ScalarUDF::from(ImplicitCasts::new(f.as_ref().clone(), aliases, w)));
    }
}

/// `SUBSTRING(s FROM p [FOR n])`, `POSITION(sub IN s)` and `OVERLAY(s
/// PLACING r FROM p)` (and the calls `substr(…)`, `substring(…)`): the SQL
/// planner plans these forms with functions of its own choosing
/// (datafusion-spark's `substring`, DataFusion's `strpos` and `overlay`)
/// rather than the session's, so they are wrapped or replaced here.
#[derive(Debug)]
pub struct SqlForms;

impl SqlForms {
    fn call(name: &str, inner: Arc<ScalarUDF>, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        let Some(w) = FUNCTIONS.iter().find(|w| w.name == name) else {
            return datafusion::common::internal_err!("{name} is not among the wrapped functions");
        };
        let f = ScalarUDF::from(ImplicitCasts::new(inner.as_ref().clone(), vec![], w));
        Ok(PlannerResult::Planned(f.call(args)))
    }
}

impl ExprPlanner for SqlForms {
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Self::call("substring", datafusion_spark::function::string::substring(), args)
    }

    fn plan_position(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Self::call("strpos", datafusion::functions::unicode::strpos(), args)
    }

    fn plan_overlay(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(ScalarUDF::from(super::overlay::Overlay::new()).call(args)))
    }

    /// `extract(S FROM ts)` in SQL: Spark's fields (`extract`).
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(ScalarUDF::from(super::extract::Extract::new("extract")).call(args)))
    }

    /// `map(k1, v1, …)` in SQL, under `spark.sql.mapKeyDedupPolicy`.
    fn plan_make_map(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        if !args.len().is_multiple_of(2) {
            return Ok(PlannerResult::Original(args));
        }
        let (keys, values): (Vec<_>, Vec<_>) = args.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let (keys, values) = (keys.into_iter().map(|(_, e)| e).collect(), values.into_iter().map(|(_, e)| e).collect());
        Ok(PlannerResult::Planned(super::map::SparkMap::call(keys, values)))
    }
}

/// `12 LIKE '1%'`: Spark casts a LIKE's operands to string, as DataFusion
/// does not. Runs before type coercion, among the analyzer's function
/// rewrites.
#[derive(Debug)]
pub struct LikeText;

impl datafusion::logical_expr::expr_rewriter::FunctionRewrite for LikeText {
    fn name(&self) -> &str {
        "ember_like_text"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &datafusion::common::DFSchema,
        _config: &datafusion::config::ConfigOptions,
    ) -> Result<datafusion::common::tree_node::Transformed<Expr>> {
        use datafusion::common::tree_node::Transformed;
        use datafusion::logical_expr::ExprSchemable;
        let Expr::Like(mut like) = expr else { return Ok(Transformed::no(expr)) };
        let mut changed = false;
        for operand in [&mut like.expr, &mut like.pattern] {
            let t = operand.get_type(schema)?;
            if is_text(&t) || !(casts_to_text(&t) || differs_from_arrow(&t)) || t.is_null() {
                continue;
            }
            let e = std::mem::replace(operand.as_mut(), Expr::Literal(ScalarValue::Null, None));
            *operand.as_mut() = super::string_cast(&e, &DataType::Utf8, schema)
                .unwrap_or_else(|| datafusion::logical_expr::cast(e, DataType::Utf8));
            changed = true;
        }
        // DataFusion runs LIKE with `\\` as the escape only.
        if let Some(escape) = like.escape_char.filter(|c| *c != '\\') {
            *like.pattern = match like.pattern.as_ref() {
                Expr::Literal(ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p)), _) => {
                    Expr::Literal(ScalarValue::Utf8(Some(backslash_escaped(p, escape)?)), None)
                }
                p => ScalarUDF::from(LikeEscape::new(escape)).call(vec![p.clone()]),
            };
            like.escape_char = None;
            changed = true;
        }
        Ok(if changed { Transformed::yes(Expr::Like(like)) } else { Transformed::no(Expr::Like(like)) })
    }
}

/// A LIKE pattern escaped by `escape` as the same pattern escaped by a
/// backslash: `a/_b` with `/` is `a\_b`; a backslash itself is then
/// literal. The escape may precede only `_`, `%` and itself, as in Spark.
fn backslash_escaped(pattern: &str, escape: char) -> Result<String> {
    let mut out = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => match chars.next() {
                Some(n @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(n);
                }
                Some(n) if n == escape => out.push_str(&like_literal(n)),
                Some(n) => {
                    return datafusion::common::plan_err!(
                        "[INVALID_FORMAT.ESC_IN_THE_MIDDLE] The format is invalid: '{pattern}'. The escape character is not allowed to precede '{n}'."
                    );
                }
                None => {
                    return datafusion::common::plan_err!(
                        "[INVALID_FORMAT.ESC_AT_THE_END] The format is invalid: '{pattern}'. The escape character is not allowed to end with."
                    );
                }
            },
            // Wildcards stay wildcards; only a backslash needs escaping now.
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The LIKE patterns of a column, escaped by a character other than a
/// backslash, as backslash-escaped ones (see [`backslash_escaped`]).
#[derive(Debug, PartialEq, Eq, Hash)]
struct LikeEscape {
    escape: char,
    signature: Signature,
}

impl LikeEscape {
    fn new(escape: char) -> Self {
        Self {
            escape,
            signature: Signature::exact(vec![DataType::Utf8], datafusion::logical_expr::Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for LikeEscape {
    fn name(&self) -> &str {
        "ember_like_escape"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::{AsArray, StringArray};
        let patterns = args.args[0].to_array(args.number_rows)?;
        let escaped: StringArray = patterns
            .as_string::<i32>()
            .iter()
            .map(|p| p.map(|p| backslash_escaped(p, self.escape)).transpose())
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new(escaped)))
    }
}

/// `c` as a literal character of a backslash-escaped LIKE pattern.
fn like_literal(c: char) -> String {
    match c {
        '\\' | '%' | '_' => format!("\\{c}"),
        c => c.to_string(),
    }
}
