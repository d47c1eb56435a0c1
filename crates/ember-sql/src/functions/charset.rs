//! `encode(str, charset)` and `decode(bin, charset)`: text to bytes and
//! back in one of the charsets Spark accepts (`UTF-8`, `US-ASCII`,
//! `ISO-8859-1`, `UTF-16BE`, `UTF-16LE`, `UTF-16`, any case). A character
//! the charset cannot hold, or bytes that are not valid in it, are Spark's
//! MALFORMED_CHARACTER_CODING error, as Spark 4 reports them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use ember_common::{ExceptionClass, SparkError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16Be,
    Utf16Le,
    /// Java's `UTF-16`: big-endian with a byte-order mark when encoding;
    /// decoding follows a mark, else big-endian.
    Utf16,
}

impl Charset {
    fn parse(name: &str, function: &str) -> Result<Self> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "UTF-8" | "UTF8" => Self::Utf8,
            "US-ASCII" | "ASCII" => Self::Ascii,
            "ISO-8859-1" | "LATIN1" => Self::Latin1,
            "UTF-16BE" => Self::Utf16Be,
            "UTF-16LE" => Self::Utf16Le,
            "UTF-16" => Self::Utf16,
            _ => {
                let e = SparkError::with_class(
                    ExceptionClass::IllegalArgument,
                    "INVALID_PARAMETER_VALUE.CHARSET",
                    "22023",
                    format!(
                        "The value of parameter(s) `charset` in `{function}` is invalid: expects one of the \
                         `utf-8`, `utf-16`, `utf-16be`, `utf-16le`, `us-ascii`, `iso-8859-1`, but got {name}."
                    ),
                );
                return Err(DataFusionError::External(Box::new(e)));
            }
        })
    }

    fn encode(self, s: &str) -> Option<Vec<u8>> {
        let units = |be: bool| s.encode_utf16().flat_map(move |u| if be { u.to_be_bytes() } else { u.to_le_bytes() });
        Some(match self {
            Self::Utf8 => s.as_bytes().to_vec(),
            Self::Ascii => s.chars().map(|c| u8::try_from(c).ok().filter(u8::is_ascii)).collect::<Option<_>>()?,
            Self::Latin1 => s.chars().map(|c| u8::try_from(c).ok()).collect::<Option<_>>()?,
            Self::Utf16Be => units(true).collect(),
            Self::Utf16Le => units(false).collect(),
            Self::Utf16 => [0xFE, 0xFF].into_iter().chain(units(true)).collect(),
        })
    }

    fn decode(self, b: &[u8]) -> Option<String> {
        let utf16 = |b: &[u8], be: bool| -> Option<String> {
            if b.len() % 2 != 0 {
                return None;
            }
            let units = b
                .chunks(2)
                .map(|c| if be { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) });
            char::decode_utf16(units).collect::<std::result::Result<String, _>>().ok()
        };
        match self {
            Self::Utf8 => std::str::from_utf8(b).ok().map(str::to_string),
            Self::Ascii => b.iter().map(|&c| c.is_ascii().then_some(c as char)).collect(),
            Self::Latin1 => Some(b.iter().map(|&c| c as char).collect()),
            Self::Utf16Be => utf16(b, true),
            Self::Utf16Le => utf16(b, false),
            Self::Utf16 => match b {
                [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
                [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
                _ => utf16(b, true),
            },
        }
    }
}

