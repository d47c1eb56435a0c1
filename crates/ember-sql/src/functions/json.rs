//! Spark's JSON functions: `to_json`, `from_json`, `get_json_object`,
//! `json_array_length`, `json_object_keys` and `schema_of_json`.
//!
//! `to_json` writes as Spark's Jackson generator does: null struct fields
//! left out, dates `yyyy-MM-dd`, timestamps `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`
//! in the session time zone, doubles as Java prints them. `from_json`
//! reads with arrow-json against the schema given (a DDL string or
//! Spark's JSON schema); a record that does not parse, or whose values do
//! not fit the schema, is a struct of NULLs (PERMISSIVE mode), and a NULL
//! string is NULL.

use std::fmt::Write;
use std::sync::Arc;

use super::text_options::TextDates;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, ListBuilder, StringArray, StringBuilder, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Which JSON function a [`Json`] is.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum JsonFn {
    ToJson,
    FromJson,
    GetJsonObject,
    JsonArrayLength,
    JsonObjectKeys,
    SchemaOfJson,
}

impl JsonFn {
    pub const ALL: [Self; 6] = [
        Self::ToJson,
        Self::FromJson,
        Self::GetJsonObject,
        Self::JsonArrayLength,
        Self::JsonObjectKeys,
        Self::SchemaOfJson,
    ];
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Json {
    form: JsonFn,
    signature: Signature,
}

impl Json {
    pub fn new(form: JsonFn) -> Self {
        Self { form, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn is_text(t: &DataType) -> bool {
    super::is_text(t) || t.is_null()
}

/// The schema literal of `from_json`: DDL (`a INT, b STRING`,
/// `array<int>`) or Spark's JSON form of a data type.
fn parse_schema(text: &str) -> Result<DataType> {
    let parsed = if text.trim_start().starts_with('{') {
        crate::types::parse_json_type(text, "UTC")
    } else {
        // A type (`array<int>`, `struct<a: int>`), else a field list.
        match crate::types::parse_ddl_type(text, "UTC") {
            Ok(t) => Ok(t),
            Err(_) => crate::types::parse_ddl_schema(text, "UTC").map(|s| DataType::Struct(s.fields().clone())),
        }
    };
    parsed.map_err(|e| datafusion::common::DataFusionError::Plan(format!("from_json: bad schema {text:?}: {e}")))
}

impl ScalarUDFImpl for Json {
    fn name(&self) -> &str {
        match self.form {
            JsonFn::ToJson => "to_json",
            JsonFn::FromJson => "from_json",
            JsonFn::GetJsonObject => "get_json_object",
            JsonFn::JsonArrayLength => "json_array_length",
            JsonFn::JsonObjectKeys => "json_object_keys",
            JsonFn::SchemaOfJson => "schema_of_json",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let ok = match (self.form, t) {
            (JsonFn::ToJson, [v] | [v, _]) => {
                matches!(v, DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(..))
                    || v.is_null()
            }
            (JsonFn::FromJson, [s, schema] | [s, schema, _]) => is_text(s) && is_text(schema),
            (JsonFn::GetJsonObject, [s, p]) => is_text(s) && is_text(p),
            (JsonFn::JsonArrayLength | JsonFn::JsonObjectKeys | JsonFn::SchemaOfJson, [s] | [s, _]) => is_text(s),
            _ => false,
        };
        if !ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" for arguments of types {t:?}",
                self.name()
            );
        }
        Ok(t.iter()
            .enumerate()
            .map(|(i, t)| {
                if i == 0 && self.form == JsonFn::ToJson {
                    t.clone()
                } else if is_text(t) {
                    DataType::Utf8
                } else {
                    t.clone()
                }
            })
            .collect())
    }

    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args gives {}'s type", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = match self.form {
            JsonFn::ToJson | JsonFn::GetJsonObject | JsonFn::SchemaOfJson => DataType::Utf8,
            JsonFn::JsonArrayLength => DataType::Int32,
            JsonFn::JsonObjectKeys => DataType::new_list(DataType::Utf8, true),
            JsonFn::FromJson => parse_schema(super::text_options::schema_literal(&args, "from_json")?)?,
        };
        Ok(Arc::new(Field::new(self.name(), t, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let out: ArrayRef = match self.form {
            JsonFn::ToJson => {
                let tz = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "UTC".into());
                let dates = TextDates::new(&super::text_options::options_map(args.args.get(1))?, &tz)?;
                let mut b = StringBuilder::new();
                for row in 0..rows {
                    if arrays[0].is_null(row) {
                        b.append_null();
                    } else {
                        let mut s = String::new();
                        write_json(&arrays[0], row, &dates, &mut s)?;
                        b.append_value(s);
                    }
                }
                Arc::new(b.finish())
            }
            JsonFn::FromJson => from_json(&arrays[0], args.return_field.data_type())?,
            JsonFn::GetJsonObject => {
                let (texts, paths) = (strings(&arrays[0])?, strings(&arrays[1])?);
                // A path is parsed once for the rows that share it.
                let mut parsed: Option<(&str, Option<super::json_path::JsonPath>)> = None;
                let values: Vec<Option<String>> = (0..rows)
                    .map(|i| {
                        let (Some(t), Some(p)) = (texts[i], paths[i]) else { return None };
                        if parsed.as_ref().is_none_or(|(last, _)| *last != p) {
                            parsed = Some((p, super::json_path::JsonPath::parse(p)));
                        }
                        parsed.as_ref()?.1.as_ref()?.get(t)
                    })
                    .collect();
                Arc::new(StringArray::from(values))
            }
            JsonFn::JsonArrayLength => {
                let texts = strings(&arrays[0])?;
                let v: Int32Array = texts
                    .iter()
                    .map(|t| match serde_json::from_str::<serde_json::Value>((*t)?) {
                        Ok(serde_json::Value::Array(a)) => i32::try_from(a.len()).ok(),
                        _ => None,
                    })
                    .collect();
                Arc::new(v)
            }
            JsonFn::JsonObjectKeys => {
                let texts = strings(&arrays[0])?;
                let mut b = ListBuilder::new(StringBuilder::new());
                for t in texts {
                    // Keys in the text's order, as Spark lists them.
                    match t.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()) {
                        Some(serde_json::Value::Object(_)) => {
                            for k in object_keys(t.unwrap_or_default()) {
                                b.values().append_value(k);
                            }
                            b.append(true);
                        }
                        _ => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            JsonFn::SchemaOfJson => {
                let texts = strings(&arrays[0])?;
                let mut out = vec![];
                for t in texts {
                    let Some(t) = t else { return exec_err!("schema_of_json takes a JSON string, not NULL") };
                    let v: serde_json::Value = serde_json::from_str(t).map_err(|e| {
                        datafusion::common::DataFusionError::Execution(format!(
                            "[MALFORMED_RECORD_IN_PARSING] Malformed records are detected in schema inference: {e}"
                        ))
                    })?;
                    out.push(Some(infer(&v)));
                }
                Arc::new(StringArray::from(out))
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn strings(a: &ArrayRef) -> Result<Vec<Option<&str>>> {
    match a.data_type() {
        DataType::Utf8 => Ok(a.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Ok(a.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Ok(a.as_string_view().iter().collect()),
        DataType::Null => Ok(vec![None; a.len()]),
        other => exec_err!("expected a string, not {other}"),
    }
}

/// A JSON string literal.
fn quoted(s: &str, out: &mut String) {
    out.push_str(&serde_json::Value::String(s.to_string()).to_string());
}

/// One value as Spark's `to_json` writes it.
fn write_json(a: &ArrayRef, row: usize, dates: &TextDates, out: &mut String) -> Result<()> {
    if a.is_null(row) {
        out.push_str("null");
        return Ok(());
    }
    let scalar = || ScalarValue::try_from_array(a, row);
    match a.data_type() {
        DataType::Struct(fields) => {
            let s = a.as_struct();
            out.push('{');
            let mut first = true;
            for (i, f) in fields.iter().enumerate() {
                let c = s.column(i);
                if c.is_null(row) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                quoted(f.name(), out);
                out.push(':');
                write_json(c, row, dates, out)?;
            }
            out.push('}');
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match a.data_type() {
                DataType::List(_) => a.as_list::<i32>().value(row),
                _ => a.as_list::<i64>().value(row),
            };
            out.push('[');
            for i in 0..items.len() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&items, i, dates, out)?;
            }
            out.push(']');
        }
        DataType::Map(..) => {
            let entries = a.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(',');
                }
                let key = crate::display::cell(keys, i);
                quoted(&key, out);
                out.push(':');
                write_json(values, i, dates, out)?;
            }
            out.push('}');
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => quoted(&crate::display::cell(a, row), out),
        DataType::Boolean => out.push_str(if a.as_boolean().value(row) { "true" } else { "false" }),
        DataType::Float64 | DataType::Float32 => match scalar()? {
            ScalarValue::Float64(Some(v)) if v.is_finite() => out.push_str(&crate::display::java_float(v)),
            ScalarValue::Float32(Some(v)) if v.is_finite() => out.push_str(&crate::display::java_float32(v)),
            // Jackson writes NaN and infinities as quoted text.
            other => quoted(&crate::display::cell(&other.to_array()?, 0), out),
        },
        DataType::Date32 => {
            let mut text = String::new();
            dates.format_date(a.as_primitive::<datafusion::arrow::datatypes::Date32Type>().value(row), &mut text)?;
            quoted(&text, out);
        }
        DataType::Timestamp(unit, zone) => {
            let v = match scalar()? {
                ScalarValue::TimestampSecond(Some(v), _) => v * 1_000_000,
                ScalarValue::TimestampMillisecond(Some(v), _) => v * 1_000,
                ScalarValue::TimestampMicrosecond(Some(v), _) => v,
                ScalarValue::TimestampNanosecond(Some(v), _) => v / 1_000,
                _ => return exec_err!("to_json: a timestamp of unit {unit:?}"),
            };
            let mut text = String::new();
            dates.format_timestamp(v, zone.is_none(), &mut text)?;
            quoted(&text, out);
        }
        t if t.is_integer() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) => {
            let _ = write!(out, "{}", scalar()?);
        }
        other => return exec_err!("to_json does not write values of type {other}"),
    }
    Ok(())
}

/// `from_json`: each row read against the type; NULL rows stay NULL, rows
/// that do not read are a struct of NULLs.
fn from_json(texts: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let texts = strings(texts)?;
    // Non-struct types are read as the field `v` of a struct.
    let wrapped = !matches!(to, DataType::Struct(_));
    let fields: Fields = match to {
        DataType::Struct(f) => f.clone(),
        other => Fields::from(vec![Field::new("v", other.clone(), true)]),
    };
    let schema = Arc::new(Schema::new(fields.clone()));
    let decode = |text: &str| -> Option<datafusion::arrow::array::RecordBatch> {
        let mut decoder = datafusion::arrow::json::ReaderBuilder::new(schema.clone()).build_decoder().ok()?;
        let body = if wrapped { format!("{{\"v\":{text}}}") } else { text.to_string() };
        // One JSON object, nothing after it.
        if !matches!(serde_json::from_str::<serde_json::Value>(&body), Ok(serde_json::Value::Object(_))) {
            return None;
        }
        decoder.decode(body.as_bytes()).ok()?;
        decoder.flush().ok().flatten().filter(|b| b.num_rows() == 1)
    };
    let empty = || -> Result<datafusion::arrow::array::RecordBatch> {
        let columns = fields.iter().map(|f| new_null_array(f.data_type(), 1)).collect();
        Ok(datafusion::arrow::array::RecordBatch::try_new(schema.clone(), columns)?)
    };
    let mut parts = Vec::with_capacity(texts.len());
    let mut valid = Vec::with_capacity(texts.len());
    for t in &texts {
        match t {
            Some(t) => {
                parts.push(match decode(t) {
                    Some(b) => b,
                    None => empty()?,
                });
                valid.push(true);
            }
            None => {
                parts.push(empty()?);
                valid.push(false);
            }
        }
    }
    let batch = if parts.is_empty() {
        datafusion::arrow::array::RecordBatch::new_empty(schema.clone())
    } else {
        datafusion::arrow::compute::concat_batches(&schema, &parts)?
    };
    let nulls = datafusion::arrow::buffer::NullBuffer::from(BooleanArray::from(valid).values().clone());
    if wrapped {
        // NULL where the string was NULL or the value was not read.
        let v = batch.column(0);
        let nulls = datafusion::arrow::buffer::NullBuffer::union(Some(&nulls), v.nulls());
        let data = v.to_data().into_builder().nulls(nulls).build()?;
        return Ok(datafusion::arrow::array::make_array(data));
    }
    let s = datafusion::arrow::array::StructArray::try_new(fields, batch.columns().to_vec(), Some(nulls))?;
    Ok(Arc::new(s))
}

/// The keys of a JSON object's text, in order (serde_json's map sorts).
fn object_keys(text: &str) -> Vec<String> {
    let mut keys = vec![];
    let mut de = serde_json::Deserializer::from_str(text);
    struct Keys<'a>(&'a mut Vec<String>);
    impl<'de> serde::de::Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> std::result::Result<(), M::Error> {
            while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                self.0.push(k);
            }
            Ok(())
        }
    }
    let _ = serde::Deserializer::deserialize_map(&mut de, Keys(&mut keys));
    keys
}

/// `schema_of_json(text)` of a literal: the schema `from_json` takes.
pub fn schema_of_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text).ok().map(|v| infer(&v))
}

/// Spark's inferred type of a JSON value, as `schema_of_json` prints it.
fn infer(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null | serde_json::Value::String(_) => "STRING".into(),
        serde_json::Value::Bool(_) => "BOOLEAN".into(),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "BIGINT".into(),
        serde_json::Value::Number(_) => "DOUBLE".into(),
        serde_json::Value::Array(items) => {
            let mut types: Vec<String> = items.iter().filter(|i| !i.is_null()).map(infer).collect();
            types.dedup();
            let element = match types.as_slice() {
                [] => "STRING".to_string(),
                [one] => one.clone(),
                many if many.iter().all(|t| t == "BIGINT" || t == "DOUBLE") => "DOUBLE".into(),
                _ => "STRING".into(),
            };
            format!("ARRAY<{element}>")
        }
        serde_json::Value::Object(m) => {
            // Spark sorts the fields it infers by name.
            let mut fields: Vec<(&String, &serde_json::Value)> = m.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", infer(v))).collect();
            format!("STRUCT<{}>", parts.join(", "))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn inferred_schema() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": [1, 2.5], "a": {"c": null}, "e": true}"#).unwrap();
        assert_eq!(infer(&v), "STRUCT<a: STRUCT<c: STRING>, b: ARRAY<DOUBLE>, e: BOOLEAN>");
    }

    #[test]
    fn keys_in_text_order() {
        assert_eq!(object_keys(r#"{"z": 1, "a": {"q": 2}}"#), vec!["z", "a"]);
    }
}
