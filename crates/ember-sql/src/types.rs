//! Spark data types: the Connect `DataType` message, Arrow types, Spark's
//! DDL strings (`a int, b array<string>`) and Spark's type names.
//!
//! Spark → Arrow: `int` → Int32, `bigint` → Int64, `string` → Utf8,
//! `timestamp` → Timestamp(µs, session zone), `timestamp_ntz` →
//! Timestamp(µs), `date` → Date32, `decimal(p,s)` → Decimal128(p,s),
//! `array<T>` → List, `map<K,V>` → Map, `struct<...>` → Struct.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, IntervalUnit, Schema, TimeUnit};
use datafusion::common::{DataFusionError, Result, plan_err};
use spark_connect_proto::DataType as SparkType;
use spark_connect_proto::data_type as dt;

/// The time zone every Spark `timestamp` column carries in Arrow.
pub const UTC: &str = "UTC";

pub fn to_arrow(t: &SparkType, tz: &str) -> Result<DataType> {
    use dt::Kind;
    let kind = t.kind.as_ref().ok_or_else(|| DataFusionError::Plan("data type without kind".into()))?;
    Ok(match kind {
        Kind::Null(_) => DataType::Null,
        Kind::Binary(_) => DataType::Binary,
        Kind::Boolean(_) => DataType::Boolean,
        Kind::Byte(_) => DataType::Int8,
        Kind::Short(_) => DataType::Int16,
        Kind::Integer(_) => DataType::Int32,
        Kind::Long(_) => DataType::Int64,
        Kind::Float(_) => DataType::Float32,
        Kind::Double(_) => DataType::Float64,
        Kind::Decimal(d) => DataType::Decimal128(d.precision.unwrap_or(10) as u8, d.scale.unwrap_or(0) as i8),
        Kind::String(_) | Kind::Char(_) | Kind::VarChar(_) => DataType::Utf8,
        Kind::Date(_) => DataType::Date32,
        Kind::Timestamp(_) => DataType::Timestamp(TimeUnit::Microsecond, Some(tz.into())),
        Kind::TimestampNtz(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
        Kind::CalendarInterval(_) => DataType::Interval(IntervalUnit::MonthDayNano),
        Kind::YearMonthInterval(_) => DataType::Interval(IntervalUnit::YearMonth),
        Kind::DayTimeInterval(_) => DataType::Duration(TimeUnit::Microsecond),
        Kind::Array(a) => {
            let e =
                a.element_type.as_deref().ok_or_else(|| DataFusionError::Plan("array without element type".into()))?;
            DataType::List(Arc::new(Field::new("element", to_arrow(e, tz)?, a.contains_null)))
        }
        Kind::Struct(s) => DataType::Struct(struct_fields(s, tz)?),
        Kind::Map(m) => {
            let (Some(k), Some(v)) = (m.key_type.as_deref(), m.value_type.as_deref()) else {
                return plan_err!("map type without key or value type");
            };
            map_type(to_arrow(k, tz)?, to_arrow(v, tz)?, m.value_contains_null)
        }
        Kind::Udt(u) => match u.sql_type.as_deref() {
            Some(t) => to_arrow(t, tz)?,
            None => return plan_err!("user-defined type {} without SQL type", u.r#type),
        },
        Kind::Unparsed(u) => parse_ddl_type(&u.data_type_string, tz)?,
        other => return plan_err!("unsupported data type {other:?}"),
    })
}

fn struct_fields(s: &dt::Struct, tz: &str) -> Result<Fields> {
    s.fields
        .iter()
        .map(|f| {
            let t = f.data_type.as_ref().ok_or_else(|| DataFusionError::Plan("struct field without type".into()))?;
            Ok(Field::new(&f.name, to_arrow(t, tz)?, f.nullable))
        })
        .collect::<Result<Vec<_>>>()
        .map(Fields::from)
}

pub fn map_type(key: DataType, value: DataType, value_nullable: bool) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![Field::new("key", key, false), Field::new("value", value, value_nullable)])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

pub fn schema_to_spark(schema: &Schema) -> Result<SparkType> {
    Ok(SparkType {
        kind: Some(dt::Kind::Struct(dt::Struct {
            fields: schema.fields().iter().map(|f| field_to_spark(f)).collect::<Result<_>>()?,
            type_variation_reference: 0,
        })),
    })
}

fn field_to_spark(f: &Field) -> Result<dt::StructField> {
    Ok(dt::StructField {
        name: f.name().clone(),
        data_type: Some(match crate::interval::Interval::of_field(f) {
            Some(i) => interval_type(i),
            None => from_arrow(f.data_type())?,
        }),
        nullable: f.is_nullable(),
        metadata: None,
    })
}

/// The Spark type of an Arrow type. Arrow types Spark lacks (unsigned ints,
/// view strings) are reported as the Spark type the result is cast to.
pub fn from_arrow(t: &DataType) -> Result<SparkType> {
    use dt::Kind;
    let kind = match t {
        DataType::Null => Kind::Null(dt::Null::default()),
        DataType::Boolean => Kind::Boolean(dt::Boolean::default()),
        DataType::Int8 => Kind::Byte(dt::Byte::default()),
        DataType::Int16 | DataType::UInt8 => Kind::Short(dt::Short::default()),
        DataType::Int32 | DataType::UInt16 => Kind::Integer(dt::Integer::default()),
        DataType::Int64 | DataType::UInt32 => Kind::Long(dt::Long::default()),
        DataType::UInt64 => {
            Kind::Decimal(dt::Decimal { precision: Some(20), scale: Some(0), type_variation_reference: 0 })
        }
        DataType::Float16 | DataType::Float32 => Kind::Float(dt::Float::default()),
        DataType::Float64 => Kind::Double(dt::Double::default()),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Kind::Decimal(dt::Decimal {
            precision: Some(i32::from(*p)),
            scale: Some(i32::from(*s)),
            type_variation_reference: 0,
        }),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::String(dt::String::default()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            Kind::Binary(dt::Binary::default())
        }
        DataType::Date32 | DataType::Date64 => Kind::Date(dt::Date::default()),
        DataType::Timestamp(_, Some(_)) => Kind::Timestamp(dt::Timestamp::default()),
        DataType::Timestamp(_, None) => Kind::TimestampNtz(dt::TimestampNtz::default()),
        DataType::Interval(IntervalUnit::YearMonth) => {
            return Ok(interval_type(crate::interval::Interval::YEAR_TO_MONTH));
        }
        DataType::Duration(_) => return Ok(interval_type(crate::interval::Interval::DAY_TO_SECOND)),
        DataType::Interval(_) => Kind::CalendarInterval(dt::CalendarInterval::default()),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => Kind::Array(Box::new(dt::Array {
            element_type: Some(Box::new(from_arrow(f.data_type())?)),
            contains_null: f.is_nullable(),
            type_variation_reference: 0,
        })),
        DataType::Struct(fields) => Kind::Struct(dt::Struct {
            fields: fields.iter().map(|f| field_to_spark(f)).collect::<Result<_>>()?,
            type_variation_reference: 0,
        }),
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return plan_err!("malformed map type {t}");
            };
            let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                return plan_err!("malformed map type {t}");
            };
            Kind::Map(Box::new(dt::Map {
                key_type: Some(Box::new(from_arrow(k.data_type())?)),
                value_type: Some(Box::new(from_arrow(v.data_type())?)),
                value_contains_null: v.is_nullable(),
                type_variation_reference: 0,
            }))
        }
        DataType::Dictionary(_, v) => return from_arrow(v),
        other => return plan_err!("the Arrow type {other} has no Spark equivalent"),
    };
    Ok(SparkType { kind: Some(kind) })
}

