//! Spark functions DataFusion lacks or defines differently, and the
//! expression builders that give Spark's semantics (division, casts, map
//! lookup, regex split).

mod add_months;
mod aes;
pub mod array_index;
mod arrays;
mod avg;
mod binary;
mod charset;
mod checked;
pub mod checked_sum;
mod conv;
pub mod csv;
pub mod datetime;
mod divide;
pub mod extract;
pub(crate) mod failfast;
mod group_sums;
mod hash;
mod hof;
pub mod implicit_casts;
mod integral_divide;
pub mod intervals;
pub mod json;
mod json_path;
mod logarithm;
pub mod map;
mod mask;
mod mode;
mod moments;
pub mod nullability;
mod numeric;
pub mod overlay;
pub mod percentile;
pub mod promote_strings;
pub(crate) mod raise;
pub mod random;
pub mod range;
mod regexp_extract;
mod rewritten;
mod sample;
pub mod spelled;
mod split;
pub mod text_options;
pub mod time_window;
mod to_string;

pub use failfast::{FailFast, malformed_record};

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, ScalarUDF, cast, lit, try_cast};
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// Registers ember's functions in a session (over DataFusion's and
/// datafusion-spark's of the same name).
pub fn register(ctx: &SessionContext, time_zone: &str) -> Result<()> {
    datetime::register(ctx, time_zone)?;
    for name in ["from_utc_timestamp", "to_utc_timestamp"] {
        if let Ok(inner) = datafusion::execution::FunctionRegistry::udf(ctx, name) {
            ctx.register_udf(ScalarUDF::from(datetime::zone_ids::JavaZoneIds::new(inner, 1)));
        }
    }
    // Spark's avg of decimal(p,s) is decimal(p+4,s+4), rounded half-up
    // (datafusion-spark's returns double, DataFusion's truncates).
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(avg::SparkAvg::new()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(checked_sum::CheckedSum::new()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(percentile::PercentileApprox::new()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(mode::Mode::new()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(moments::CentralMoment::skewness()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(moments::CentralMoment::kurtosis()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(moments::Product::new()));
    // datafusion-spark's make_interval gives NULL on overflow: Spark's
    // try_make_interval.
    if let Ok(f) = datafusion::execution::FunctionRegistry::udf(ctx, "make_interval") {
        ctx.register_udf(f.as_ref().clone().with_aliases(["try_make_interval"]));
    }
    for f in intervals::udfs() {
        ctx.register_udf(f);
    }
    ctx.register_udf(ScalarUDF::from(divide::CheckDivisor::new()));
    ctx.register_udf(ScalarUDF::from(divide::CheckDivisor::remainder()));
    // Registered so stage plans that hold them decode on executors.
    for op in [Operator::Plus, Operator::Minus, Operator::Multiply] {
        ctx.register_udf(ScalarUDF::from(checked::Checked::new(op)));
    }
    ctx.register_udf(ScalarUDF::from(split::SplitRegex::new()));
    ctx.register_udf(ScalarUDF::from(hash::SparkHash::new()));
    for form in array_index::FORMS {
        ctx.register_udf(ScalarUDF::from(form));
    }
    ctx.register_udf(ScalarUDF::from(crate::partition_id::SparkPartitionId::new()));
    ctx.register_udf(ScalarUDF::from(crate::partition_id::SparkPartitionId::monotonically_increasing_id()));
    ctx.register_udf(ScalarUDF::from(sample::SampleRand::new()));
    ctx.register_udf(ScalarUDF::from(random::SparkRandom::rand()));
    ctx.register_udf(ScalarUDF::from(conv::Conv::new()));
    ctx.register_udf(ScalarUDF::from(random::SparkRandom::randn()));
    ctx.register_udf(ScalarUDF::from(add_months::AddMonths::new()));
    ctx.register_udf(ScalarUDF::from(integral_divide::IntegralDivide::new()));
    use numeric::Rounding;
    let bround = ScalarUDF::from(numeric::BRound::new());
    ctx.register_udf(ScalarUDF::from(numeric::DecimalRound::new(bround, Rounding::HalfEven)));
    for (name, mode) in [("round", Rounding::HalfUp), ("ceil", Rounding::Ceiling), ("floor", Rounding::Floor)] {
        if let Ok(f) = datafusion::execution::FunctionRegistry::udf(ctx, name) {
            ctx.register_udf(ScalarUDF::from(numeric::DecimalRound::new(f.as_ref().clone(), mode)));
        }
    }
    ctx.register_udf(ScalarUDF::from(numeric::FormatNumber::new()));
    for kind in logarithm::Kind::ALL {
        ctx.register_udf(ScalarUDF::from(logarithm::Logarithm::new(kind)));
    }
    ctx.register_udf(ScalarUDF::from(mask::Mask::new()));
    ctx.register_udf(ScalarUDF::from(overlay::Overlay::new()));
    ctx.register_udf(ScalarUDF::from(time_window::TimeWindows::new()));
    ctx.register_udf(ScalarUDF::from(charset::CharsetCoding::encode()));
    ctx.register_udf(ScalarUDF::from(charset::CharsetCoding::decode()));
    for lenient in [false, true] {
        ctx.register_udf(ScalarUDF::from(charset::ToBinary::new(lenient)));
    }
    ctx.register_udf(ScalarUDF::from(to_string::FloatToString::new()));
    ctx.register_udf(ScalarUDF::from(to_string::TimestampToString::new()));
    ctx.register_udf(ScalarUDF::from(regexp_extract::RegexpExtract::new()));
    ctx.register_udf(ScalarUDF::from(regexp_extract::RegexpExtract::all()));
    ctx.register_udf(ScalarUDF::from(raise::Raise::raise_error()));
    ctx.register_udf(ScalarUDF::from(raise::Raise::assert_true()));
    ctx.register_udf(ScalarUDF::from(raise::Raise::illegal_argument()));
    ctx.register_udf(ScalarUDF::from(failfast::FailFast::new()));
    for name in extract::Extract::NAMES {
        ctx.register_udf(ScalarUDF::from(extract::Extract::new(name)));
    }
    for direction in [aes::Direction::Encrypt, aes::Direction::Decrypt, aes::Direction::TryDecrypt] {
        ctx.register_udf(ScalarUDF::from(aes::Aes::new(direction)));
    }
    use rewritten::{Form, MaxMinBy, Rewritten};
    for form in [
        Form::SortArray,
        Form::ArraySort,
        Form::Locate("locate"),
        Form::Locate("position"),
        Form::TryDivide,
        Form::TryElementAt,
        Form::Get,
        Form::ElementAt,
        Form::Sequence,
        Form::TypeOf,
        Form::RegexpReplace,
        Form::MapContainsKey,
        Form::Nvl2,
    ] {
        ctx.register_udf(ScalarUDF::from(Rewritten::new(form)));
    }
    for name in crate::plan::generate::SqlGenerator::NAMES {
        ctx.register_udf(ScalarUDF::from(crate::plan::generate::SqlGenerator::new(name)));
    }
    ctx.register_udf(ScalarUDF::from(crate::plan::generate::SqlGeneratorPart::new()));
    for form in spelled::Spelled::all() {
        ctx.register_udf(ScalarUDF::from(spelled::SpelledUdf::new(form)));
    }
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(spelled::CountIf::new()));
    for name in ["listagg", "string_agg"] {
        ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(spelled::ListAgg::new(name)));
    }
    for form in json::JsonFn::ALL {
        ctx.register_udf(ScalarUDF::from(json::Json::new(form)));
    }
    for form in csv::CsvFn::ALL {
        ctx.register_udf(ScalarUDF::from(csv::Csv::new(form)));
    }
    implicit_casts::register(ctx);
    arrays::register(ctx);
    for (op, name) in binary::Op::ALL {
        if let Ok(text) = datafusion::execution::FunctionRegistry::udf(ctx, name) {
            ctx.register_udf(ScalarUDF::from(binary::OnBytes::new(text.as_ref().clone(), op)));
        }
    }
    datafusion::execution::FunctionRegistry::register_function_rewrite(
        &mut *ctx.state_ref().write(),
        Arc::new(implicit_casts::LikeText),
    )?;
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(MaxMinBy::new(true)));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(MaxMinBy::new(false)));
    // Spark's higher-order functions, by their Spark names (SQL text finds
    // them there; DataFrame lambdas too, see `expr::function`).
    use datafusion::logical_expr::HigherOrderUDF;
    ctx.register_higher_order_function(Arc::new(HigherOrderUDF::new_from_impl(hof::Transform::new())));
    ctx.register_higher_order_function(Arc::new(HigherOrderUDF::new_from_impl(hof::ZipWith::new())));
    for all in [false, true] {
        ctx.register_higher_order_function(Arc::new(HigherOrderUDF::new_from_impl(hof::Quantifier::new(all))));
    }
    ctx.register_higher_order_function(Arc::new(HigherOrderUDF::new_from_impl(hof::Aggregate::new("aggregate"))));
    ctx.register_higher_order_function(Arc::new(HigherOrderUDF::new_from_impl(hof::Aggregate::new("reduce"))));
    if let Some(filter) = ctx.state().higher_order_functions().get("array_filter").cloned() {
        ctx.register_higher_order_function(Arc::new(filter.as_ref().clone().with_aliases(["filter"])));
    }
    ctx.register_udtf("range", Arc::new(range::SparkRange));
    register_spark_names(ctx);
    nullability::register(ctx);
    Ok(())
}

/// Spark's names of functions DataFusion has under another name: `std`
/// is `stddev`, `lcase` is `lower`, ….
pub const SPARK_NAMES: &[(&str, &str)] = &[
    ("mean", "avg"),
    ("first", "first_value"),
    ("last", "last_value"),
    ("std", "stddev"),
    ("stddev_samp", "stddev"),
    ("variance", "var_samp"),
    ("every", "bool_and"),
    ("some", "bool_or"),
    ("any", "bool_or"),
    ("rlike", "regexp_like"),
    ("regexp", "regexp_like"),
    ("startswith", "starts_with"),
    ("endswith", "ends_with"),
    ("datediff", "date_diff"),
    ("lcase", "lower"),
    ("ucase", "upper"),
    ("char_length", "length"),
    ("character_length", "length"),
    ("ceiling", "ceil"),
    ("power", "pow"),
    ("sign", "signum"),
    ("cardinality", "size"),
    // The exact percentile, interpolated.
    ("percentile", "percentile_cont"),
    // Spark's removes every occurrence; DataFusion's `array_remove` the first.
    ("array_remove", "array_remove_all"),
    ("current_timestamp", "now"),
    // Spark's skips NULLs; DataFusion's keeps them.
    ("array_agg", "collect_list"),
    // Spark's differs only where a decimal sum overflows (NULL, here an error).
    ("try_avg", "avg"),
];

/// The message of `assert_true(cond)` when it has none of its own.
pub fn assert_true_message(condition: &str) -> String {
    format!("'{condition}' is not true!")
}

/// The arguments Spark shows in a function's name: the defaults a call
/// left out (`split(s, ',')` is named `split(s, ,, -1)`), and not the
/// flags it leaves out of the name (`first(x, true)` is `first(x)`).
pub fn shown_args(name: &str, args: &mut Vec<String>) {
    if matches!(
        name,
        "first"
            | "last"
            | "first_value"
            | "last_value"
            | "any_value"
            | "approx_count_distinct"
            | "mode"
            | "shuffle"
            // The schema and options are not the expression's children in Spark.
            | "from_json"
            | "from_csv"
            | "to_json"
            | "to_csv"
            | "schema_of_csv"
    ) {
        args.truncate(1);
    }
    // assert_true(cond)'s message names the condition.
    if name == "assert_true" && args.len() == 1 {
        let message = assert_true_message(&args[0]);
        args.push(message);
    }
    // Spark's name of try_make_timestamp leaves out the time zone.
    if name == "try_make_timestamp" {
        args.truncate(6);
    }
    let defaults: &[&str] = match (name, args.len()) {
        ("split", 2) => &["-1"],
        ("substr", 2) => &["2147483647"],
        ("replace", 2) => &[""],
        ("lag" | "lead", 1) => &["1", "NULL"],
        ("lag" | "lead", 2) => &["NULL"],
        ("round" | "bround", 1) => &["0"],
        ("months_between", 2) => &["true"],
        ("from_unixtime" | "unix_timestamp" | "to_unix_timestamp", 1) => &["yyyy-MM-dd HH:mm:ss"],
        ("regexp_instr", 2) => &["0"],
        ("sort_array", 1) => &["true"],
        ("str_to_map", 1) => &[",", ":"],
        ("str_to_map", 2) => &[":"],
        ("mask", 1) => &["X", "x", "n", "NULL"],
        ("mask", 2) => &["x", "n", "NULL"],
        ("mask", 3) => &["n", "NULL"],
        ("mask", 4) => &["NULL"],
        ("regexp_replace", 3) => &["1"],
        ("regexp_extract" | "regexp_extract_all", 2) => &["1"],
        // percentile's frequency.
        ("percentile", 2) => &["1"],
        ("locate" | "position", 2) => &["1"],
        ("aes_encrypt", 2) => &["GCM", "DEFAULT", "", ""],
        ("aes_encrypt", 3) => &["DEFAULT", "", ""],
        ("aes_encrypt", 4) => &["", ""],
        ("aes_encrypt", 5) | ("aes_decrypt" | "try_aes_decrypt", 4) => &[""],
        ("aes_decrypt" | "try_aes_decrypt", 2) => &["GCM", "DEFAULT", ""],
        ("aes_decrypt" | "try_aes_decrypt", 3) => &["DEFAULT", ""],
        ("percentile_approx" | "approx_percentile", 2) => &["10000"],
        _ => &[],
    };
    args.extend(defaults.iter().map(|d| d.to_string()));
}

/// Spark's name of a function in a column's name: the name it was called
/// by, upper case where Spark prints it so (`SIN(x)`, `POWER(a, b)` but
/// `pow(a, b)`, `RLIKE(s, p)`, `LOG(2.0, x)`, `CEIL(x)` but `ceil(x, 1)`).
pub fn pretty_name(name: &str, args: usize) -> String {
    const UPPER: &[&str] = &[
        "power",
        "sqrt",
        "rlike",
        "regexp",
        "regexp_like",
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "sinh",
        "cosh",
        "tanh",
        "asin",
        "acos",
        "atan",
        "asinh",
        "acosh",
        "atanh",
        "atan2",
        "cbrt",
        "exp",
        "expm1",
        "log10",
        "log2",
        "log1p",
        "signum",
        "radians",
        "degrees",
        "pi",
        "hypot",
        "e",
        "rank",
        "dense_rank",
        "percent_rank",
        "spark_partition_id",
    ];
    match name {
        "log" if args == 2 => "LOG".to_string(),
        "array_agg" => "collect_list".to_string(),
        "current_database" => "current_schema".to_string(),
        "curdate" => "current_date".to_string(),
        "dateadd" if args == 2 => "date_add".to_string(),
        "dateadd" | "timestamp_add" => "timestampadd".to_string(),
        "datediff" | "date_diff" | "timestamp_diff" if args == 3 => "timestampdiff".to_string(),
        // ceil(x, scale) keeps its case.
        "ceil" | "floor" if args == 1 => name.to_ascii_uppercase(),
        n if UPPER.contains(&n) => n.to_ascii_uppercase(),
        n => n.to_string(),
    }
}

/// DataFusion's name for a Spark function name.
pub fn registry_name(spark: &str) -> &str {
    SPARK_NAMES.iter().find(|(s, _)| *s == spark).map_or(spark, |(_, r)| r)
}

/// Makes SQL text find functions by their Spark names too (the DataFrame
/// planner maps names with `registry_name`).
fn register_spark_names(ctx: &SessionContext) {
    use datafusion::execution::FunctionRegistry;
    for (spark, registered) in SPARK_NAMES {
        // DataFusion's own `cardinality` counts as a bigint; Spark's is
        // `size`, an int.
        let same = |name: &str| name == *registered;
        if ctx.udf(spark).is_ok_and(|f| same(f.name())) || ctx.udaf(spark).is_ok_and(|f| same(f.name())) {
            continue;
        }
        if let Ok(f) = ctx.udf(registered) {
            ctx.register_udf(f.as_ref().clone().with_aliases([*spark]));
        } else if let Ok(f) = ctx.udaf(registered) {
            ctx.register_udaf(f.as_ref().clone().with_aliases([*spark]));
        }
    }
}

/// The rows `stack(rows, values…)` makes: `rows` rows of fields col0,
/// col1, … taking the values in order, the last row padded with `null`.
/// (The SQL and the DataFrame planner each build them as their own
/// expressions.)
pub fn stack_rows<T: Clone>(values: &[T], rows: usize, null: impl Fn() -> T) -> Vec<Vec<(String, T)>> {
    let width = values.len().div_ceil(rows.max(1));
    (0..rows)
        .map(|r| {
            (0..width).map(|c| (format!("col{c}"), values.get(r * width + c).cloned().unwrap_or_else(&null))).collect()
        })
        .collect()
}

/// The argument types function `f` coerces `types` to.
pub(crate) fn coerced_types(types: &[DataType], f: &ScalarUDF) -> datafusion::common::Result<Vec<DataType>> {
    use datafusion::arrow::datatypes::{Field, FieldRef};
    let fields: Vec<FieldRef> = types.iter().map(|t| Arc::new(Field::new("a", t.clone(), true))).collect();
    let coerced = datafusion::logical_expr::type_coercion::functions::fields_with_udf(&fields, f)?;
    Ok(coerced.iter().map(|f| f.data_type().clone()).collect())
}

/// An argument of a function on doubles: numbers, NULL and (as Spark's
/// implicit cast does) strings are taken as doubles.
pub(crate) fn as_double(function: &str, t: &DataType) -> datafusion::common::Result<DataType> {
    if t.is_numeric() || t.is_null() || is_text(t) {
        return Ok(DataType::Float64);
    }
    datafusion::common::plan_err!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] {function} takes a number, not {}",
        crate::types::simple_string(t)
    )
}

