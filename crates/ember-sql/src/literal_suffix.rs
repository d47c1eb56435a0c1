//! Spark SQL's typed numeric literals — `10L`, `1Y`, `2S`, `1.5D`, `2F`,
//! `1.50BD`, and `1e20` (a double) — which DataFusion's parser does not
//! know or types otherwise, rewritten to casts
//! before parsing. Text inside quotes and identifiers is left alone. The
//! casts use the `'10'::BIGINT` form, which `crate::sql_names` names as
//! Spark names the literal (`10`).

/// Whether `text` ends with a `-` that negates what follows (not one that
/// subtracts: after an operand, a closing parenthesis or a quote).
fn unary_minus_at_end(text: &str) -> bool {
    const BEFORE_OPERAND: &[&str] = &[
        "SELECT", "WHEN", "THEN", "ELSE", "AND", "OR", "NOT", "BETWEEN", "IN", "BY", "WHERE", "HAVING", "ON", "CASE",
        "LIMIT", "OFFSET", "IS", "LIKE", "DISTINCT", "ALL", "RETURN",
    ];
    let Some(before) = text.strip_suffix('-') else { return false };
    let before = before.trim_end();
    match before.chars().last() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let word: String = before.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let word: String = word.chars().rev().collect();
            BEFORE_OPERAND.iter().any(|k| k.eq_ignore_ascii_case(&word))
        }
        Some(c) => !matches!(c, ')' | ']' | '\'' | '"' | '`' | '-'),
    }
}

/// Rewrites suffixed numeric literals in `sql` to `'...'::type` casts.
pub fn rewrite(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' || c == '`' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c.is_ascii_digit() && !ident_before {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let mut exponent = false;
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                exponent = true;
                let save = i;
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                if i < chars.len() && chars[i].is_ascii_digit() {
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    exponent = false;
                    i = save;
                }
            }
            let number: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            let suffix: String = chars[i..j].iter().collect::<String>().to_ascii_uppercase();
            let ends = j >= chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '_');
            let target = match suffix.as_str() {
                "L" => Some("BIGINT".to_string()),
                "S" => Some("SMALLINT".to_string()),
                "Y" => Some("TINYINT".to_string()),
                "D" => Some("DOUBLE".to_string()),
                "F" => Some("FLOAT".to_string()),
                "BD" => Some(decimal_type(&number)),
                // `1e20` and `1.5E-3` are doubles in Spark; DataFusion would
                // parse them as decimals.
                "" if exponent => Some("DOUBLE".to_string()),
                _ => None,
            };
            match target {
                Some(t) if ends => {
                    // A unary minus is part of the literal: -9223372036854775808L
                    // is a bigint, though 9223372036854775808 is not.
                    let sign = if unary_minus_at_end(&out) {
                        out.pop();
                        "-"
                    } else {
                        ""
                    };
                    out.push_str(&format!("'{sign}{number}'::{t}"));
                    i = j;
                }
                _ => out.push_str(&number),
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The decimal type of a literal's digits: `1.50` is decimal(3,2).
fn decimal_type(number: &str) -> String {
    let (precision, scale) = decimal_digits(number);
    format!("DECIMAL({precision},{scale})")
}

/// The precision and scale of a literal's digits: `1.50` has (3, 2),
/// `0.05` (2, 2), `100` (3, 0).
pub(crate) fn decimal_digits(number: &str) -> (usize, usize) {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let int = int.trim_start_matches('0');
    let scale = frac.len();
    ((int.len() + scale).max(1).max(scale), scale)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn suffixed_literals_become_casts() {
        assert_eq!(rewrite("SELECT 1.5D, 10L, 1Y"), "SELECT '1.5'::DOUBLE, '10'::BIGINT, '1'::TINYINT");
        assert_eq!(rewrite("SELECT 1.50BD"), "SELECT '1.50'::DECIMAL(3,2)");
    }

    #[test]
    fn strings_identifiers_and_plain_numbers_stay() {
        assert_eq!(rewrite("SELECT '10L', c1d, 10, `2D` FROM t2"), "SELECT '10L', c1d, 10, `2D` FROM t2");
        assert_eq!(rewrite("SELECT 2 DIV 1, 1e"), "SELECT 2 DIV 1, 1e");
    }

    #[test]
    fn exponent_literals_are_doubles() {
        assert_eq!(rewrite("SELECT 1e5, 1.5E-3, -2e+3"), "SELECT '1e5'::DOUBLE, '1.5E-3'::DOUBLE, '-2e+3'::DOUBLE");
    }

    #[test]
    fn a_unary_minus_belongs_to_the_literal() {
        assert_eq!(rewrite("SELECT -9223372036854775808L"), "SELECT '-9223372036854775808'::BIGINT");
        assert_eq!(rewrite("SELECT f(-1L, (-2Y))"), "SELECT f('-1'::BIGINT, ('-2'::TINYINT))");
        // A minus after an operand subtracts.
        assert_eq!(
            rewrite("SELECT x -1L, f(a)-2L, 3 - -4L"),
            "SELECT x -'1'::BIGINT, f(a)-'2'::BIGINT, 3 - -'4'::BIGINT"
        );
    }
}