/// The Spark type of an ANSI interval with its fields.
pub fn interval_type(i: crate::interval::Interval) -> SparkType {
    use crate::interval::Interval;
    let (start, end) = i.fields();
    let kind = match i {
        Interval::YearMonth(..) => dt::Kind::YearMonthInterval(dt::YearMonthInterval {
            start_field: Some(start),
            end_field: Some(end),
            type_variation_reference: 0,
        }),
        Interval::DayTime(..) => dt::Kind::DayTimeInterval(dt::DayTimeInterval {
            start_field: Some(start),
            end_field: Some(end),
            type_variation_reference: 0,
        }),
    };
    SparkType { kind: Some(kind) }
}

/// Spark's JSON form of a type (`DataType.json`), as PySpark parses it.
pub fn spark_json(t: &DataType) -> serde_json::Value {
    use serde_json::json;
    match t {
        DataType::Null => json!("void"),
        DataType::Int8 => json!("byte"),
        DataType::Int16 | DataType::UInt8 => json!("short"),
        DataType::Int32 | DataType::UInt16 => json!("integer"),
        DataType::Int64 | DataType::UInt32 => json!("long"),
        DataType::Timestamp(_, Some(_)) => json!("timestamp"),
        DataType::Interval(IntervalUnit::YearMonth) => json!("interval year to month"),
        DataType::Duration(_) => json!("interval day to second"),
        DataType::Interval(_) => json!("calendarinterval"),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => json!({
            "type": "array",
            "elementType": spark_json(f.data_type()),
            "containsNull": f.is_nullable(),
        }),
        DataType::Struct(fields) => json!({
            "type": "struct",
            "fields": fields
                .iter()
                .map(|f| json!({
                    "name": f.name(),
                    "type": spark_json(f.data_type()),
                    "nullable": f.is_nullable(),
                    "metadata": {},
                }))
                .collect::<Vec<_>>(),
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => json!({
                "type": "map",
                "keyType": spark_json(kv[0].data_type()),
                "valueType": spark_json(kv[1].data_type()),
                "valueContainsNull": kv[1].is_nullable(),
            }),
            _ => json!("map"),
        },
        DataType::Dictionary(_, v) => spark_json(v),
        other => json!(simple_string(other)),
    }
}

/// Spark's `simpleString` of a type: `int`, `bigint`, `decimal(10,2)`, `array<string>`.
pub fn simple_string(t: &DataType) -> String {
    match t {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "int".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::UInt64 => "decimal(20,0)".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            format!("decimal({p},{s})")
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            "binary".into()
        }
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp".into(),
        DataType::Timestamp(_, None) => "timestamp_ntz".into(),
        DataType::Interval(IntervalUnit::YearMonth) => "interval year to month".into(),
        DataType::Duration(_) => "interval day to second".into(),
        DataType::Interval(_) => "interval".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("array<{}>", simple_string(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), simple_string(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map<{},{}>", simple_string(kv[0].data_type()), simple_string(kv[1].data_type()))
            }
            _ => "map".into(),
        },
        DataType::Dictionary(_, v) => simple_string(v),
        other => other.to_string().to_lowercase(),
    }
}

