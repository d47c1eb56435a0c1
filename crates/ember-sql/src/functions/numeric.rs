//! Spark's decimal rounding of doubles: `bround` (HALF_EVEN) and
//! `format_number` (`#,###.##`, HALF_EVEN as Java's DecimalFormat).
//!
//! Spark rounds a double through its shortest decimal form
//! (`BigDecimal(d.toString)`), so `bround(2.675, 2)` is 2.68 although the
//! binary value is 2.67499…; rounding the binary value would give 2.67.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

/// A decimal number as digits: `digits` with the decimal point after
/// `point` of them (`point` may be negative or exceed the length).
struct Digits {
    negative: bool,
    digits: Vec<u8>,
    point: i64,
}

impl Digits {
    /// The shortest decimal form of a finite double (Rust's `Display`
    /// prints it without an exponent).
    fn of_f64(v: f64) -> Self {
        Self::parse(&format!("{v}"))
    }

    fn of_i64(v: i64) -> Self {
        Self::parse(&v.to_string())
    }

    fn parse(s: &str) -> Self {
        let negative = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        Self { negative, digits, point: int.len() as i64 }
    }

    /// Rounds HALF_EVEN to `scale` digits after the point (negative:
    /// before it).
    fn round_half_even(mut self, scale: i64) -> Self {
        let keep = self.point + scale;
        if keep >= self.digits.len() as i64 {
            return self;
        }
        if keep < 0 {
            self.digits = vec![0];
            self.point = 1;
            return self;
        }
        let keep = keep as usize;
        let first_dropped = self.digits[keep];
        let rest_nonzero = self.digits[keep + 1..].iter().any(|&d| d != 0);
        let last_kept_odd = keep > 0 && self.digits[keep - 1] % 2 == 1;
        let up = first_dropped > 5 || (first_dropped == 5 && (rest_nonzero || last_kept_odd));
        self.digits.truncate(keep);
        if up {
            let mut i = keep;
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    self.point += 1;
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        self
    }

    /// The integer and fraction digit strings (`scale` fraction digits).
    fn parts(&self, scale: usize) -> (String, String) {
        let digit = |i: i64| -> char {
            if i >= 0 && (i as usize) < self.digits.len() { (b'0' + self.digits[i as usize]) as char } else { '0' }
        };
        let int: String = if self.point <= 0 { "0".into() } else { (0..self.point).map(digit).collect() };
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0".to_string() } else { int.to_string() };
        let frac: String = (self.point..self.point + scale as i64).map(digit).collect();
        (int, frac)
    }
}

fn scale_arg(args: &[ColumnarValue], name: &str) -> Result<Option<i64>> {
    match args.get(1) {
        None => Ok(Some(0)),
        Some(ColumnarValue::Scalar(s)) if s.is_null() => Ok(None),
        Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(v) => Ok(v),
            _ => exec_err!("{name}: the scale must be an integer"),
        },
        Some(ColumnarValue::Array(_)) => exec_err!("{name}: the scale must be a literal"),
    }
}

/// `bround(x[, d])`: HALF_EVEN rounding to `d` decimal places.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BRound {
    signature: Signature,
}

impl BRound {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for BRound {
    fn name(&self) -> &str {
        "bround"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = match arg_types.first() {
            Some(
                t @ (DataType::Float64
                | DataType::Float32
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64),
            ) => t.clone(),
            Some(DataType::Null) => DataType::Float64,
            Some(t) => return plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] bround of a {t} is not supported"),
            None => return plan_err!("bround takes 1 or 2 arguments"),
        };
        match arg_types.len() {
            1 => Ok(vec![value]),
            2 if arg_types[1].is_integer() => Ok(vec![value, DataType::Int32]),
            _ => plan_err!("bround takes a number and an integer scale"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let out_type = args.return_field.data_type().clone();
        let values = args.args[0].to_array(args.number_rows)?;
        let Some(scale) = scale_arg(&args.args, "bround")? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_new_null(&out_type)?));
        };
        let rounded: ArrayRef = if out_type.is_integer() {
            let v = cast(&values, &DataType::Int64)?;
            let v: Int64Array = v.as_primitive::<Int64Type>().iter().map(|x| x.map(|x| round_i64(x, scale))).collect();
            Arc::new(v)
        } else {
            let v = cast(&values, &DataType::Float64)?;
            let v: Float64Array =
                v.as_primitive::<Float64Type>().iter().map(|x| x.map(|x| round_f64(x, scale))).collect();
            Arc::new(v)
        };
        Ok(ColumnarValue::Array(cast(&rounded, &out_type)?))
    }
}

