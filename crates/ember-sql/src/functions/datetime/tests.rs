//! End-to-end tests through DataFusion SQL. Expected values are what
//! Apache Spark 4.2 returns (session time zone UTC unless stated).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;

use super::register;

fn ctx(tz: &str) -> SessionContext {
    let mut config = datafusion::prelude::SessionConfig::new();
    config.options_mut().execution.time_zone = Some(tz.to_string());
    let ctx = SessionContext::new_with_config(config);
    register(&ctx, tz).unwrap();
    ctx
}

async fn batches(ctx: &SessionContext, sql: &str) -> datafusion::common::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Every value of every row, as text ("NULL" for null).
async fn rows_in(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches(ctx, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) {
        let fmts: Vec<_> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap()).collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

async fn one(sql: &str) -> String {
    rows_in(&ctx("UTC"), sql).await.remove(0).remove(0)
}

async fn error(sql: &str) -> String {
    let ctx = ctx("UTC");
    match batches(&ctx, sql).await {
        Ok(b) => panic!("{sql}: expected an error, got {b:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn to_date_with_patterns() {
    assert_eq!(one("select to_date('1-2-2013', 'd-M-yyyy')").await, "2013-02-01");
    assert_eq!(one("select to_date('04-09-2012', 'dd-MM-yyyy')").await, "2012-09-04");
    assert_eq!(one("select to_date('02/01/13', 'MM/dd/yy')").await, "2013-02-01");
    assert_eq!(one("select to_date('2013-02-01 12:00:00', 'yyyy-MM-dd HH:mm:ss')").await, "2013-02-01");
    // Parsed as a timestamp, then dated in the session zone.
    assert_eq!(one("select to_date('2013-02-01 23:00:00 -08:00', 'yyyy-MM-dd HH:mm:ss XXX')").await, "2013-02-02");
}

#[tokio::test]
async fn to_date_without_pattern_casts() {
    assert_eq!(one("select to_date('2013-02-01')").await, "2013-02-01");
    assert_eq!(one("select to_date('2013-2-1')").await, "2013-02-01");
    assert_eq!(one("select to_date('2013-02-01 12:34:56')").await, "2013-02-01");
    assert_eq!(one("select to_date('2013-02-01T12:34:56Z')").await, "2013-02-01");
    assert_eq!(one("select to_date(date '2013-02-01')").await, "2013-02-01");
    assert_eq!(one("select to_date(to_timestamp('2013-02-01 23:00:00'))").await, "2013-02-01");
}

#[tokio::test]
async fn bad_input_raises_under_ansi_and_try_gives_null() {
    let e = error("select to_date('abc', 'yyyy-MM-dd')").await;
    assert!(
        e.contains("[CANNOT_PARSE_TIMESTAMP] Text 'abc' could not be parsed at index 0. Use `try_to_date` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"),
        "{e}"
    );
    let e = error("select to_timestamp('4-09-2012', 'dd-MM-yyyy')").await;
    assert!(
        e.contains("[CANNOT_PARSE_TIMESTAMP] Text '4-09-2012' could not be parsed at index 0. Use `try_to_timestamp`"),
        "{e}"
    );
    let e = error("select to_date('2013-02-30', 'yyyy-MM-dd')").await;
    assert!(e.contains("Text '2013-02-30' could not be parsed: Invalid date 'FEBRUARY 30'"), "{e}");
    let e = error("select unix_timestamp('abc', 'yyyy-MM-dd')").await;
    assert!(e.contains("[CANNOT_PARSE_TIMESTAMP]"), "{e}");
    let e = error("select to_date('abc')").await;
    assert!(
        e.contains("[CAST_INVALID_INPUT] The value 'abc' of the type \"STRING\" cannot be cast to \"DATE\""),
        "{e}"
    );
    let e = error("select to_timestamp('abc')").await;
    assert!(e.contains("cannot be cast to \"TIMESTAMP\""), "{e}");
    let e = error("select date_format('abc', 'yyyy')").await;
    assert!(e.contains("[CAST_INVALID_INPUT]"), "{e}");

    assert_eq!(one("select try_to_date('abc', 'yyyy-MM-dd')").await, "NULL");
    assert_eq!(one("select try_to_timestamp('abc', 'yyyy-MM-dd')").await, "NULL");
    assert_eq!(one("select try_to_timestamp('abc')").await, "NULL");
    assert_eq!(one("select try_to_date('1-2-2013', 'd-M-yyyy')").await, "2013-02-01");
}

#[tokio::test]
async fn bad_patterns_fail_while_planning() {
    let ctx = ctx("UTC");
    // No rows to evaluate: the literal pattern is checked when planning.
    let e = ctx.sql("select to_timestamp('2013', 'YYYY') where false").await;
    let e = match e {
        Ok(df) => df.collect().await.map(|_| ()).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("[INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION]"), "{e}");
    assert!(e.contains("Fail to recognize 'YYYY' pattern in the DateTimeFormatter"), "{e}");
    let e = error("select date_format(date '2013-02-01', 'yyyy-MM-dd A')").await;
    assert!(e.contains("[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER]"), "{e}");
    // `E` formats but does not parse; the try_ form still rejects patterns.
    let e = error("select try_to_timestamp('Fri', 'EEE')").await;
    assert!(e.contains("DATETIME_PATTERN_RECOGNITION"), "{e}");
    let e = error("select date_format(date '2013-02-01', 'yyyy b')").await;
    assert!(e.contains("[INVALID_DATETIME_PATTERN.WITH_SUGGESTION] Unrecognized datetime pattern: 'yyyy b'"), "{e}");
}

#[tokio::test]
async fn nulls_in_nulls_out() {
    assert_eq!(one("select to_date(NULL, 'yyyy-MM-dd')").await, "NULL");
    assert_eq!(one("select to_date('2013-02-01', NULL)").await, "NULL");
    assert_eq!(one("select to_timestamp(NULL)").await, "NULL");
    assert_eq!(one("select date_format(NULL, 'yyyy')").await, "NULL");
    assert_eq!(one("select date_format(date '2013-02-01', NULL)").await, "NULL");
    assert_eq!(one("select from_unixtime(NULL)").await, "NULL");
    assert_eq!(one("select unix_timestamp(NULL, 'yyyy')").await, "NULL");
}

#[tokio::test]
async fn date_format_like_spark() {
    assert_eq!(one("select date_format(date '2013-02-01', 'EEE, MMM d yyyy')").await, "Fri, Feb 1 2013");
    assert_eq!(one("select date_format(date '2013-02-01', 'EEEE, MMMM dd, yyyy')").await, "Friday, February 01, 2013");
    assert_eq!(
        one("select date_format(to_timestamp('2013-02-01 13:04:05.123456'), 'yyyy-MM-dd''T''HH:mm:ss.SSS a hh')").await,
        "2013-02-01T13:04:05.123 PM 01"
    );
    assert_eq!(one("select date_format('2013-02-01', 'yyyy')").await, "2013");
    assert_eq!(one("select date_format(date '2013-02-01', 'yyyy-MM-dd HH:mm:ss XXX')").await, "2013-02-01 00:00:00 Z");
    assert_eq!(
        rows_in(&ctx("America/Los_Angeles"), "select date_format(date '2013-03-10', 'yyyy-MM-dd HH:mm XXX z')").await
            [0][0],
        "2013-03-10 00:00 -08:00 PST"
    );
}

#[tokio::test]
async fn to_timestamp_carries_the_session_zone() {
    let ctx = ctx("America/Los_Angeles");
    let df = ctx.sql("select to_timestamp('2013-02-01 12:00:00', 'yyyy-MM-dd HH:mm:ss') as t").await.unwrap();
    assert_eq!(
        df.schema().field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("America/Los_Angeles".into()))
    );
    let r = rows_in(
        &ctx,
        "select cast(unix_timestamp('2013-02-01 12:00:00') as varchar), unix_timestamp(date '2013-02-01')",
    )
    .await;
    assert_eq!(r[0], vec!["1359748800".to_string(), "1359705600".to_string()]);
    // DST gap: 02:30 does not exist and becomes 03:30 PDT.
    let r = rows_in(&ctx, "select unix_timestamp('2013-03-10 02:30:00')").await;
    assert_eq!(r[0][0], "1362911400");
    let r = rows_in(&ctx, "select from_unixtime(0, 'yyyy-MM-dd HH:mm:ss z')").await;
    assert_eq!(r[0][0], "1969-12-31 16:00:00 PST");
}

#[tokio::test]
async fn unix_time_functions() {
    assert_eq!(one("select unix_timestamp('2013-02-01 00:00:00')").await, "1359676800");
    assert_eq!(one("select unix_timestamp('2013-02-01', 'yyyy-MM-dd')").await, "1359676800");
    assert_eq!(
        one("select to_unix_timestamp('2013-02-01 00:00:00 +01:00', 'yyyy-MM-dd HH:mm:ss XXX')").await,
        "1359673200"
    );
    assert_eq!(one("select unix_timestamp(to_timestamp('2013-02-01 00:00:00'))").await, "1359676800");
    assert_eq!(one("select from_unixtime(0)").await, "1970-01-01 00:00:00");
    assert_eq!(one("select from_unixtime(1359676800, 'EEE, MMM d yyyy')").await, "Fri, Feb 1 2013");
    assert_eq!(one("select from_unixtime(-1, 'yyyy-MM-dd HH:mm:ss.SSS')").await, "1969-12-31 23:59:59.000");
}

#[tokio::test]
async fn columns_of_every_string_type_and_per_row_patterns() {
    let ctx = ctx("UTC");
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("1-2-2013"), None, Some("2013/02/01"), Some("bad")]));
    let f: ArrayRef = Arc::new(StringArray::from(vec![Some("d-M-yyyy"), Some("d-M-yyyy"), Some("yyyy/MM/dd"), None]));
    let batch = RecordBatch::try_from_iter(vec![("s", s), ("f", f)]).unwrap();
    ctx.register_batch("t", batch).unwrap();
    let r = rows_in(&ctx, "select to_date(s, f), try_to_date(s, 'd-M-yyyy') from t").await;
    assert_eq!(
        r,
        vec![
            vec!["2013-02-01".to_string(), "2013-02-01".to_string()],
            vec!["NULL".to_string(), "NULL".to_string()],
            vec!["2013-02-01".to_string(), "NULL".to_string()],
            vec!["NULL".to_string(), "NULL".to_string()],
        ]
    );
    for ty in ["LargeUtf8", "Utf8View"] {
        let r = rows_in(
            &ctx,
            &format!(
                "select to_date(arrow_cast(s, '{ty}'), arrow_cast('d-M-yyyy', '{ty}')) from t where s = '1-2-2013'"
            ),
        )
        .await;
        assert_eq!(r[0][0], "2013-02-01", "{ty}");
        let r = rows_in(&ctx, &format!("select date_format(to_date(arrow_cast(s, '{ty}'), f), arrow_cast('EEE', '{ty}')) from t where s = '1-2-2013'")).await;
        assert_eq!(r[0][0], "Fri", "{ty}");
    }
    let e = batches(&ctx, "select to_date(s, 'd-M-yyyy') from t").await.unwrap_err().to_string();
    assert!(e.contains("Text '2013/02/01' could not be parsed at index 4"), "{e}");
    let r = rows_in(&ctx, "select date_format(to_timestamp(s, f), f) from t").await;
    assert_eq!(r[0][0], "1-2-2013");
    assert_eq!(r[2][0], "2013/02/01");
}

