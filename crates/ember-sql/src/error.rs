//! The error type of ember-sql: a DataFusion error or a Spark error. The
//! gRPC edge maps both to Spark's exception classes (see `classify`).

use datafusion::common::DataFusionError;
use ember_common::{ExceptionClass, SparkError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spark(#[from] SparkError),
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            Error::Spark(e) => DataFusionError::External(Box::new(e)),
            Error::Arrow(e) => DataFusionError::ArrowError(Box::new(e), None),
            Error::Io(e) => DataFusionError::IoError(e),
        }
    }
}

/// Spark's view of any error: its exception class, error class and message.
pub fn classify(e: &Error) -> SparkError {
    match e {
        Error::Spark(s) => s.clone(),
        Error::DataFusion(d) => classify_datafusion(d),
        Error::Arrow(a) => classify_arrow(a),
        Error::Io(io) => SparkError::new(ExceptionClass::Runtime, io.to_string()),
    }
}

pub fn classify_datafusion(e: &DataFusionError) -> SparkError {
    match e {
        DataFusionError::External(inner) => {
            if let Some(s) = inner.downcast_ref::<SparkError>() {
                return s.clone();
            }
            if let Some(d) = inner.downcast_ref::<DataFusionError>() {
                return classify_datafusion(d);
            }
            if let Some(a) = inner.downcast_ref::<arrow::error::ArrowError>() {
                return classify_arrow(a);
            }
            SparkError::new(ExceptionClass::Runtime, inner.to_string())
        }
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => classify_datafusion(inner),
        DataFusionError::Shared(inner) => classify_datafusion(inner),
        DataFusionError::Collection(errs) => errs
            .first()
            .map(classify_datafusion)
            .unwrap_or_else(|| SparkError::new(ExceptionClass::Runtime, e.to_string())),
        DataFusionError::ArrowError(a, _) => classify_arrow(a),
        DataFusionError::SQL(p, _) => {
            let msg = p.to_string();
            let msg = msg.strip_prefix("sql parser error: ").unwrap_or(&msg).to_string();
            if msg.starts_with('[') {
                SparkError::new(ExceptionClass::Parse, msg).with_error_class_from_message()
            } else {
                // sqlparser says "Expected: X, found: TOKEN at Line: l, Column: c".
                let found =
                    msg.split("found: ").nth(1).map(|r| r.split(" at Line").next().unwrap_or(r).trim().to_string());
                let error = match found.as_deref() {
                    Some("EOF") | None => "end of input".to_string(),
                    Some(t) => format!("'{t}'"),
                };
                SparkError::with_class(
                    ExceptionClass::Parse,
                    "PARSE_SYNTAX_ERROR",
                    "42601",
                    format!("Syntax error at or near {error}. ({msg})"),
                )
                .param("error", error)
                .param("hint", "")
            }
        }
        DataFusionError::SchemaError(s, _) => {
            let msg = s.to_string();
            match s.as_ref() {
                datafusion::common::SchemaError::FieldNotFound { field, valid_fields } => {
                    let cands: Vec<String> = valid_fields.iter().map(|c| c.name.clone()).take(5).collect();
                    SparkError::unresolved_column(&field.name, &cands)
                }
                datafusion::common::SchemaError::AmbiguousReference { field } => SparkError::with_class(
                    ExceptionClass::Analysis,
                    "AMBIGUOUS_REFERENCE",
                    "42704",
                    format!("Reference `{}` is ambiguous.", field.name),
                ),
                _ => SparkError::analysis(msg),
            }
        }
        DataFusionError::Plan(m) => {
            let s = SparkError::analysis(strip_df_prefix(m));
            if m.contains("table") && m.contains("not found") {
                // DataFusion names the table in full: the name as written
                // is what follows its default catalog (and the schema of
                // unqualified names).
                let qualified = m.split('\'').nth(1).unwrap_or(m);
                let name = qualified.strip_prefix("datafusion.").unwrap_or(qualified);
                let name = name.strip_prefix("public.").unwrap_or(name);
                return SparkError::table_not_found(name);
            }
            if let Some(rest) = m.strip_prefix("Invalid function '") {
                let name = rest.split('\'').next().unwrap_or(rest);
                return SparkError::unresolved_routine(name);
            }
            if let Some(e) = plan_error_class(m) {
                return e;
            }
            s.with_error_class_from_message()
        }
        DataFusionError::Internal(m) => function_types_mismatch(m)
            .unwrap_or_else(|| SparkError::new(ExceptionClass::Runtime, strip_df_prefix(&e.to_string()))),
        DataFusionError::NotImplemented(m) => SparkError::unsupported(m.clone()),
        DataFusionError::Execution(m) => {
            if m.contains("Divide by zero") || m.contains("DIVIDE_BY_ZERO") {
                return divide_by_zero();
            }
            if m.contains("Scalar subquery returned more than one row") {
                return SparkError::with_class(
                    ExceptionClass::Spark,
                    "SCALAR_SUBQUERY_TOO_MANY_ROWS",
                    "21000",
                    "More than one row returned by a subquery used as an expression.",
                );
            }
            runtime_from_message(m)
        }
        DataFusionError::ExecutionJoin(j) => SparkError::new(ExceptionClass::Runtime, j.to_string()),
        DataFusionError::ResourcesExhausted(m) => SparkError::with_class(
            ExceptionClass::Runtime,
            "UNABLE_TO_ACQUIRE_MEMORY",
            "53200",
            format!("Unable to acquire memory: {m}"),
        ),
        DataFusionError::IoError(io) => SparkError::new(ExceptionClass::Runtime, io.to_string()),
        DataFusionError::ObjectStore(os) => match os.as_ref() {
            object_store::Error::NotFound { path, .. } => SparkError::path_not_found(path),
            other => SparkError::new(ExceptionClass::Runtime, other.to_string()),
        },
        other => SparkError::new(ExceptionClass::Runtime, strip_df_prefix(&other.to_string())),
    }
}