/// Spark's `treeString` of a schema, as `printSchema()` prints it.
pub fn tree_string(schema: &Schema, level: Option<usize>) -> String {
    let mut out = String::from("root\n");
    for f in schema.fields() {
        tree_field(&mut out, f, 1, level.unwrap_or(usize::MAX));
    }
    out
}

fn tree_field(out: &mut String, f: &Field, depth: usize, max: usize) {
    if depth > max {
        return;
    }
    let prefix = " |   ".repeat(depth - 1);
    out.push_str(&format!(
        "{prefix} |-- {}: {} (nullable = {})\n",
        f.name(),
        type_name_for_tree(f.data_type()),
        f.is_nullable()
    ));
    tree_children(out, f.data_type(), depth + 1, max);
}

fn tree_children(out: &mut String, t: &DataType, depth: usize, max: usize) {
    if depth > max {
        return;
    }
    let prefix = " |   ".repeat(depth - 1);
    match t {
        DataType::Struct(fields) => fields.iter().for_each(|f| tree_field(out, f, depth, max)),
        DataType::List(e) | DataType::LargeList(e) => {
            out.push_str(&format!(
                "{prefix} |-- element: {} (containsNull = {})\n",
                type_name_for_tree(e.data_type()),
                e.is_nullable()
            ));
            tree_children(out, e.data_type(), depth + 1, max);
        }
        DataType::Map(entries, _) => {
            if let DataType::Struct(kv) = entries.data_type() {
                if let (Some(k), Some(v)) = (kv.first(), kv.get(1)) {
                    out.push_str(&format!("{prefix} |-- key: {}\n", type_name_for_tree(k.data_type())));
                    tree_children(out, k.data_type(), depth + 1, max);
                    out.push_str(&format!(
                        "{prefix} |-- value: {} (valueContainsNull = {})\n",
                        type_name_for_tree(v.data_type()),
                        v.is_nullable()
                    ));
                    tree_children(out, v.data_type(), depth + 1, max);
                }
            }
        }
        _ => {}
    }
}

