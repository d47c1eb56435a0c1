//! Connect literals → DataFusion `ScalarValue`s, with the column name Spark
//! gives a literal (`lit(1)` is named `1`, `lit("a")` is named `a`).

use std::sync::Arc;

use arrow::array::{ArrayRef, MapArray, StructArray, new_empty_array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, IntervalMonthDayNano, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use spark_connect_proto::expression::Literal;
use spark_connect_proto::expression::literal::{self, LiteralType};

use crate::types;

/// A literal's value and Spark's display name for it.
pub fn literal(lit: &Literal, tz: &str) -> Result<(ScalarValue, String)> {
    let Some(t) = &lit.literal_type else {
        return plan_err!("literal without a value");
    };
    Ok(match t {
        LiteralType::Null(dt) => {
            let t = types::to_arrow(dt, tz)?;
            (ScalarValue::try_from(&t)?, "NULL".into())
        }
        LiteralType::Binary(b) => (
            ScalarValue::Binary(Some(b.to_vec())),
            format!("X'{}'", b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
        ),
        LiteralType::Boolean(b) => (ScalarValue::Boolean(Some(*b)), b.to_string()),
        LiteralType::Byte(v) => (ScalarValue::Int8(Some(*v as i8)), v.to_string()),
        LiteralType::Short(v) => (ScalarValue::Int16(Some(*v as i16)), v.to_string()),
        LiteralType::Integer(v) => (ScalarValue::Int32(Some(*v)), v.to_string()),
        LiteralType::Long(v) => (ScalarValue::Int64(Some(*v)), v.to_string()),
        LiteralType::Float(v) => (ScalarValue::Float32(Some(*v)), crate::display::java_float(f64::from(*v))),
        LiteralType::Double(v) => (ScalarValue::Float64(Some(*v)), crate::display::java_float(*v)),
        LiteralType::Decimal(d) => {
            let (v, p, s) = parse_decimal(&d.value, d.precision, d.scale)?;
            (ScalarValue::Decimal128(Some(v), p, s), d.value.clone())
        }
        LiteralType::String(s) => (ScalarValue::Utf8(Some(s.clone())), s.clone()),
        LiteralType::Date(d) => {
            let s = ScalarValue::Date32(Some(*d));
            let name = format!("DATE '{}'", crate::display::date32(*d));
            (s, name)
        }
        LiteralType::Timestamp(us) => (
            ScalarValue::TimestampMicrosecond(Some(*us), Some(tz.into())),
            format!("TIMESTAMP '{}'", crate::display::timestamp_us(*us, Some(tz))),
        ),
        LiteralType::TimestampNtz(us) => (
            ScalarValue::TimestampMicrosecond(Some(*us), None),
            format!("TIMESTAMP_NTZ '{}'", crate::display::timestamp_us(*us, None)),
        ),
        LiteralType::CalendarInterval(ci) => (
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
                ci.months,
                ci.days,
                ci.microseconds.saturating_mul(1000),
            ))),
            format!("INTERVAL '{} months {} days {} microseconds'", ci.months, ci.days, ci.microseconds),
        ),
        LiteralType::YearMonthInterval(m) => {
            (ScalarValue::IntervalYearMonth(Some(*m)), crate::interval::Interval::YEAR_TO_MONTH.format(i64::from(*m)))
        }
        LiteralType::DayTimeInterval(us) => {
            (ScalarValue::DurationMicrosecond(Some(*us)), crate::interval::Interval::DAY_TO_SECOND.format(*us))
        }
        LiteralType::Array(a) => {
            let elem_type = lit.data_type.as_ref().and_then(|t| match &t.kind {
                Some(spark_connect_proto::data_type::Kind::Array(a)) => a.element_type.as_deref().cloned(),
                _ => None,
            });
            #[allow(deprecated)]
            let elem_type = elem_type.or_else(|| a.element_type.clone());
            let values = a.elements.iter().map(|e| literal(e, tz)).collect::<Result<Vec<_>>>()?;
            let names = values.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(", ");
            let scalars: Vec<ScalarValue> = values.into_iter().map(|(v, _)| v).collect();
            let dt = match elem_type {
                Some(t) => types::to_arrow(&t, tz)?,
                None => scalars.first().map(ScalarValue::data_type).unwrap_or(DataType::Null),
            };
            let arr = ScalarValue::new_list_nullable(&scalars, &dt);
            (ScalarValue::List(arr), format!("array({names})"))
        }
        LiteralType::SpecializedArray(a) => {
            use literal::specialized_array::ValueType;
            let (scalars, dt): (Vec<ScalarValue>, DataType) = match &a.value_type {
                Some(ValueType::Bools(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Boolean(Some(*x))).collect(), DataType::Boolean)
                }
                Some(ValueType::Ints(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Int32(Some(*x))).collect(), DataType::Int32)
                }
                Some(ValueType::Longs(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Int64(Some(*x))).collect(), DataType::Int64)
                }
                Some(ValueType::Floats(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Float32(Some(*x))).collect(), DataType::Float32)
                }
                Some(ValueType::Doubles(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Float64(Some(*x))).collect(), DataType::Float64)
                }
                Some(ValueType::Strings(v)) => {
                    (v.values.iter().map(|x| ScalarValue::Utf8(Some(x.clone()))).collect(), DataType::Utf8)
                }
                None => (vec![], DataType::Null),
            };
            let names = scalars.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ");
            (ScalarValue::List(ScalarValue::new_list_nullable(&scalars, &dt)), format!("array({names})"))
        }
        LiteralType::Struct(s) => {
            let values = s.elements.iter().map(|e| literal(e, tz)).collect::<Result<Vec<_>>>()?;
            let field_names: Vec<String> = match lit.data_type.as_ref().and_then(|t| t.kind.as_ref()) {
                Some(spark_connect_proto::data_type::Kind::Struct(st)) => {
                    st.fields.iter().map(|f| f.name.clone()).collect()
                }
                _ => {
                    #[allow(deprecated)]
                    let legacy = s.struct_type.as_ref().and_then(|t| match &t.kind {
                        Some(spark_connect_proto::data_type::Kind::Struct(st)) => {
                            Some(st.fields.iter().map(|f| f.name.clone()).collect())
                        }
                        _ => None,
                    });
                    legacy.unwrap_or_else(|| (1..=values.len()).map(|i| format!("col{i}")).collect())
                }
            };
            let names = values.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(", ");
            let mut fields = vec![];
            let mut arrays: Vec<ArrayRef> = vec![];
            for ((v, _), name) in values.into_iter().zip(field_names) {
                fields.push(Field::new(name, v.data_type(), true));
                arrays.push(v.to_array()?);
            }
            let arr = StructArray::try_new(Fields::from(fields), arrays, None)?;
            (ScalarValue::Struct(Arc::new(arr)), format!("struct({names})"))
        }
        LiteralType::Map(m) => {
            let keys = m.keys.iter().map(|e| literal(e, tz).map(|x| x.0)).collect::<Result<Vec<_>>>()?;
            let values = m.values.iter().map(|e| literal(e, tz).map(|x| x.0)).collect::<Result<Vec<_>>>()?;
            let (kt, vt) = match lit.data_type.as_ref().and_then(|t| t.kind.as_ref()) {
                Some(spark_connect_proto::data_type::Kind::Map(mt)) => (
                    mt.key_type.as_deref().map(|t| types::to_arrow(t, tz)).transpose()?,
                    mt.value_type.as_deref().map(|t| types::to_arrow(t, tz)).transpose()?,
                ),
                _ => (None, None),
            };
            let kt = kt.or_else(|| keys.first().map(ScalarValue::data_type)).unwrap_or(DataType::Null);
            let vt = vt.or_else(|| values.first().map(ScalarValue::data_type)).unwrap_or(DataType::Null);
            let key_arr = if keys.is_empty() { new_empty_array(&kt) } else { ScalarValue::iter_to_array(keys)? };
            let val_arr = if values.is_empty() { new_empty_array(&vt) } else { ScalarValue::iter_to_array(values)? };
            let DataType::Map(entries_field, _) = types::map_type(kt, vt, true) else {
                return plan_err!("internal: map type");
            };
            let DataType::Struct(kv_fields) = entries_field.data_type().clone() else {
                return plan_err!("internal: map entries");
            };
            let n = key_arr.len();
            let entries = StructArray::try_new(kv_fields, vec![key_arr, val_arr], None)?;
            let map = MapArray::try_new(entries_field, OffsetBuffer::from_lengths([n]), entries, None, false)?;
            (ScalarValue::Map(Arc::new(map)), "map(...)".into())
        }
        LiteralType::Time(t) => (ScalarValue::Time64Nanosecond(Some(t.nano)), "TIME".into()),
        LiteralType::TimestampNtzNanos(t) => (
            ScalarValue::TimestampMicrosecond(Some(t.epoch_micros), None),
            format!("TIMESTAMP_NTZ '{}'", crate::display::timestamp_us(t.epoch_micros, None)),
        ),
        LiteralType::TimestampLtzNanos(t) => (
            ScalarValue::TimestampMicrosecond(Some(t.epoch_micros), Some(tz.into())),
            format!("TIMESTAMP '{}'", crate::display::timestamp_us(t.epoch_micros, Some(tz))),
        ),
    })
}