fn round_f64(v: f64, scale: i64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let d = Digits::of_f64(v).round_half_even(scale);
    let (int, frac) = d.parts(scale.max(0) as usize);
    let sign = if d.negative { "-" } else { "" };
    format!("{sign}{int}.{frac}0").parse().unwrap_or(v)
}

fn round_i64(v: i64, scale: i64) -> i64 {
    if scale >= 0 {
        return v;
    }
    let d = Digits::of_i64(v).round_half_even(scale);
    let (int, _) = d.parts(0);
    let sign = if d.negative { "-" } else { "" };
    format!("{sign}{int}").parse().unwrap_or(v)
}

/// Spark's `round`/`bround` of a decimal, and `ceil`/`floor` with a
/// scale: decimal(p, s) rounded to `d` places is decimal(p - s + 1 +
/// min(s, d), min(s, d)) (for a negative `d`, decimal(max(p - s + 1, 1 -
/// d), 0)). `ceil` and `floor` with a scale take other numbers as the
/// decimals Spark casts them to. Other calls go to the wrapped function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DecimalRound {
    inner: datafusion::logical_expr::ScalarUDF,
    mode: Rounding,
    signature: Signature,
}

impl DecimalRound {
    pub fn new(inner: datafusion::logical_expr::ScalarUDF, mode: Rounding) -> Self {
        Self { inner, mode, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// How a dropped fraction rounds: `round`'s HALF_UP, `bround`'s HALF_EVEN,
/// `ceil`'s CEILING, `floor`'s FLOOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    HalfUp,
    HalfEven,
    Ceiling,
    Floor,
}

/// The decimal Spark casts a number to where a decimal is expected:
/// decimal(10, 0) for an int, decimal(30, 15) for a double, ….
fn as_decimal(t: &DataType) -> Option<DataType> {
    let (p, s) = match t {
        DataType::Decimal128(..) => return Some(t.clone()),
        DataType::Int8 => (3, 0),
        DataType::Int16 => (5, 0),
        DataType::Int32 => (10, 0),
        DataType::Int64 => (20, 0),
        DataType::Float32 => (14, 7),
        DataType::Float64 => (30, 15),
        // Spark's untyped NULL is a decimal(38, 18) there.
        DataType::Null => (38, 18),
        _ => return None,
    };
    Some(DataType::Decimal128(p, s))
}

/// The type of a decimal(p, s) rounded to `d` places.
fn rounded_decimal(p: u8, s: i8, d: i64) -> DataType {
    let integral = (p as i64 - s as i64 + 1).max(1);
    if d < 0 {
        return DataType::Decimal128(integral.max(1 - d).min(38) as u8, 0);
    }
    let scale = (s as i64).min(d).max(0);
    DataType::Decimal128((integral + scale).min(38) as u8, scale as i8)
}

/// `v` (of scale `s`) rounded to `d` places, at scale max(min(s, d), 0).
fn round_decimal(v: i128, s: i8, d: i64, mode: Rounding) -> Option<i128> {
    let drop = s as i64 - d;
    if drop <= 0 {
        return Some(v);
    }
    // |v| < 10^38 is less than half of 10^39: it rounds to 0.
    if drop > 38 {
        return Some(0);
    }
    let factor = 10i128.pow(drop as u32);
    let (q, r) = (v / factor, (v % factor).abs());
    // r against factor - r: 2r would overflow for factor 10^38.
    let rest = factor - r;
    let up = match mode {
        Rounding::HalfUp => r >= rest,
        Rounding::HalfEven => r > rest || (r == rest && q % 2 != 0),
        Rounding::Ceiling => r != 0 && v > 0,
        Rounding::Floor => r != 0 && v < 0,
    };
    let q = if up { q + v.signum() } else { q };
    // A negative `d` keeps scale 0: the rounded value times 10^-d.
    if d < 0 { q.checked_mul(10i128.checked_pow((-d) as u32)?) } else { Some(q) }
}

impl ScalarUDFImpl for DecimalRound {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Decimal128(..)] => Ok(arg_types.to_vec()),
            // The scale keeps its type: a cast would hide the literal that
            // decides the result type.
            [DataType::Decimal128(..), s] if s.is_integer() => Ok(arg_types.to_vec()),
            [t, s] if matches!(self.mode, Rounding::Ceiling | Rounding::Floor) && s.is_integer() => {
                match as_decimal(t) {
                    Some(d) => Ok(vec![d, s.clone()]),
                    None => plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] {} with a scale takes a number, not {t}",
                        self.name()
                    ),
                }
            }
            _ => super::coerced_types(arg_types, &self.inner),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::Decimal128(p, s)] => Ok(rounded_decimal(*p, *s, 0)),
            [DataType::Decimal128(..), _] => {
                datafusion::common::internal_err!("the type of a rounded decimal comes from its scale argument")
            }
            _ => self.inner.return_type(arg_types),
        }
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let DataType::Decimal128(p, s) = args.arg_fields[0].data_type() else {
            return self.inner.return_field_from_args(args);
        };
        let d = match args.scalar_arguments.get(1) {
            None => 0,
            Some(Some(v)) => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(d)) => d,
                _ => 0,
            },
            Some(None) => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The `scale` of {} must be a constant integer.",
                    self.name()
                );
            }
        };
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(self.name(), rounded_decimal(*p, *s, d), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(_, s) = args.arg_fields[0].data_type() else {
            return self.inner.invoke_with_args(args);
        };
        let s = *s;
        let out_type = args.return_field.data_type().clone();
        let Some(d) = scale_arg(&args.args, self.name())? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_new_null(&out_type)?));
        };
        let values = args.args[0].to_array(args.number_rows)?;
        let rounded: datafusion::arrow::array::Decimal128Array = values
            .as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()
            .iter()
            .map(|v| match v {
                None => Ok(None),
                Some(v) => round_decimal(v, s, d, self.mode).map(Some).ok_or_else(|| {
                    datafusion::common::DataFusionError::Execution(format!(
                        "[NUMERIC_VALUE_OUT_OF_RANGE] {}: rounding {v} (scale {s}) to {d} places overflows a decimal",
                        self.name()
                    ))
                }),
            })
            .collect::<Result<_>>()?;
        let DataType::Decimal128(p, scale) = out_type else {
            return datafusion::common::internal_err!("a rounded decimal is a decimal, not {out_type}");
        };
        let rounded = rounded.with_precision_and_scale(p, scale)?;
        // A carry may need a digit the result type lacks (99 rounded to -1).
        rounded.validate_decimal_precision(p).map_err(|_| {
            datafusion::common::DataFusionError::Execution(format!(
                "[NUMERIC_VALUE_OUT_OF_RANGE] {} of a decimal does not fit decimal({p}, {scale})",
                self.name()
            ))
        })?;
        Ok(ColumnarValue::Array(Arc::new(rounded)))
    }
}

