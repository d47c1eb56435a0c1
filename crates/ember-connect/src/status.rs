//! Errors at the gRPC edge: a [`SparkError`] becomes `INTERNAL` with a
//! `google.rpc.ErrorInfo` the PySpark client reads to raise the matching
//! Python exception (AnalysisException, ParseException, ...).

use ember_common::SparkError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// gRPC headers are limited to 16 KiB; Spark truncates messages similarly.
const MAX_MESSAGE: usize = 2048;

pub fn to_status(e: &SparkError, error_id: Option<&str>) -> Status {
    let mut msg = e.message.clone();
    if msg.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    let classes: Vec<&str> = e.class.jvm_classes().to_vec();
    let mut metadata = std::collections::HashMap::new();
    metadata.insert("classes".to_string(), serde_json::to_string(&classes).unwrap_or_default());
    if let Some(c) = &e.error_class {
        metadata.insert("errorClass".to_string(), c.clone());
    }
    if let Some(s) = &e.sql_state {
        metadata.insert("sqlState".to_string(), s.clone());
    }
    metadata
        .insert("messageParameters".to_string(), serde_json::to_string(&e.parameters).unwrap_or_else(|_| "{}".into()));
    if let Some(id) = error_id {
        metadata.insert("errorId".to_string(), id.to_string());
    }
    let reason = classes.first().copied().unwrap_or("org.apache.spark.SparkException");
    let details = ErrorDetails::with_error_info(reason, "org.apache.spark", metadata);
    Status::with_error_details(Code::Internal, msg, details)
}

pub fn from_sql(e: &ember_sql::Error) -> Status {
    to_status(&ember_sql::error::classify(e), None)
}

pub fn invalid_handle(kind: &str, id: &str) -> Status {
    let e = SparkError::with_class(
        ember_common::ExceptionClass::Runtime,
        &format!("INVALID_HANDLE.{kind}"),
        "HY000",
        format!("The handle {id} is invalid."),
    );
    to_status(&e, None)
}