/// Whether a type is text (any of Arrow's string types).
pub(crate) fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether Spark's `/` of these operand types is a decimal division (one
/// side decimal, the other decimal or integral); otherwise it is a double
/// one.
pub fn divides_as_decimal(l: &DataType, r: &DataType) -> bool {
    let dec = |t: &DataType| matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..));
    (dec(l) || l.is_integer()) && (dec(r) || r.is_integer()) && (dec(l) || dec(r))
}

/// Spark's `/`: integral and floating operands divide as doubles; decimals
/// stay decimal. Under ANSI a zero divisor raises `DIVIDE_BY_ZERO`,
/// otherwise it gives null.
pub fn spark_divide(l: Expr, r: Expr, schema: &DFSchema, ansi: bool) -> Result<Expr> {
    let (l, r) = promote_strings::string_operands(l, Operator::Divide, r, schema, ansi);
    let lt = l.get_type(schema)?;
    let rt = r.get_type(schema)?;
    let (l, r) =
        if divides_as_decimal(&lt, &rt) { (l, r) } else { (cast(l, DataType::Float64), cast(r, DataType::Float64)) };
    let r = if ansi {
        ScalarUDF::from(divide::CheckDivisor::new()).call(vec![r])
    } else {
        datafusion::functions::core::expr_fn::nullif(r, lit(ScalarValue::Int32(Some(0))))
    };
    Ok(l / r)
}