/// Spark's error classes for DataFusion planning errors that have one.
fn plan_error_class(m: &str) -> Option<SparkError> {
    let m = strip_df_prefix(m);
    // "'abs' does not support zero arguments."
    if let Some(name) = m.strip_prefix('\'').and_then(|r| r.split_once("' does not support zero arguments")) {
        let name = name.0;
        return Some(
            SparkError::with_class(
                ExceptionClass::Analysis,
                "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                "42605",
                format!("The `{name}` requires at least 1 parameters but the actual number is 0."),
            )
            .param("functionName", format!("`{name}`"))
            .param("actualNum", "0"),
        );
    }
    if let Some(e) = function_types_mismatch(&m) {
        return Some(e);
    }
    // "Cannot coerce arithmetic expression List(Int64) + Int64 to valid types"
    if let Some(rest) = m.strip_prefix("Cannot coerce arithmetic expression ") {
        let expr = rest.strip_suffix(" to valid types").unwrap_or(rest);
        return Some(SparkError::with_class(
            ExceptionClass::Analysis,
            "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
            "42K09",
            format!(
                "Cannot resolve \"{expr}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types."
            ),
        ));
    }
    // "Cannot find column with position 5 in SELECT clause. Valid columns: 1 to 1"
    if let Some(rest) = m.strip_prefix("Cannot find column with position ") {
        let index = rest.split(' ').next().unwrap_or_default();
        let size = rest.rsplit(' ').next().unwrap_or_default();
        return Some(
            SparkError::with_class(
                ExceptionClass::Analysis,
                "GROUP_BY_POS_OUT_OF_RANGE",
                "42805",
                format!("GROUP BY position {index} is not in select list (valid range is [1, {size}])."),
            )
            .param("index", index)
            .param("size", size),
        );
    }
    None
}

/// DataFusion's "Function 'md5' failed to match any signature" (and its
/// other wordings of a function given arguments of types it does not
/// take): Spark's DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE.
fn function_types_mismatch(m: &str) -> Option<SparkError> {
    let m = strip_df_prefix(m);
    const MARKERS: &[&str] =
        &["failed to match any signature", "No function matches the given name and argument types", "coercion failed"];
    if m.starts_with('[') || !MARKERS.iter().any(|k| m.contains(k)) {
        return None;
    }
    // A class of ember's inside DataFusion's wording (WRONG_NUM_ARGS, …).
    let inner = m.match_indices('[').find(|(i, _)| m[i + 1..].starts_with(|c: char| c.is_ascii_uppercase()));
    if let Some((i, _)) = inner {
        let inner = m[i..].split(". No function matches").next().unwrap_or(&m[i..]);
        return Some(SparkError::analysis(inner.to_string()).with_error_class_from_message());
    }
    let name = m.split('\'').nth(1).unwrap_or("function");
    Some(SparkError::with_class(
        ExceptionClass::Analysis,
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        "42K09",
        format!("Cannot resolve \"{name}\" due to data type mismatch: {m}"),
    ))
}