/// Parses `"123.450"` into (unscaled, precision, scale) as Spark's Connect
/// planner does: the value's own precision and scale, widened to the
/// client's (PySpark sends `lit(Decimal("1.25"))` as decimal(10,0), which
/// Spark reads as decimal(10,2)); digits are never dropped.
pub fn parse_decimal(text: &str, precision: Option<i32>, scale: Option<i32>) -> Result<(i128, u8, i8)> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if !int_part.chars().chain(frac_part.chars()).all(|c| c.is_ascii_digit())
        || (int_part.is_empty() && frac_part.is_empty())
    {
        return Err(DataFusionError::Plan(format!("invalid decimal literal {text}")));
    }
    let natural_scale = frac_part.len() as i32;
    let target_scale = scale.unwrap_or(natural_scale).max(natural_scale);
    let mut all = format!("{int_part}{frac_part}");
    all.extend(std::iter::repeat_n('0', (target_scale - natural_scale) as usize));
    let mut v: i128 = all.trim_start_matches('0').parse().unwrap_or(0);
    if neg {
        v = -v;
    }
    let digits_count = all.trim_start_matches('0').len().max(1) as i32;
    let p = precision.unwrap_or(0).max(digits_count).max(target_scale).max(1);
    if p > 38 {
        return Err(DataFusionError::Plan(format!(
            "[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION] Decimal precision {p} exceeds max precision 38."
        )));
    }
    Ok((v, p as u8, target_scale as i8))
}