/// Spark's `+`, `-`, `*` and `%`: under ANSI, integer `+ - *` raise
/// `ARITHMETIC_OVERFLOW` instead of wrapping and `%` by zero raises
/// `REMAINDER_BY_ZERO`; otherwise `%` by zero gives NULL.
pub fn spark_arithmetic(l: Expr, op: Operator, r: Expr, schema: &DFSchema, ansi: bool) -> Result<Expr> {
    let (l, r) = promote_strings::string_operands(l, op, r, schema, ansi);
    let integral = |e: &Expr| e.get_type(schema).map(|t| t.is_integer()).unwrap_or(false);
    Ok(match op {
        Operator::Plus | Operator::Minus | Operator::Multiply if ansi && integral(&l) && integral(&r) => {
            ScalarUDF::from(checked::Checked::new(op)).call(vec![l, r])
        }
        Operator::Modulo if ansi => binary(l, op, ScalarUDF::from(divide::CheckDivisor::remainder()).call(vec![r])),
        Operator::Modulo => {
            binary(l, op, datafusion::functions::core::expr_fn::nullif(r, lit(ScalarValue::Int32(Some(0)))))
        }
        _ => binary(l, op, r),
    })
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

/// Whether `e` is a divisor [`spark_divide`] already checks for zero.
pub fn is_checked_divisor(e: &Expr) -> bool {
    matches!(e, Expr::ScalarFunction(f) if f.func.name() == "ember_check_divisor")
}

/// `CAST(x AS T)`: ANSI casts fail on bad input; `try_cast` gives null.
pub fn spark_cast(e: Expr, target: &DataType, try_mode: bool, schema: &DFSchema) -> Result<Expr> {
    if let Some(e) = string_cast(&e, target, schema) {
        return Ok(e);
    }
    if let Some(e) = epoch_cast(&e, target, schema) {
        return Ok(e);
    }
    Ok(if try_mode { try_cast(e, target.clone()) } else { cast(e, target.clone()) })
}

/// A cast between a timestamp and a number, which Spark reads as seconds
/// since the epoch (Arrow as microseconds): a timestamp as an integer is
/// its whole seconds (rounded down), as a double its seconds; a number as a
/// timestamp is that many seconds. `None` for other casts.
pub fn epoch_cast(e: &Expr, target: &DataType, schema: &DFSchema) -> Option<Expr> {
    const MICROS: i64 = 1_000_000;
    let source = e.get_type(schema).ok()?;
    let micros_of = |e: Expr| cast(e, DataType::Int64);
    match (&source, target) {
        (DataType::Timestamp(..), t) if t.is_integer() => {
            let m = micros_of(e.clone());
            // floorDiv(m, 10^6): the remainder made non-negative first.
            let rem = (m.clone() % lit(MICROS) + lit(MICROS)) % lit(MICROS);
            Some(cast((m - rem) / lit(MICROS), t.clone()))
        }
        (DataType::Timestamp(..), DataType::Float64 | DataType::Float32) => {
            Some(cast(cast(micros_of(e.clone()), DataType::Float64) / lit(MICROS as f64), target.clone()))
        }
        (s, DataType::Timestamp(unit, tz)) if s.is_integer() => {
            let micros = cast(e.clone(), DataType::Int64) * lit(MICROS);
            Some(cast(
                cast(micros, DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, tz.clone())),
                DataType::Timestamp(*unit, tz.clone()),
            ))
        }
        (DataType::Float64 | DataType::Float32 | DataType::Decimal128(..), DataType::Timestamp(unit, tz)) => {
            let micros = cast(cast(e.clone(), DataType::Float64) * lit(MICROS as f64), DataType::Int64);
            Some(cast(
                cast(micros, DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, tz.clone())),
                DataType::Timestamp(*unit, tz.clone()),
            ))
        }
        _ => None,
    }
}