fn runtime_from_message(m: &str) -> SparkError {
    let m = strip_df_prefix(m);
    // datafusion-spark's ANSI errors, as Spark's.
    if m.starts_with("Compute error: Int") && m.contains(" overflow on ") || m.contains("overflow on round(") {
        return SparkError::with_class(
            ExceptionClass::Arithmetic,
            "ARITHMETIC_OVERFLOW",
            "22003",
            "overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.",
        );
    }
    if let Some(rest) = m.strip_prefix("The index ")
        && rest.contains(" is out of bounds. The array has ")
    {
        return SparkError::with_class(
            ExceptionClass::ArrayIndexOutOfBounds,
            "INVALID_ARRAY_INDEX",
            "22003",
            format!(
                "The index {rest} Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."
            ),
        );
    }
    // A duplicate map key: Spark's text names Spark's key for the policy.
    let duplicate = m.strip_prefix("map key must be unique, duplicate key found: ").map(str::to_string).or_else(|| {
        let rest = m.strip_prefix("[DUPLICATED_MAP_KEY] Duplicate map key ")?;
        Some(rest.split(" was found").next()?.to_string())
    });
    if let Some(key) = duplicate {
        return SparkError::with_class(
            ExceptionClass::Runtime,
            "DUPLICATED_MAP_KEY",
            "23505",
            format!(
                "Duplicate map key {key} was found, please check the input data.\nIf you want to remove the duplicated keys, you can set \"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that the key inserted at last takes precedence."
            ),
        );
    }
    if let Some(rest) = m.strip_prefix('[') {
        let class = rest.split(']').next().unwrap_or_default();
        // Spark's text to a date or timestamp fails as a DateTimeException.
        let temporal = m.contains("cannot be cast to \"DATE\"") || m.contains("cannot be cast to \"TIMESTAMP");
        let exc = if class.starts_with("CAST_INVALID_INPUT") && temporal {
            ExceptionClass::DateTime
        } else if class.starts_with("CAST_INVALID_INPUT") {
            ExceptionClass::NumberFormat
        } else if class.starts_with("CANNOT_PARSE_TIMESTAMP") {
            ExceptionClass::DateTime
        } else if class.contains("OVERFLOW") || class.ends_with("_BY_ZERO") {
            ExceptionClass::Arithmetic
        } else if class.starts_with("INVALID_ARRAY_INDEX") {
            ExceptionClass::ArrayIndexOutOfBounds
        } else {
            ExceptionClass::Runtime
        };
        return SparkError::new(exc, m).with_error_class_from_message();
    }
    SparkError::new(ExceptionClass::Runtime, m)
}

