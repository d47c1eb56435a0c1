//! Spark's datetime functions that take Java `DateTimeFormatter` patterns,
//! with Spark 4's semantics (ANSI mode by default):
//!
//! | function | result |
//! | --- | --- |
//! | `to_date(str[, fmt])`, `try_to_date` | DATE |
//! | `to_timestamp(str[, fmt])`, `try_to_timestamp` | TIMESTAMP (session zone) |
//! | `date_format(ts, fmt)` | STRING |
//! | `unix_timestamp(x[, fmt])`, `to_unix_timestamp` | BIGINT seconds |
//! | `from_unixtime(secs[, fmt])` | STRING |
//! | `make_timestamp(y, mo, d, h, mi, s[, tz])`, `try_make_timestamp` | TIMESTAMP |
//!
//! A string that does not match its pattern raises `CANNOT_PARSE_TIMESTAMP`
//! (the `try_` forms give null); without a pattern strings are cast as
//! Spark casts them (`CAST_INVALID_INPUT` when they are malformed). A bad
//! pattern raises Spark's pattern error (`INVALID_DATETIME_PATTERN.*`,
//! `INCONSISTENT_BEHAVIOR_CROSS_VERSION.*`) as a DataFusion plan error —
//! while planning when the pattern is a literal.
//!
//! [`pattern`] tokenizes patterns; `parse.rs` and `format.rs` apply them
//! with `java.time`'s rules; `cast.rs` is Spark's pattern-less string
//! parsing; `zone.rs` is Java's zone handling.

mod cast;
mod convert;
mod format;
mod make_timestamp;
mod months_between;
mod parse;
pub mod pattern;
mod udf;
mod units;
mod zone;
pub mod zone_ids;

use std::sync::Arc;

use chrono::NaiveDateTime;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

pub use cast::{string_to_date, string_to_timestamp};
pub use format::format_micros;
pub use parse::Parser;
pub use pattern::{DateTimePattern, Mode, PatternError};
pub use udf::{DateFormat, FromUnixTime, ToDate, ToTimestamp, UnixTimestamp};
pub use units::is_unit;
pub use zone::Zone;

/// Whether Spark resolves `id` as a time zone (`spark.sql.session.timeZone`).
pub fn valid_time_zone(id: &str) -> bool {
    zone::Zone::parse(id).is_some()
}

/// Registers the functions for a session whose `spark.sql.session.timeZone`
/// is `time_zone`, over DataFusion's functions of the same names.
pub fn register(ctx: &SessionContext, time_zone: &str) -> Result<()> {
    for f in udfs(time_zone, true)? {
        ctx.register_udf(f);
    }
    Ok(())
}

/// The functions for a session zone; `ansi` false makes the non-`try_`
/// functions give null for bad input too (`spark.sql.ansi.enabled=false`).
pub fn udfs(time_zone: &str, ansi: bool) -> Result<Vec<ScalarUDF>> {
    if zone::Zone::parse(time_zone).is_none() {
        return Err(DataFusionError::Plan(format!(
            "[INVALID_CONF_VALUE.TIME_ZONE] The value '{time_zone}' in the config \"spark.sql.session.timeZone\" is invalid. Cannot resolve the given timezone. SQLSTATE: 22022"
        )));
    }
    let tz: Option<Arc<str>> = Some(time_zone.into());
    let made = make_timestamp::MakeTimestamp::all(tz.clone(), ansi).into_iter().map(ScalarUDF::from);
    let epoch = [convert::EpochTimestamp::SECONDS, convert::EpochTimestamp::MILLIS, convert::EpochTimestamp::MICROS]
        .map(|unit| ScalarUDF::from(convert::EpochTimestamp::new(unit, tz.clone())));
    let converted = ScalarUDF::from(convert::ConvertTimezone::new(tz.clone()));
    Ok(made
        .chain(epoch)
        .chain([converted])
        .chain([
            ScalarUDF::from(ToDate::new(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(ToDate::new_try(tz.clone())),
            ScalarUDF::from(ToTimestamp::new(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(ToTimestamp::new_try(tz.clone())),
            ScalarUDF::from(ToTimestamp::new_ltz(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(ToTimestamp::new_ntz().with_fail_on_error(ansi)),
            ScalarUDF::from(DateFormat::new(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(UnixTimestamp::new(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(UnixTimestamp::named_to_unix_timestamp(tz.clone()).with_fail_on_error(ansi)),
            ScalarUDF::from(FromUnixTime::new(tz.clone())),
            ScalarUDF::from(units::TimestampUnits::add(tz.clone())),
            ScalarUDF::from(units::TimestampUnits::diff(tz)),
            ScalarUDF::from(CurrentTimezone::new()),
            ScalarUDF::from(months_between::MonthsBetween::new()),
        ])
        .collect())
}

/// `current_timezone()`: the session time zone.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CurrentTimezone {
    signature: datafusion::logical_expr::Signature,
}

impl CurrentTimezone {
    pub fn new() -> Self {
        Self { signature: datafusion::logical_expr::Signature::nullary(datafusion::logical_expr::Volatility::Stable) }
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for CurrentTimezone {
    fn name(&self) -> &str {
        "current_timezone"
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(
        &self,
        _: &[datafusion::arrow::datatypes::DataType],
    ) -> Result<datafusion::arrow::datatypes::DataType> {
        Ok(datafusion::arrow::datatypes::DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        let tz = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "UTC".into());
        Ok(datafusion::logical_expr::ColumnarValue::Scalar(datafusion::common::ScalarValue::Utf8(Some(tz))))
    }
}

/// Microseconds since the epoch as a UTC date-time (None out of range).
fn micros_to_utc(micros: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc())
}

/// A value outside the range ember's dates and times hold.
fn overflow() -> DataFusionError {
    DataFusionError::Execution(
        "[DATETIME_OVERFLOW] Datetime operation overflow: long overflow. SQLSTATE: 22008".to_string(),
    )
}

fn pattern_error(e: PatternError) -> DataFusionError {
    DataFusionError::Plan(e.message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