/// Spark's `typeName` (what `printSchema` shows): `integer`, `long`, `struct`.
fn type_name_for_tree(t: &DataType) -> String {
    match t {
        DataType::Struct(_) => "struct".into(),
        DataType::List(_) | DataType::LargeList(_) => "array".into(),
        DataType::Map(..) => "map".into(),
        DataType::Int8 => "byte".into(),
        DataType::Int16 | DataType::UInt8 => "short".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "long".into(),
        other => simple_string(other),
    }
}

/// Parses a Spark DDL schema: `a int, b string` or `struct<a:int>`; a bare
/// type (`int`) becomes a single column named `value`, as Spark does.
pub fn parse_ddl_schema(ddl: &str, tz: &str) -> Result<Schema> {
    let mut p = DdlParser::new(ddl, tz);
    let trimmed = ddl.trim();
    if trimmed.to_ascii_lowercase().starts_with("struct<") {
        if let DataType::Struct(f) = p.data_type()? {
            p.end()?;
            return Ok(Schema::new(f));
        }
    }
    // Either a field list or a single type.
    let fields = p.field_list(None);
    match fields {
        Ok(f) if p.at_end() => Ok(Schema::new(f)),
        _ => {
            let t = parse_ddl_type(ddl, tz)?;
            Ok(Schema::new(vec![Field::new("value", t, true)]))
        }
    }
}

pub fn parse_ddl_type(ddl: &str, tz: &str) -> Result<DataType> {
    let mut p = DdlParser::new(ddl, tz);
    let t = p.data_type()?;
    p.end()?;
    Ok(t)
}

struct DdlParser<'a> {
    src: &'a str,
    pos: usize,
    tz: &'a str,
}

impl<'a> DdlParser<'a> {
    fn new(src: &'a str, tz: &'a str) -> Self {
        Self { src, pos: 0, tz }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.src[self.pos..].chars().next() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.src.len()
    }

    fn end(&mut self) -> Result<()> {
        if self.at_end() { Ok(()) } else { Err(self.error()) }
    }