/// `format_number(x, d)`: `x` with `d` decimals and thousands separators.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FormatNumber {
    signature: Signature,
}

impl FormatNumber {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for FormatNumber {
    fn name(&self) -> &str {
        "format_number"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, scale] = arg_types else { return plan_err!("format_number takes a number and a scale") };
        if !scale.is_integer() && scale != &DataType::Null {
            return plan_err!("format_number: only an integer number of decimal places is supported, not {scale}");
        }
        let value = match value {
            t if t.is_integer() => DataType::Int64,
            DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Null => DataType::Float64,
            t @ (DataType::Decimal128(..) | DataType::Decimal256(..)) => t.clone(),
            t => return plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] format_number of a {t}"),
        };
        Ok(vec![value, DataType::Int32])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = args.args[0].to_array(args.number_rows)?;
        // A decimal's exact digits, as text.
        let values = match values.data_type() {
            DataType::Decimal128(..) | DataType::Decimal256(..) => cast(&values, &DataType::Utf8)?,
            _ => values,
        };
        let scale = match scale_arg(&args.args, "format_number")? {
            Some(s) if s >= 0 => s,
            _ => return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
        };
        let digits = |i: usize| -> Option<Digits> {
            if values.is_null(i) {
                return None;
            }
            Some(match values.data_type() {
                DataType::Int64 => Digits::of_i64(values.as_primitive::<Int64Type>().value(i)),
                DataType::Float64 => {
                    let v = values.as_primitive::<Float64Type>().value(i);
                    if !v.is_finite() {
                        return None;
                    }
                    Digits::of_f64(v)
                }
                _ => Digits::parse(values.as_string::<i32>().value(i)),
            })
        };
        let out: StringArray = (0..values.len())
            .map(|i| {
                digits(i).map(|d| {
                    let d = d.round_half_even(scale);
                    let (int, frac) = d.parts(scale as usize);
                    let mut grouped = String::new();
                    for (k, c) in int.chars().enumerate() {
                        if k > 0 && (int.len() - k) % 3 == 0 {
                            grouped.push(',');
                        }
                        grouped.push(c);
                    }
                    // Java's DecimalFormat keeps the sign of a negative
                    // number that rounds to zero ("-0.00").
                    let sign = if d.negative { "-" } else { "" };
                    if scale > 0 { format!("{sign}{grouped}.{frac}") } else { format!("{sign}{grouped}") }
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Digits, Rounding, round_decimal, round_f64, round_i64};

    #[test]
    fn decimal_rounding_modes() {
        // -12345 at scale 1 is -1234.5.
        assert_eq!(round_decimal(-12345, 1, 0, Rounding::HalfUp), Some(-1235));
        assert_eq!(round_decimal(-12345, 1, 0, Rounding::HalfEven), Some(-1234));
        assert_eq!(round_decimal(-12345, 1, 0, Rounding::Ceiling), Some(-1234));
        assert_eq!(round_decimal(-12345, 1, 0, Rounding::Floor), Some(-1235));
        assert_eq!(round_decimal(12341, 1, 0, Rounding::Ceiling), Some(1235));
        assert_eq!(round_decimal(12349, 1, 0, Rounding::Floor), Some(1234));
        // To hundreds: ceil(1234.5, -2) = 1300, floor(-1234.5, -2) = -1300.
        assert_eq!(round_decimal(12345, 1, -2, Rounding::Ceiling), Some(1300));
        assert_eq!(round_decimal(-12345, 1, -2, Rounding::Floor), Some(-1300));
        // Nothing dropped: unchanged.
        assert_eq!(round_decimal(12300, 2, 2, Rounding::Ceiling), Some(12300));
    }

    #[test]
    fn half_even_on_the_shortest_decimal_form() {
        assert_eq!(round_f64(2.5, 0), 2.0);
        assert_eq!(round_f64(3.5, 0), 4.0);
        assert_eq!(round_f64(0.125, 2), 0.12);
        // Spark gives 2.68: it rounds "2.675", not the binary 2.67499...
        assert_eq!(round_f64(2.675, 2), 2.68);
        assert_eq!(round_f64(-1.5, 0), -2.0);
        assert_eq!(round_f64(9.99, 1), 10.0);
        assert_eq!(round_i64(25, -1), 20);
        assert_eq!(round_i64(35, -1), 40);
        assert_eq!(round_i64(-251, -1), -250);
    }

    #[test]
    fn parts_pad_and_group() {
        let d = Digits::of_f64(1234567.891).round_half_even(2);
        assert_eq!(d.parts(2), ("1234567".to_string(), "89".to_string()));
        let d = Digits::of_f64(0.004).round_half_even(2);
        assert_eq!(d.parts(2), ("0".to_string(), "00".to_string()));
    }
}
