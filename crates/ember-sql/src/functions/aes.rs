//! `aes_encrypt(input, key[, mode[, padding[, iv[, aad]]]])`,
//! `aes_decrypt(input, key[, mode[, padding[, aad]]])` and
//! `try_aes_decrypt` as Spark's `ExpressionImplUtils` runs them: AES with
//! a 16, 24 or 32-byte key in ECB (PKCS padding), CBC (PKCS padding) or
//! GCM (no padding, a 128-bit tag; the default) mode. CBC and GCM put
//! their initialization vector (16 and 12 bytes; random unless given)
//! before the ciphertext, and decryption reads it from there; GCM also
//! authenticates the additional data `aad`. Errors are Spark's
//! (`INVALID_PARAMETER_VALUE.AES_KEY_LENGTH`, `UNSUPPORTED_FEATURE.AES_MODE`,
//! `INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR`, …); `try_aes_decrypt` is
//! NULL instead.

use std::sync::Arc;

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit, block_padding::Pkcs7};
use aes_gcm::aead::{Aead, Payload};
use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, BinaryBuilder, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use ember_common::{ExceptionClass, SparkError};
use rand::RngCore;

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Direction {
    Encrypt,
    Decrypt,
    /// `try_aes_decrypt`: NULL where `aes_decrypt` fails.
    TryDecrypt,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Aes {
    direction: Direction,
    signature: Signature,
}

impl Aes {
    pub fn new(direction: Direction) -> Self {
        // Encryption draws random initialization vectors.
        let volatility = if direction == Direction::Encrypt { Volatility::Volatile } else { Volatility::Immutable };
        Self { direction, signature: Signature::user_defined(volatility) }
    }

    /// The arguments, in order: input, key, mode, padding, (iv,) aad.
    fn arguments(&self) -> usize {
        if self.direction == Direction::Encrypt { 6 } else { 5 }
    }
}

fn is_binary_or_text(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null) || super::is_text(t)
}

const ORDINALS: [&str; 6] = ["first", "second", "third", "fourth", "fifth", "sixth"];