fn classify_arrow(a: &arrow::error::ArrowError) -> SparkError {
    use arrow::error::ArrowError as A;
    match a {
        A::DivideByZero => divide_by_zero(),
        // datafusion-spark's ANSI `abs` of the smallest integer.
        A::ComputeError(m) if m.contains(" overflow on ") => runtime_from_message(&format!("Compute error: {m}")),
        // Arrow's ANSI cast of a value the target type cannot hold.
        A::CastError(m) if m.starts_with("Can't cast value ") => {
            let rest = &m["Can't cast value ".len()..];
            let (value, target) = rest.rsplit_once(" to type ").unwrap_or((rest, "the target type"));
            let target = target
                .parse::<datafusion::arrow::datatypes::DataType>()
                .map(|t| crate::types::simple_string(&t).to_uppercase())
                .unwrap_or_else(|_| target.to_uppercase());
            SparkError::with_class(
                ExceptionClass::Arithmetic,
                "CAST_OVERFLOW",
                "22003",
                format!(
                    "The value {value} cannot be cast to \"{target}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."
                ),
            )
            .param("value", value)
            .param("targetType", format!("\"{target}\""))
        }
        // A number too large for a decimal: "Cannot cast to Decimal128(30,
        // 15). Overflowing on 1e300", or "123456.0 is too large to store in
        // a Decimal128 of precision 4. Max is 999.9".
        A::CastError(m) if m.starts_with("Cannot cast to Decimal") && m.contains(". Overflowing on ") => {
            let (target, value) = m["Cannot cast to ".len()..].split_once(". Overflowing on ").unwrap_or_default();
            let (p, s) = target
                .split_once('(')
                .and_then(|(_, ps)| ps.trim_end_matches(')').split_once(','))
                .map(|(p, s)| (p.trim().to_string(), s.trim().to_string()))
                .unwrap_or_default();
            decimal_out_of_range(value, &p, &s)
        }
        A::InvalidArgumentError(m) if m.contains(" is too large to store in a Decimal") => {
            let (value, rest) = m.split_once(" is too large to store in a Decimal").unwrap_or_default();
            let p = rest.split("of precision ").nth(1).and_then(|r| r.split('.').next()).unwrap_or_default();
            let s = rest.split("Max is ").nth(1).and_then(|max| max.split_once('.')).map_or(0, |(_, frac)| frac.len());
            decimal_out_of_range(value, p, &s.to_string())
        }
        A::CastError(m) | A::ParseError(m) => {
            let value = m.split('\'').nth(1).unwrap_or_default();
            // "Cannot cast string 'x' to value of Int32 type"; timestamps
            // say "Error parsing timestamp from 'x': ...".
            let target = match m.split("to value of ").nth(1).and_then(|r| r.strip_suffix(" type")) {
                Some(t) => t
                    .parse::<datafusion::arrow::datatypes::DataType>()
                    .map(|t| crate::types::simple_string(&t).to_uppercase())
                    .unwrap_or_else(|_| t.to_uppercase()),
                None if m.contains("timestamp") => "TIMESTAMP".to_string(),
                None => "the target type".to_string(),
            };
            let class = if target == "DATE" || target.starts_with("TIMESTAMP") {
                ExceptionClass::DateTime
            } else {
                ExceptionClass::NumberFormat
            };
            SparkError::with_class(
                class,
                "CAST_INVALID_INPUT",
                "22018",
                format!(
                    "The value '{value}' of the type \"STRING\" cannot be cast to \"{target}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead."
                ),
            )
            .param("expression", format!("'{value}'"))
            .param("sourceType", "\"STRING\"")
            .param("targetType", format!("\"{target}\""))
        }
        A::ArithmeticOverflow(m) => SparkError::with_class(
            ExceptionClass::Arithmetic,
            "ARITHMETIC_OVERFLOW",
            "22003",
            format!("{m}. Use 'try_add' to tolerate overflow and return NULL instead."),
        ),
        A::ExternalError(inner) => {
            if let Some(s) = inner.downcast_ref::<SparkError>() {
                return s.clone();
            }
            if let Some(d) = inner.downcast_ref::<DataFusionError>() {
                return classify_datafusion(d);
            }
            SparkError::new(ExceptionClass::Runtime, inner.to_string())
        }
        other => SparkError::new(ExceptionClass::Runtime, other.to_string()),
    }
}

/// Spark's error for a value that does not fit decimal(p, s).
fn decimal_out_of_range(value: &str, p: &str, s: &str) -> SparkError {
    SparkError::with_class(
        ExceptionClass::Arithmetic,
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        "22003",
        format!(
            "{value} cannot be represented as Decimal({p}, {s}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead."
        ),
    )
    .param("value", value)
    .param("precision", p)
    .param("scale", s)
    .param("config", "\"spark.sql.ansi.enabled\"")
}

fn divide_by_zero() -> SparkError {
    SparkError::with_class(
        ExceptionClass::Arithmetic,
        "DIVIDE_BY_ZERO",
        "22012",
        "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.",
    )
}

fn strip_df_prefix(m: &str) -> String {
    let mut s = m.trim();
    for p in ["Error during planning: ", "Execution error: ", "Schema error: ", "This feature is not implemented: "] {
        if let Some(r) = s.strip_prefix(p) {
            s = r;
        }
    }
    s.to_string()
}

/// Reads `[ERROR_CLASS]` (and `SQLSTATE: xxxxx`) back out of a message.
trait FromMessage {
    fn with_error_class_from_message(self) -> Self;
}

impl FromMessage for SparkError {
    fn with_error_class_from_message(mut self) -> Self {
        if self.error_class.is_none() {
            if let Some(rest) = self.message.strip_prefix('[') {
                if let Some((class, _)) = rest.split_once(']') {
                    if !class.is_empty()
                        && class.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.')
                    {
                        self.error_class = Some(class.to_string());
                        // Spark's messages of legacy classes do not name them.
                        if class.starts_with("_LEGACY_ERROR") {
                            let rest = rest[class.len() + 1..].trim_start().to_string();
                            self.message = rest;
                        }
                    }
                }
            }
            if let Some((_, state)) = self.message.rsplit_once("SQLSTATE: ") {
                self.sql_state = Some(state.chars().take(5).collect());
            }
        }
        self
    }
}

/// Shorthand for an AnalysisException as our error.
pub fn analysis(msg: impl Into<String>) -> Error {
    Error::Spark(SparkError::analysis(msg))
}