    fn error(&self) -> DataFusionError {
        DataFusionError::SQL(
            Box::new(datafusion::sql::sqlparser::parser::ParserError::ParserError(format!(
                "[PARSE_SYNTAX_ERROR] Syntax error at or near '{}'. SQLSTATE: 42601 (in data type '{}')",
                self.src[self.pos..].chars().take(10).collect::<String>(),
                self.src
            ))),
            None,
        )
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.src[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<()> {
        if self.eat(c) { Ok(()) } else { Err(self.error()) }
    }

    fn ident(&mut self) -> Result<String> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        if let Some(stripped) = rest.strip_prefix('`') {
            let mut out = String::new();
            let mut chars = stripped.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '`' {
                    if let Some((_, '`')) = chars.peek() {
                        out.push('`');
                        chars.next();
                        continue;
                    }
                    self.pos += 1 + i + 1;
                    return Ok(out);
                }
                out.push(c);
            }
            return Err(self.error());
        }
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error());
        }
        self.pos += len;
        Ok(rest[..len].to_string())
    }

    fn number(&mut self) -> Result<u32> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        let len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n = rest[..len].parse().map_err(|_| self.error())?;
        self.pos += len;
        Ok(n)
    }

    /// `name [:] type [NOT NULL] [COMMENT '...'], ...` up to `close` or the end.
    fn field_list(&mut self, close: Option<char>) -> Result<Vec<Field>> {
        let mut fields = vec![];
        loop {
            if close.is_some() && self.peek() == close {
                break;
            }
            let name = self.ident()?;
            self.eat(':');
            let t = self.data_type()?;
            let mut nullable = true;
            let save = self.pos;
            if let Ok(w) = self.ident() {
                if w.eq_ignore_ascii_case("not") && self.ident().is_ok_and(|n| n.eq_ignore_ascii_case("null")) {
                    nullable = false;
                } else {
                    self.pos = save;
                }
            }
            fields.push(Field::new(name, t, nullable));
            if !self.eat(',') {
                break;
            }
        }
        Ok(fields)
    }

    fn data_type(&mut self) -> Result<DataType> {
        let name = self.ident()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" | "bool" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "string" => DataType::Utf8,
            "char" | "varchar" | "character" => {
                if self.eat('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::Utf8
            }
            "binary" => DataType::Binary,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => DataType::Timestamp(TimeUnit::Microsecond, Some(self.tz.into())),
            "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "void" | "null" => DataType::Null,
            // `interval`, `interval year to month`, `interval day`.
            "interval" => {
                let save = self.pos;
                let Ok(from) = self.ident() else {
                    self.pos = save;
                    return Ok(DataType::Interval(IntervalUnit::MonthDayNano));
                };
                let before_to = self.pos;
                let to = match self.ident() {
                    Ok(w) if w.eq_ignore_ascii_case("to") => self.ident()?,
                    _ => {
                        self.pos = before_to;
                        from.clone()
                    }
                };
                match crate::interval::Interval::parse(&format!("interval {from} to {to}")) {
                    Some(i) => i.data_type(),
                    None => {
                        self.pos = save;
                        DataType::Interval(IntervalUnit::MonthDayNano)
                    }
                }
            }
            "decimal" | "dec" | "numeric" => {
                if self.eat('(') {
                    let p = self.number()?;
                    let s = if self.eat(',') { self.number()? } else { 0 };
                    self.expect(')')?;
                    if p == 0 || p > 38 || s > p {
                        return plan_err!("[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION] decimal({p},{s}) is not valid");
                    }
                    DataType::Decimal128(p as u8, s as i8)
                } else {
                    DataType::Decimal128(10, 0)
                }
            }
            "array" => {
                self.expect('<')?;
                let e = self.data_type()?;
                self.expect('>')?;
                DataType::List(Arc::new(Field::new("element", e, true)))
            }
            "map" => {
                self.expect('<')?;
                let k = self.data_type()?;
                self.expect(',')?;
                let v = self.data_type()?;
                self.expect('>')?;
                map_type(k, v, true)
            }
            "struct" => {
                self.expect('<')?;
                let f = self.field_list(Some('>'))?;
                self.expect('>')?;
                DataType::Struct(Fields::from(f))
            }
            _ => {
                return Err(DataFusionError::SQL(
                    Box::new(datafusion::sql::sqlparser::parser::ParserError::ParserError(format!(
                        "[UNSUPPORTED_DATATYPE] Unsupported data type \"{}\". SQLSTATE: 0A000",
                        name.to_uppercase()
                    ))),
                    None,
                ));
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ddl_field_lists_and_nested_types() {
        let s = parse_ddl_schema(
            "a int, b string, c array<bigint>, d map<string,double>, e struct<x:int,y:decimal(10,2)>",
            UTC,
        )
        .unwrap();
        let names: Vec<_> = s.fields().iter().map(|f| simple_string(f.data_type())).collect();
        assert_eq!(names, ["int", "string", "array<bigint>", "map<string,double>", "struct<x:int,y:decimal(10,2)>"]);
        assert_eq!(s.field(0).name(), "a");
    }

    #[test]
    fn ddl_single_type_and_struct_form() {
        assert_eq!(parse_ddl_schema("int", UTC).unwrap().field(0).name(), "value");
        let s = parse_ddl_schema("struct<a: int not null, `b c`: string>", UTC).unwrap();
        assert_eq!(s.field(1).name(), "b c");
        assert!(!s.field(0).is_nullable());
        assert!(parse_ddl_type("foo", UTC).is_err());
        assert!(parse_ddl_schema("a int,", UTC).is_err());
    }

    #[test]
    fn arrow_round_trip() {
        for ddl in ["int", "decimal(12,3)", "array<string>", "map<int,string>", "struct<a:date,b:timestamp>"] {
            let t = parse_ddl_type(ddl, UTC).unwrap();
            assert_eq!(to_arrow(&from_arrow(&t).unwrap(), UTC).unwrap(), t, "{ddl}");
        }
    }

    #[test]
    fn tree_string_matches_spark() {
        let s = parse_ddl_schema("id bigint not null, tags array<string>", UTC).unwrap();
        assert_eq!(
            tree_string(&s, None),
            "root\n |-- id: long (nullable = false)\n |-- tags: array (nullable = true)\n |    |-- element: string (containsNull = true)\n"
        );
    }
}

/// Parses Spark's JSON schema (`StructType.json()`), as clients send with
/// `createDataFrame`.
pub fn parse_json_schema(json: &str, tz: &str) -> Result<Schema> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| DataFusionError::Plan(format!("invalid schema JSON: {e}")))?;
    match json_type(&v, tz)? {
        DataType::Struct(fields) => Ok(Schema::new(fields)),
        other => Ok(Schema::new(vec![Field::new("value", other, true)])),
    }
}