impl ScalarUDFImpl for Aes {
    fn name(&self) -> &str {
        match self.direction {
            Direction::Encrypt => "aes_encrypt",
            Direction::Decrypt => "aes_decrypt",
            Direction::TryDecrypt => "try_aes_decrypt",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() < 2 || types.len() > self.arguments() {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 2 to {} parameters but the actual number is {}.",
                self.name(),
                self.arguments(),
                types.len()
            );
        }
        types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // The mode and padding are strings; the others binary (a
                // string is taken as its bytes).
                let text = i == 2 || i == 3;
                let ok = if text { super::is_text(t) || t.is_null() } else { is_binary_or_text(t) };
                if !ok {
                    let wanted = if text { "STRING" } else { "BINARY" };
                    return plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The {} parameter requires the \"{wanted}\" type, however it has the type \"{}\".",
                        self.name(),
                        ORDINALS[i],
                        crate::types::simple_string(t).to_ascii_uppercase()
                    );
                }
                Ok(if text { DataType::Utf8 } else { DataType::Binary })
            })
            .collect()
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Binary, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<ArrayRef>>>()?;
        let binary = |i: usize| -> Result<Option<BinaryArray>> {
            let Some(a) = arrays.get(i) else { return Ok(None) };
            Ok(Some(datafusion::common::cast::as_binary_array(&cast(a, &DataType::Binary)?)?.clone()))
        };
        let text = |i: usize| -> Result<Option<StringArray>> {
            let Some(a) = arrays.get(i) else { return Ok(None) };
            Ok(Some(datafusion::common::cast::as_string_array(&cast(a, &DataType::Utf8)?)?.clone()))
        };
        let (input, key) = (binary(0)?, binary(1)?);
        let (mode, padding) = (text(2)?, text(3)?);
        let (iv, aad) =
            if self.direction == Direction::Encrypt { (binary(4)?, binary(5)?) } else { (None, binary(4)?) };
        let mut out = BinaryBuilder::with_capacity(rows, 0);
        for i in 0..rows {
            let (Some(input), Some(key), Some(mode), Some(padding), Some(iv), Some(aad)) = (
                bytes_at(&input, i),
                bytes_at(&key, i),
                text_at(&mode, i, "GCM"),
                text_at(&padding, i, "DEFAULT"),
                bytes_at(&iv, i),
                bytes_at(&aad, i),
            ) else {
                out.append_null();
                continue;
            };
            let request = Request { function: self.name(), input, key, mode, padding, iv, aad };
            let result = if self.direction == Direction::Encrypt { request.encrypt() } else { request.decrypt() };
            match result {
                Ok(v) => out.append_value(v),
                Err(_) if self.direction == Direction::TryDecrypt => out.append_null(),
                Err(e) => return Err(DataFusionError::External(Box::new(e))),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// Row `i` of a binary argument: its default (empty) when the argument is
/// missing, None when it is NULL.
fn bytes_at(a: &Option<BinaryArray>, i: usize) -> Option<&[u8]> {
    match a {
        None => Some(b""),
        Some(a) if a.is_null(i) => None,
        Some(a) => Some(a.value(i)),
    }
}

fn text_at<'a>(a: &'a Option<StringArray>, i: usize, default: &'static str) -> Option<&'a str> {
    match a {
        None => Some(default),
        Some(a) if a.is_null(i) => None,
        Some(a) => Some(a.value(i)),
    }
}

/// One row's call.
struct Request<'a> {
    function: &'a str,
    input: &'a [u8],
    key: &'a [u8],
    mode: &'a str,
    padding: &'a str,
    iv: &'a [u8],
    aad: &'a [u8],
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ecb,
    Cbc,
    Gcm,
}

const GCM_IV: usize = 12;
const CBC_IV: usize = 16;
const GCM_TAG: usize = 16;

/// Runs `$body` with `$C` the AES of the key's length (checked before).
macro_rules! with_aes {
    ($key:expr, $C:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $C = aes::Aes128;
                $body
            }
            24 => {
                type $C = aes::Aes192;
                $body
            }
            _ => {
                type $C = aes::Aes256;
                $body
            }
        }
    };
}