#[tokio::test]
async fn round_trips() {
    let ctx = ctx("UTC");
    for (text, pattern) in [
        ("2013-02-01 13:04:05", "yyyy-MM-dd HH:mm:ss"),
        ("2013-02-01T13:04:05.123", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
        ("01/02/13 01:04 PM", "dd/MM/yy hh:mm a"),
        ("February 1, 2013", "MMMM d, yyyy"),
        ("1-2-2013", "d-M-yyyy"),
        ("2013-032", "yyyy-DDD"),
        ("20130201130405", "yyyyMMddHHmmss"),
    ] {
        let p = pattern.replace('\'', "''");
        let r = rows_in(&ctx, &format!("select date_format(to_timestamp('{text}', '{p}'), '{p}')")).await;
        assert_eq!(r[0][0], text, "{pattern}");
    }
    // And the other way: format then parse gives the same instant back.
    let r = rows_in(
        &ctx,
        "select to_timestamp(date_format(to_timestamp('2013-07-04 05:06:07.891'), 'yyyy-MM-dd HH:mm:ss.SSS XXX'), 'yyyy-MM-dd HH:mm:ss.SSS XXX') = to_timestamp('2013-07-04 05:06:07.891')",
    )
    .await;
    assert_eq!(r[0][0], "true");
}