fn malformed(function: &str, charset: &str) -> DataFusionError {
    let e = SparkError::with_class(
        ExceptionClass::Runtime,
        "MALFORMED_CHARACTER_CODING",
        "22000",
        format!("Invalid value found when performing `{function}` with `{charset}`"),
    );
    DataFusionError::External(Box::new(e))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CharsetCoding {
    /// `encode`, else `decode`.
    encode: bool,
    signature: Signature,
}

impl CharsetCoding {
    pub fn encode() -> Self {
        Self { encode: true, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn decode() -> Self {
        Self { encode: false, ..Self::encode() }
    }
}

impl ScalarUDFImpl for CharsetCoding {
    fn name(&self) -> &str {
        if self.encode { "encode" } else { "decode" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 2 parameters but the actual number is {}.",
                self.name(),
                types.len()
            );
        }
        // Spark casts a string to decode to binary, and anything to encode to string.
        Ok(vec![if self.encode { DataType::Utf8 } else { DataType::Binary }, DataType::Utf8])
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(if self.encode { DataType::Binary } else { DataType::Utf8 })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let value = args.args[0].to_array(rows)?;
        let names = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let names = names.as_string::<i32>();
        let charset = |row: usize| -> Result<Option<(Charset, &str)>> {
            if value.is_null(row) || names.is_null(row) {
                return Ok(None);
            }
            let name = names.value(row);
            Ok(Some((Charset::parse(name, self.name())?, name)))
        };
        if self.encode {
            let text = value.as_string::<i32>();
            let mut out = BinaryBuilder::new();
            for row in 0..rows {
                match charset(row)? {
                    Some((c, name)) => {
                        out.append_value(c.encode(text.value(row)).ok_or_else(|| malformed("encode", name))?)
                    }
                    None => out.append_null(),
                }
            }
            return Ok(ColumnarValue::Array(Arc::new(out.finish())));
        }
        let bytes = value.as_binary::<i32>();
        let mut out = StringBuilder::new();
        for row in 0..rows {
            match charset(row)? {
                Some((c, name)) => {
                    out.append_value(c.decode(bytes.value(row)).ok_or_else(|| malformed("decode", name))?)
                }
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `to_binary(str[, fmt])` and `try_to_binary`: the bytes that `str`
/// spells in `fmt`: `hex` (the default; an odd length starts with one
/// nibble), `utf-8`/`utf8`, or `base64`. Text that does not spell bytes is
/// Spark's CONVERSION_INVALID_INPUT (NULL from `try_to_binary`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToBinary {
    /// `try_to_binary`: NULL for malformed text.
    lenient: bool,
    signature: Signature,
}

impl ToBinary {
    pub fn new(lenient: bool) -> Self {
        Self { lenient, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinaryFormat {
    Hex,
    Utf8,
    Base64,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let (head, rest) = b.split_at(b.len() % 2);
    let mut out: Vec<u8> = head.iter().map(|&c| nibble(c)).collect::<Option<_>>()?;
    for pair in rest.chunks(2) {
        out.push(nibble(pair[0])? << 4 | nibble(pair[1])?);
    }
    Some(out)
}

/// Base64 as Spark validates it: the alphabet, then only padding; white
/// space is skipped; a lone trailing character spells no byte.
fn unbase64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut sextets = vec![];
    let mut padding = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        match (c, padding) {
            (b'=', _) => padding += 1,
            (_, 0) => sextets.push(value(c)?),
            _ => return None,
        }
    }
    if sextets.len() % 4 == 1 || padding > 2 || (padding > 0 && (sextets.len() + padding) % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let bits = chunk.iter().fold(0u32, |acc, &v| acc << 6 | u32::from(v)) << (6 * (4 - chunk.len()));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

impl ScalarUDFImpl for ToBinary {
    fn name(&self) -> &str {
        if self.lenient { "try_to_binary" } else { "to_binary" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&types.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [1, 2] parameters but the actual number is {}.",
                self.name(),
                types.len()
            );
        }
        Ok(vec![DataType::Utf8; types.len()])
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let text = args.args[0].to_array(rows)?;
        let text = text.as_string::<i32>();
        let formats = args.args.get(1).map(|f| f.to_array(rows)).transpose()?;
        let format = |row: usize| -> Result<Option<(BinaryFormat, String)>> {
            let Some(f) = &formats else { return Ok(Some((BinaryFormat::Hex, "hex".into()))) };
            let f = f.as_string::<i32>();
            if f.is_null(row) {
                return Ok(None);
            }
            let name = f.value(row);
            let format = match name.to_ascii_lowercase().as_str() {
                "hex" => BinaryFormat::Hex,
                "utf-8" | "utf8" => BinaryFormat::Utf8,
                "base64" => BinaryFormat::Base64,
                _ => {
                    let e = SparkError::with_class(
                        ExceptionClass::Analysis,
                        "DATATYPE_MISMATCH.INVALID_ARG_VALUE",
                        "42K09",
                        format!(
                            "Cannot resolve \"{}\" due to data type mismatch: The fmt value must to be a case-insensitive \"STRING\" literal of 'hex', 'utf-8', 'utf8', or 'base64', but got '{name}'.",
                            self.name()
                        ),
                    );
                    return Err(DataFusionError::External(Box::new(e)));
                }
            };
            Ok(Some((format, name.to_ascii_uppercase())))
        };
        let mut out = BinaryBuilder::new();
        for row in 0..rows {
            let Some((format, name)) = format(row)? else {
                out.append_null();
                continue;
            };
            if text.is_null(row) {
                out.append_null();
                continue;
            }
            let s = text.value(row);
            let bytes = match format {
                BinaryFormat::Hex => unhex(s),
                BinaryFormat::Utf8 => Some(s.as_bytes().to_vec()),
                BinaryFormat::Base64 => unbase64(s),
            };
            match bytes {
                Some(b) => out.append_value(b),
                None if self.lenient => out.append_null(),
                None => {
                    let e = SparkError::with_class(
                        ExceptionClass::IllegalArgument,
                        "CONVERSION_INVALID_INPUT",
                        "22018",
                        format!(
                            "The value '{s}' ('{name}') cannot be converted to \"BINARY\" because it is malformed. Correct the value as per the syntax, or change its format. Use `try_to_binary` to tolerate malformed input and return NULL instead."
                        ),
                    );
                    return Err(DataFusionError::External(Box::new(e)));
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_as_spark_reads_them() {
        assert_eq!(unhex("616263"), Some(b"abc".to_vec()));
        assert_eq!(unhex("F"), Some(vec![0x0F]));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unbase64("YWJj"), Some(b"abc".to_vec()));
        assert_eq!(unbase64("YWJ"), Some(b"ab".to_vec()));
        assert_eq!(unbase64("YW=="), Some(b"a".to_vec()));
        assert_eq!(unbase64("YWJ j"), Some(b"abc".to_vec()));
        assert_eq!(unbase64("!!"), None);
        assert_eq!(unbase64("Y"), None);
        assert_eq!(unbase64("YW=a"), None);
    }

    #[test]
    fn java_bytes() {
        // Java's String.getBytes(charset), which Spark's encode calls.
        assert_eq!(Charset::Utf16.encode("ab"), Some(vec![0xFE, 0xFF, 0, 0x61, 0, 0x62]));
        assert_eq!(Charset::Utf16Le.encode("é"), Some(vec![0xE9, 0]));
        assert_eq!(Charset::Latin1.encode("é"), Some(vec![0xE9]));
        assert_eq!(Charset::Ascii.encode("é"), None);
        assert_eq!(Charset::Utf16.decode(&[0xFF, 0xFE, 0x61, 0]), Some("a".into()));
        assert_eq!(Charset::Utf8.decode(&[0xFF]), None);
    }
}
