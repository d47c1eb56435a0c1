//! [`SparkError`]: an error as Spark reports it — the JVM exception class
//! (which the PySpark client maps to its Python class), the error class
//! (`UNRESOLVED_COLUMN.WITH_SUGGESTION`) and the SQLSTATE.

use std::collections::BTreeMap;
use std::fmt;

/// The Spark exception classes ember raises; the client picks its Python
/// exception (AnalysisException, ParseException, ...) from these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionClass {
    Analysis,
    Parse,
    Arithmetic,
    NumberFormat,
    DateTime,
    Runtime,
    IllegalArgument,
    UnsupportedOperation,
    ArrayIndexOutOfBounds,
    NoSuchElement,
    /// `org.apache.spark.SparkException` (FAILED_READ_FILE, ...).
    Spark,
    /// `org.apache.spark.api.python.PythonException`: a Python UDF failed;
    /// the message is Python's traceback.
    Python,
}

impl ExceptionClass {
    pub const ALL: [Self; 12] = [
        Self::Analysis,
        Self::Parse,
        Self::Arithmetic,
        Self::NumberFormat,
        Self::DateTime,
        Self::Runtime,
        Self::IllegalArgument,
        Self::UnsupportedOperation,
        Self::ArrayIndexOutOfBounds,
        Self::NoSuchElement,
        Self::Spark,
        Self::Python,
    ];

    /// The class whose most specific JVM name is `name` (errors that crossed
    /// a process boundary), else a runtime error.
    pub fn from_jvm_class(name: &str) -> Self {
        Self::ALL.into_iter().find(|c| c.jvm_classes().first() == Some(&name)).unwrap_or(Self::Runtime)
    }

    /// The JVM class names, most specific first (Spark sends the class hierarchy).
    pub fn jvm_classes(self) -> &'static [&'static str] {
        match self {
            Self::Analysis => &["org.apache.spark.sql.AnalysisException"],
            Self::Parse => {
                &["org.apache.spark.sql.catalyst.parser.ParseException", "org.apache.spark.sql.AnalysisException"]
            }
            Self::Arithmetic => &["org.apache.spark.SparkArithmeticException", "java.lang.ArithmeticException"],
            Self::NumberFormat => &[
                "org.apache.spark.SparkNumberFormatException",
                "java.lang.NumberFormatException",
                "java.lang.IllegalArgumentException",
            ],
            Self::DateTime => &["org.apache.spark.SparkDateTimeException", "java.time.DateTimeException"],
            Self::Runtime => &["org.apache.spark.SparkRuntimeException", "java.lang.RuntimeException"],
            Self::IllegalArgument => {
                &["org.apache.spark.SparkIllegalArgumentException", "java.lang.IllegalArgumentException"]
            }
            Self::UnsupportedOperation => {
                &["org.apache.spark.SparkUnsupportedOperationException", "java.lang.UnsupportedOperationException"]
            }
            Self::ArrayIndexOutOfBounds => {
                &["org.apache.spark.SparkArrayIndexOutOfBoundsException", "java.lang.ArrayIndexOutOfBoundsException"]
            }
            Self::NoSuchElement => {
                &["org.apache.spark.SparkNoSuchElementException", "java.util.NoSuchElementException"]
            }
            Self::Spark => &["org.apache.spark.SparkException", "java.lang.Exception"],
            Self::Python => &[
                "org.apache.spark.api.python.PythonException",
                "org.apache.spark.SparkException",
                "java.lang.Exception",
            ],
        }
    }
}

/// An error with Spark's identity. `message` is the full text the user
/// sees, starting with `[ERROR_CLASS]` when there is one, as in Spark.
#[derive(Debug, Clone)]
pub struct SparkError {
    pub class: ExceptionClass,
    pub error_class: Option<String>,
    pub sql_state: Option<String>,
    pub message: String,
    pub parameters: BTreeMap<String, String>,
    /// The error this one reports (Spark's `getCause`), shown by clients
    /// as `Caused by:`.
    pub cause: Option<Box<SparkError>>,
}

impl SparkError {
    pub fn new(class: ExceptionClass, message: impl Into<String>) -> Self {
        Self {
            class,
            error_class: None,
            sql_state: None,
            message: message.into(),
            parameters: BTreeMap::new(),
            cause: None,
        }
    }

    /// An error with an error class: the message becomes `[CLASS] text SQLSTATE: xxxxx`.
    pub fn with_class(class: ExceptionClass, error_class: &str, sql_state: &str, text: impl Into<String>) -> Self {
        let text = text.into();
        // Spark's legacy error classes have no SQLSTATE and no `[class]` prefix.
        let message = if error_class.starts_with("_LEGACY_ERROR") {
            text
        } else {
            format!("[{error_class}] {text} SQLSTATE: {sql_state}")
        };
        Self {
            class,
            error_class: Some(error_class.to_string()),
            sql_state: Some(sql_state.to_string()).filter(|s| !s.is_empty()),
            message,
            parameters: BTreeMap::new(),
            cause: None,
        }
    }

    pub fn param(mut self, key: &str, value: impl Into<String>) -> Self {
        self.parameters.insert(key.to_string(), value.into());
        self
    }

    /// This error, reporting `cause`.
    pub fn caused_by(mut self, cause: SparkError) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    pub fn analysis(message: impl Into<String>) -> Self {
        Self::new(ExceptionClass::Analysis, message)
    }

    pub fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new(ExceptionClass::IllegalArgument, message)
    }

    pub fn unsupported(what: impl Into<String>) -> Self {
        let what = what.into();
        Self::with_class(
            ExceptionClass::UnsupportedOperation,
            "UNSUPPORTED_FEATURE",
            "0A000",
            format!("The feature is not supported: {what}."),
        )
    }

    pub fn unresolved_column(name: &str, candidates: &[String]) -> Self {
        let quoted = format!("`{}`", name.replace('`', "``"));
        let list = candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        let (cls, text) = if candidates.is_empty() {
            (
                "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                format!("A column, variable, or function parameter with name {quoted} cannot be resolved."),
            )
        } else {
            (
                "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                format!(
                    "A column, variable, or function parameter with name {quoted} cannot be resolved. Did you mean one of the following? [{list}]."
                ),
            )
        };
        Self::with_class(ExceptionClass::Analysis, cls, "42703", text)
            .param("objectName", quoted)
            .param("proposal", list)
    }

    /// A function name that resolves to no function (`UNRESOLVED_ROUTINE`).
    pub fn unresolved_routine(name: &str) -> Self {
        Self::with_class(
            ExceptionClass::Analysis,
            "UNRESOLVED_ROUTINE",
            "42883",
            format!(
                "Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]."
            ),
        )
        .param("routineName", format!("`{name}`"))
    }

    pub fn table_not_found(name: &str) -> Self {
        // `db.t` is shown `db`.`t`, as Spark quotes each part.
        let name = if name.contains('`') { name.to_string() } else { name.split('.').collect::<Vec<_>>().join("`.`") };
        Self::with_class(
            ExceptionClass::Analysis,
            "TABLE_OR_VIEW_NOT_FOUND",
            "42P01",
            format!(
                "The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."
            ),
        )
        .param("relationName", format!("`{name}`"))
    }

    pub fn path_not_found(path: &str) -> Self {
        Self::with_class(ExceptionClass::Analysis, "PATH_NOT_FOUND", "42K03", format!("Path does not exist: {path}."))
            .param("path", path)
    }
}

impl fmt::Display for SparkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SparkError {}