impl Request<'_> {
    /// The key's length and the mode with its padding, checked as Spark
    /// checks them; the IV and AAD the mode takes.
    fn mode(&self) -> std::result::Result<Mode, SparkError> {
        if ![16, 24, 32].contains(&self.key.len()) {
            return Err(SparkError::with_class(
                ExceptionClass::Runtime,
                "INVALID_PARAMETER_VALUE.AES_KEY_LENGTH",
                "22023",
                format!(
                    "The value of parameter(s) `key` in `aes_encrypt`/`aes_decrypt` is invalid: expects a binary value with 16, 24 or 32 bytes, but got {} bytes.",
                    self.key.len()
                ),
            ));
        }
        let padding = self.padding.to_ascii_uppercase();
        let mode = match (self.mode.to_ascii_uppercase().as_str(), padding.as_str()) {
            ("ECB", "PKCS" | "DEFAULT") => Mode::Ecb,
            ("CBC", "PKCS" | "DEFAULT") => Mode::Cbc,
            ("GCM", "NONE" | "DEFAULT") => Mode::Gcm,
            _ => {
                return Err(SparkError::with_class(
                    ExceptionClass::Runtime,
                    "UNSUPPORTED_FEATURE.AES_MODE",
                    "0A000",
                    format!(
                        "The feature is not supported: AES-{} with the padding {} by the `aes_encrypt`/`aes_decrypt` function.",
                        self.mode, self.padding
                    ),
                ));
            }
        };
        let unsupported = |class: &str, what: &str| {
            SparkError::with_class(
                ExceptionClass::Runtime,
                class,
                "0A000",
                format!(
                    "The feature is not supported: `{}` with AES-{} does not support {what}.",
                    self.function, self.mode
                ),
            )
        };
        if mode == Mode::Ecb && !self.iv.is_empty() {
            return Err(unsupported("UNSUPPORTED_FEATURE.AES_MODE_IV", "initialization vectors (IVs)"));
        }
        if mode != Mode::Gcm && !self.aad.is_empty() {
            return Err(unsupported("UNSUPPORTED_FEATURE.AES_MODE_AAD", "additional authenticate data (AAD)"));
        }
        Ok(mode)
    }

    fn encrypt(&self) -> std::result::Result<Vec<u8>, SparkError> {
        let mode = self.mode()?;
        let iv_length = if mode == Mode::Gcm { GCM_IV } else { CBC_IV };
        let iv = match self.iv {
            _ if mode == Mode::Ecb => vec![],
            [] => {
                let mut iv = vec![0; iv_length];
                rand::rng().fill_bytes(&mut iv);
                iv
            }
            iv if iv.len() == iv_length => iv.to_vec(),
            iv => {
                return Err(SparkError::with_class(
                    ExceptionClass::Runtime,
                    "INVALID_PARAMETER_VALUE.AES_IV_LENGTH",
                    "22023",
                    format!(
                        "The value of parameter(s) `iv` in `aes_encrypt`/`aes_decrypt` is invalid: supports 16-byte CBC IVs and 12-byte GCM IVs, but got {} bytes for {}.",
                        iv.len(),
                        self.mode
                    ),
                ));
            }
        };
        let (key, input) = (self.key, self.input);
        let sealed = match mode {
            Mode::Ecb => with_aes!(key, C => ecb::Encryptor::<C>::new_from_slice(key)
                .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(input))
                .map_err(|e| e.to_string())),
            Mode::Cbc => with_aes!(key, C => cbc::Encryptor::<C>::new_from_slices(key, &iv)
                .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(input))
                .map_err(|e| e.to_string())),
            Mode::Gcm => with_aes!(key, C => aes_gcm::AesGcm::<C, aes_gcm::aead::consts::U12>::new_from_slice(key)
                .map_err(|e| e.to_string())
                .and_then(|c| c.encrypt(aes_gcm::Nonce::from_slice(&iv), Payload { msg: input, aad: self.aad })
                    .map_err(|e| e.to_string()))),
        };
        let sealed = sealed.map_err(crypto_error)?;
        Ok([iv, sealed].concat())
    }

    fn decrypt(&self) -> std::result::Result<Vec<u8>, SparkError> {
        let mode = self.mode()?;
        let (key, input) = (self.key, self.input);
        let bad_padding =
            "Given final block not properly padded. Such issues can arise if a bad key is used during decryption.";
        let blocks = |data: &[u8]| {
            if data.len() % 16 != 0 {
                Err(crypto_error("Input length must be multiple of 16 when decrypting with padded cipher"))
            } else {
                Ok(())
            }
        };
        match mode {
            Mode::Ecb => {
                blocks(input)?;
                with_aes!(key, C => ecb::Decryptor::<C>::new_from_slice(key)
                    .map_err(|e| crypto_error(e.to_string()))?
                    .decrypt_padded_vec_mut::<Pkcs7>(input)
                    .map_err(|_| crypto_error(bad_padding)))
            }
            Mode::Cbc => {
                if input.len() < CBC_IV {
                    return Err(crypto_error("IV buffer too short for given offset/length combination"));
                }
                let (iv, data) = input.split_at(CBC_IV);
                blocks(data)?;
                with_aes!(key, C => cbc::Decryptor::<C>::new_from_slices(key, iv)
                    .map_err(|e| crypto_error(e.to_string()))?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .map_err(|_| crypto_error(bad_padding)))
            }
            Mode::Gcm => {
                if input.len() < GCM_IV {
                    return Err(crypto_error("Invalid buffer arguments"));
                }
                let (iv, data) = input.split_at(GCM_IV);
                if data.len() < GCM_TAG {
                    return Err(crypto_error("Input data too short to contain an expected tag length of 16bytes"));
                }
                with_aes!(key, C => aes_gcm::AesGcm::<C, aes_gcm::aead::consts::U12>::new_from_slice(key)
                    .map_err(|e| crypto_error(e.to_string()))?
                    .decrypt(aes_gcm::Nonce::from_slice(iv), Payload { msg: data, aad: self.aad })
                    .map_err(|_| crypto_error("Tag mismatch!")))
            }
        }
    }
}