/// A typed null, for `lit(None)` and missing `na.fill` values.
pub fn null_of(t: &DataType) -> Result<ScalarValue> {
    ScalarValue::try_from(t)
}

/// The microsecond timestamp type Spark uses, in the session time zone.
pub fn timestamp_type(tz: &str) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(tz.into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_precision_and_scale() {
        assert_eq!(parse_decimal("123.450", None, None).unwrap(), (123450, 6, 3));
        assert_eq!(parse_decimal("-1.5", Some(10), Some(2)).unwrap(), (-150, 10, 2));
        assert_eq!(parse_decimal("0.001", None, None).unwrap(), (1, 3, 3));
        // PySpark's lit(Decimal("1.25")) says decimal(10,0): Spark keeps the digits.
        assert_eq!(parse_decimal("1.25", Some(10), Some(0)).unwrap(), (125, 10, 2));
        assert!(parse_decimal("1e5", None, None).is_err());
    }
}

/// A result value as a Connect literal (observed metrics): Spark's scalar
/// types; NULL carries its type.
pub fn to_proto(v: &ScalarValue) -> Result<Literal> {
    use datafusion::common::exec_err;
    if v.is_null() {
        let t = types::from_arrow(&v.data_type()).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        return Ok(Literal { data_type: None, literal_type: Some(LiteralType::Null(t)) });
    }
    let value = match v {
        ScalarValue::Boolean(Some(b)) => LiteralType::Boolean(*b),
        ScalarValue::Int8(Some(i)) => LiteralType::Byte(i32::from(*i)),
        ScalarValue::Int16(Some(i)) => LiteralType::Short(i32::from(*i)),
        ScalarValue::Int32(Some(i)) => LiteralType::Integer(*i),
        ScalarValue::Int64(Some(i)) => LiteralType::Long(*i),
        ScalarValue::Float32(Some(f)) => LiteralType::Float(*f),
        ScalarValue::Float64(Some(f)) => LiteralType::Double(*f),
        ScalarValue::Decimal128(Some(_), p, s) => LiteralType::Decimal(literal::Decimal {
            value: v.to_string(),
            precision: Some(i32::from(*p)),
            scale: Some(i32::from(*s)),
        }),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            LiteralType::String(s.clone())
        }
        ScalarValue::Binary(Some(b)) | ScalarValue::LargeBinary(Some(b)) | ScalarValue::BinaryView(Some(b)) => {
            LiteralType::Binary(b.clone().into())
        }
        ScalarValue::Date32(Some(d)) => LiteralType::Date(*d),
        ScalarValue::TimestampMicrosecond(Some(t), Some(_)) => LiteralType::Timestamp(*t),
        ScalarValue::TimestampMicrosecond(Some(t), None) => LiteralType::TimestampNtz(*t),
        other => return exec_err!("[UNSUPPORTED_FEATURE] an observed metric of type {}", other.data_type()),
    };
    Ok(Literal { data_type: None, literal_type: Some(value) })
}