/// Spark's JSON form of any data type (`{"type": "array", …}`).
pub fn parse_json_type(json: &str, tz: &str) -> Result<DataType> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| DataFusionError::Plan(format!("invalid schema JSON: {e}")))?;
    json_type(&v, tz)
}

fn json_type(v: &serde_json::Value, tz: &str) -> Result<DataType> {
    use serde_json::Value;
    match v {
        Value::String(s) => parse_ddl_type(s, tz),
        Value::Object(o) => {
            let t = o.get("type").and_then(Value::as_str).unwrap_or_default();
            match t {
                "struct" => {
                    let mut fields = vec![];
                    for f in o.get("fields").and_then(Value::as_array).into_iter().flatten() {
                        let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
                        let ft = f.get("type").map(|t| json_type(t, tz)).transpose()?.unwrap_or(DataType::Null);
                        let nullable = f.get("nullable").and_then(Value::as_bool).unwrap_or(true);
                        fields.push(Field::new(name, ft, nullable));
                    }
                    Ok(DataType::Struct(Fields::from(fields)))
                }
                "array" => {
                    let e = o.get("elementType").map(|t| json_type(t, tz)).transpose()?.unwrap_or(DataType::Null);
                    let cn = o.get("containsNull").and_then(Value::as_bool).unwrap_or(true);
                    Ok(DataType::List(Arc::new(Field::new("element", e, cn))))
                }
                "map" => {
                    let k = o.get("keyType").map(|t| json_type(t, tz)).transpose()?.unwrap_or(DataType::Null);
                    let val = o.get("valueType").map(|t| json_type(t, tz)).transpose()?.unwrap_or(DataType::Null);
                    let vn = o.get("valueContainsNull").and_then(Value::as_bool).unwrap_or(true);
                    Ok(map_type(k, val, vn))
                }
                "udt" => match o.get("sqlType") {
                    Some(t) => json_type(t, tz),
                    None => plan_err!("user-defined type without sqlType"),
                },
                other => plan_err!("unknown type in schema JSON: {other}"),
            }
        }
        other => plan_err!("unexpected schema JSON: {other}"),
    }
}
