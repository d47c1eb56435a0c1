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

#[cfg(test)]
mod tests {
    use super::*;

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