fn crypto_error(detail: impl std::fmt::Display) -> SparkError {
    SparkError::with_class(
        ExceptionClass::Runtime,
        "INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR",
        "22023",
        format!(
            "The value of parameter(s) `expr`, `key` in `aes_encrypt`/`aes_decrypt` is invalid: detail message: {detail}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(input: &'a [u8], key: &'a [u8], mode: &'a str, iv: &'a [u8], aad: &'a [u8]) -> Request<'a> {
        Request { function: "aes_encrypt", input, key, mode, padding: "DEFAULT", iv, aad }
    }

    fn hex(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn ciphertexts_are_sparks() {
        // Apache Spark 4.2's results for the same calls.
        let ecb = request(b"Spark", b"0000111122223333", "ECB", b"", b"").encrypt().unwrap();
        assert_eq!(hex(&ecb), "348FF37EBDE05B7880BA339068FBDA5E");
        let gcm = request(b"Spark", b"0000111122223333", "GCM", &[0; 12], b"aad").encrypt().unwrap();
        assert_eq!(hex(&gcm), "00000000000000000000000046C4EF1C6A58C82E08A2D6B5AA23225CD5DAB67E32");
        let cbc = request(b"Spark", b"0000111122223333", "cbc", &[0; 16], b"").encrypt().unwrap();
        assert_eq!(hex(&cbc), "00000000000000000000000000000000348FF37EBDE05B7880BA339068FBDA5E");
    }

    #[test]
    fn round_trips_with_every_key_length() {
        for key in [&b"0000111122223333"[..], b"000011112222333344445555", b"00001111222233334444555566667777"] {
            for mode in ["ECB", "CBC", "GCM"] {
                let sealed = request(b"Spark SQL", key, mode, b"", b"").encrypt().unwrap();
                assert_eq!(request(&sealed, key, mode, b"", b"").decrypt().unwrap(), b"Spark SQL", "{mode}");
            }
        }
    }

    #[test]
    fn errors_name_sparks_classes() {
        let class = |r: std::result::Result<Vec<u8>, SparkError>| r.unwrap_err().error_class.unwrap_or_default();
        assert_eq!(class(request(b"x", b"abc", "GCM", b"", b"").encrypt()), "INVALID_PARAMETER_VALUE.AES_KEY_LENGTH");
        assert_eq!(
            class(request(b"x", b"0000111122223333", "XYZ", b"", b"").encrypt()),
            "UNSUPPORTED_FEATURE.AES_MODE"
        );
        assert_eq!(
            class(request(b"x", b"0000111122223333", "ECB", b"1", b"").encrypt()),
            "UNSUPPORTED_FEATURE.AES_MODE_IV"
        );
        assert_eq!(
            class(request(b"x", b"0000111122223333", "CBC", b"", b"a").encrypt()),
            "UNSUPPORTED_FEATURE.AES_MODE_AAD"
        );
        assert_eq!(
            class(request(b"x", b"0000111122223333", "CBC", b"12", b"").encrypt()),
            "INVALID_PARAMETER_VALUE.AES_IV_LENGTH"
        );
        let sealed = request(b"x", b"0000111122223333", "GCM", b"", b"").encrypt().unwrap();
        assert_eq!(
            class(request(&sealed, b"0000111122223334", "GCM", b"", b"").decrypt()),
            "INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR"
        );
    }
}