/// A cast to string of a double (`1.0E20`, where Arrow prints `1e20`) or a
/// timestamp (`2024-01-01 12:00:00`, not `2024-01-01T12:00:00`), as Spark
/// prints them; `None` for other casts.
pub fn string_cast(e: &Expr, target: &DataType, schema: &DFSchema) -> Option<Expr> {
    if target != &DataType::Utf8 {
        return None;
    }
    match e.get_type(schema).ok()? {
        DataType::Float32 | DataType::Float64 => {
            Some(ScalarUDF::from(to_string::FloatToString::new()).call(vec![e.clone()]))
        }
        DataType::Timestamp(..) => Some(ScalarUDF::from(to_string::TimestampToString::new()).call(vec![e.clone()])),
        DataType::Interval(_) | DataType::Duration(_) => {
            intervals::IntervalText::call(e.clone(), &e.to_field(schema).ok()?.1)
        }
        _ => None,
    }
}

/// `map[key]`: the value for `key`, or null.
pub fn map_lookup(map: Expr, key: Expr) -> Expr {
    datafusion::functions_nested::expr_fn::array_element(
        datafusion::functions_nested::expr_fn::map_extract(map, key),
        lit(1i64),
    )
}

/// Spark's `split(str, regex[, limit])`.
pub fn spark_split(s: Expr, pattern: Expr, limit: Option<Expr>) -> Result<Expr> {
    let mut args = vec![s, pattern];
    args.extend(limit);
    Ok(Arc::new(ScalarUDF::from(split::SplitRegex::new())).call(args))
}

/// The per-row uniform value `sample()` filters on.
pub fn sample_udf() -> ScalarUDF {
    ScalarUDF::from(sample::SampleRand::new())
}

/// Parses strings with a Java datetime pattern into a date or timestamp,
/// null where they do not parse (CSV `dateFormat`/`timestampFormat`).
pub fn try_parse_datetime(src: Expr, pattern: &str, target: DataType) -> Expr {
    match &target {
        DataType::Date32 => ScalarUDF::from(datetime::ToDate::new_try(None)).call(vec![src, lit(pattern)]),
        DataType::Timestamp(_, tz) => {
            cast(ScalarUDF::from(datetime::ToTimestamp::new_try(tz.clone())).call(vec![src, lit(pattern)]), target)
        }
        _ => try_cast(src, target),
    }
}
