//! `get_json_object(json, path)` as Spark evaluates it (its
//! `GetJsonObjectEvaluator`, after Hive): paths `$`, `.name`, `['name']`,
//! `[n]` and the wildcard `[*]`, which gathers every element's match into
//! an array — or the match alone when only one element matched, and one
//! flat array for `[*][*]`. Objects keep their keys' order, numbers print
//! as Java does (`2.0E20`, integers exactly), a string matched at the top
//! is its text unquoted, a JSON `null` field is no match (NULL). The text
//! is read as Spark's parser reads it: single-quoted strings and raw
//! control characters are allowed, anything after the first value is
//! ignored, and a malformed value is NULL.

/// A JSON value, objects in their text's order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    /// An integer's digits, exactly (Jackson reads big ones exactly).
    Int(String),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Reads the first JSON value of `text`.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn skip_ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn keyword(&mut self, word: &str, v: Json) -> Option<Json> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > 1000 {
            return None;
        }
        self.skip_ws();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut fields = vec![];
                if self.eat(b'}') {
                    return Some(Json::Object(fields));
                }
                loop {
                    self.skip_ws();
                    let quote = *self.s.get(self.i)?;
                    if quote != b'"' && quote != b'\'' {
                        return None;
                    }
                    let key = self.string(quote)?;
                    if !self.eat(b':') {
                        return None;
                    }
                    fields.push((key, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Some(Json::Object(fields));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = vec![];
                if self.eat(b']') {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Some(Json::Array(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            q @ (b'"' | b'\'') => self.string(q).map(Json::Str),
            b't' => self.keyword("true", Json::Bool(true)),
            b'f' => self.keyword("false", Json::Bool(false)),
            b'n' => self.keyword("null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A string from its opening quote; escapes as JSON's (and `\'`).
    fn string(&mut self, quote: u8) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                _ if b == quote => break,
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let c = match e {
                        b'"' | b'\\' | b'/' | b'\'' => e as char,
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let unit = self.hex4()?;
                            if (0xD800..0xDC00).contains(&unit) && self.s[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let low = self.hex4()?;
                                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low.checked_sub(0xDC00)?))?
                            } else {
                                char::from_u32(unit)?
                            }
                        }
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).ok()
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let from = r.i;
            while matches!(r.s.get(r.i), Some(b'0'..=b'9')) {
                r.i += 1;
            }
            r.i - from
        };
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let int_start = self.i;
        let n = digits(self);
        // JSON's integers: no leading zeros.
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            float = true;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            float = true;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if float {
            return text.parse().ok().map(Json::Float);
        }
        // `-0` is 0 to Jackson; longer integers keep their digits.
        Some(Json::Int(text.parse::<i64>().map(|v| v.to_string()).unwrap_or_else(|_| text.to_string())))
    }
}

fn read(text: &str) -> Option<Json> {
    Reader { s: text.as_bytes(), i: 0 }.value(0)
}

/// One step of a parsed path, as Spark's `PathInstruction`s.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key,
    Named(String),
    Subscript,
    Index(u64),
    Wildcard,
}

/// Spark's `JsonPathParser`: `$` then `.*`/`['*']`, `.name`/`['name']`,
/// `[n]`/`[*]`, blanks allowed between them. None when it does not parse.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.trim_start().strip_prefix('$')?;
    let mut steps = vec![];
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some(steps);
        }
        if let Some(r) = rest.strip_prefix(".*").or_else(|| rest.strip_prefix("['*']")) {
            steps.push(Step::Wildcard);
            rest = r;
        } else if let Some(r) = rest.strip_prefix('.') {
            let r = r.trim_start();
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            steps.extend([Step::Key, Step::Named(r[..end].to_string())]);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find('\'').filter(|e| *e > 0)?;
            steps.extend([Step::Key, Step::Named(r[..end].to_string())]);
            rest = r[end + 1..].trim_start().strip_prefix(']')?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let r = r.trim_start();
            let (operand, r) = if let Some(r) = r.strip_prefix('*') {
                (Step::Wildcard, r)
            } else {
                let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
                (Step::Index(r[..end].parse().ok()?), &r[end..])
            };
            steps.extend([Step::Subscript, operand]);
            rest = r.trim_start().strip_prefix(']')?;
        } else {
            return None;
        }
    }
}

/// How a match is written: a string at the top unquoted (Raw), quoted
/// inside an array (Quoted), arrays spread into the enclosing one
/// (Flatten).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Raw,
    Quoted,
    Flatten,
}

/// JSON text with the separators a generator puts between array items.
#[derive(Default)]
struct Writer {
    out: String,
    /// Per open array: whether an item was written.
    started: Vec<bool>,
}

impl Writer {
    fn separate(&mut self) {
        if let Some(s) = self.started.last_mut() {
            if *s {
                self.out.push(',');
            }
            *s = true;
        }
    }

    fn start_array(&mut self) {
        self.separate();
        self.out.push('[');
        self.started.push(false);
    }

    fn end_array(&mut self) {
        self.started.pop();
        self.out.push(']');
    }

    fn raw(&mut self, text: &str) {
        self.separate();
        self.out.push_str(text);
    }

    fn value(&mut self, v: &Json) {
        self.separate();
        write_json(&mut self.out, v);
    }
}

fn write_json(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(digits) => out.push_str(digits),
        Json::Float(f) => out.push_str(&crate::display::java_float(*f)),
        Json::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Writes `v`'s matches of `path`; whether there was one.
fn evaluate(v: &Json, path: &[Step], style: Style, w: &mut Writer) -> bool {
    use Step::{Index, Key, Named, Subscript, Wildcard};
    match (v, path) {
        (Json::Str(s), []) if style == Style::Raw => {
            w.raw(s);
            true
        }
        (Json::Array(items), []) if style == Style::Flatten => {
            let mut any = false;
            for item in items {
                any |= evaluate(item, &[], style, w);
            }
            any
        }
        (_, []) => {
            w.value(v);
            true
        }
        (Json::Object(fields), [Key, Named(name), rest @ ..]) => fields
            .iter()
            .filter(|(k, value)| k == name && *value != Json::Null)
            .any(|(_, value)| evaluate(value, rest, style, w)),
        (Json::Array(items), [Subscript, Wildcard, Subscript, Wildcard, rest @ ..]) => {
            let mut any = false;
            w.start_array();
            for item in items {
                any |= evaluate(item, rest, Style::Flatten, w);
            }
            w.end_array();
            any
        }
        (Json::Array(items), [Subscript, Wildcard, rest @ ..]) if style != Style::Quoted => {
            let next = if style == Style::Raw { Style::Quoted } else { style };
            let mut inner = Writer::default();
            inner.start_array();
            let matched = items.iter().filter(|item| evaluate(item, rest, next, &mut inner)).count();
            inner.end_array();
            match matched {
                0 => {}
                1 => w.raw(&inner.out[1..inner.out.len() - 1]),
                _ => w.raw(&inner.out),
            }
            matched > 0
        }
        (Json::Array(items), [Subscript, Wildcard, rest @ ..]) => {
            let mut any = false;
            w.start_array();
            for item in items {
                any |= evaluate(item, rest, Style::Quoted, w);
            }
            w.end_array();
            any
        }
        (Json::Array(items), [Subscript, Index(i), rest @ ..]) => {
            let Some(item) = usize::try_from(*i).ok().and_then(|i| items.get(i)) else { return false };
            // More than one match may follow: they are quoted.
            let style = if matches!(rest, [Subscript, Wildcard, ..]) { Style::Quoted } else { style };
            evaluate(item, rest, style, w)
        }
        _ => false,
    }
}

/// A parsed path of `get_json_object`.
pub struct JsonPath(Vec<Step>);

impl JsonPath {
    /// None when the path does not parse (the result is NULL).
    pub fn parse(path: &str) -> Option<Self> {
        parse_path(path).map(Self)
    }

    /// The match's JSON text in `text`, None when there is none (or the
    /// text does not parse).
    pub fn get(&self, text: &str) -> Option<String> {
        let v = read(text)?;
        let mut w = Writer::default();
        evaluate(&v, &self.0, Style::Raw, &mut w).then_some(w.out)
    }
}

#[cfg(test)]
mod tests {
    fn get(text: &str, path: &str) -> Option<String> {
        super::JsonPath::parse(path)?.get(text)
    }

    #[test]
    fn named_and_indexed() {
        let doc = r#"{"a": {"b": [1, {"c": "x"}]}, "d e": 2, "n": null}"#;
        assert_eq!(get(doc, "$.a.b[1].c").as_deref(), Some("x"));
        assert_eq!(get(doc, "$['d e']").as_deref(), Some("2"));
        assert_eq!(get(doc, "$.a.b[5]"), None);
        assert_eq!(get(doc, "$.n"), None);
        assert_eq!(get(doc, "a.b"), None);
        assert_eq!(get(doc, "$.a").as_deref(), Some(r#"{"b":[1,{"c":"x"}]}"#));
    }

    #[test]
    fn wildcards_gather_matches() {
        let doc = r#"[{"f1":"v1","f2":[1,2]},{"f1":"v2"},{"f3":3}]"#;
        assert_eq!(get(doc, "$[*].f1").as_deref(), Some(r#"["v1","v2"]"#));
        // One match alone is not wrapped in an array.
        assert_eq!(get(doc, "$[*].f2").as_deref(), Some("[1,2]"));
        assert_eq!(get(doc, "$[*].f9"), None);
        assert_eq!(get("[[1,[2]],[3]]", "$[*][*]").as_deref(), Some("[1,2,3]"));
        assert_eq!(get(r#"[{"a":[1,2]},{"a":[3]}]"#, "$[*].a[*]").as_deref(), Some("[[1,2],[3]]"));
        assert_eq!(get(r#"[{"a":[1,2]},{"a":[3]}]"#, "$[1].a[*]").as_deref(), Some("3"));
        assert_eq!(get("{\"a\":1}", "$.*"), None);
    }

    #[test]
    fn text_as_spark_reads_and_writes_it() {
        assert_eq!(get(r#"{"b":1,"a":2e20,"c":1.50}"#, "$").as_deref(), Some(r#"{"b":1,"a":2.0E20,"c":1.5}"#));
        assert_eq!(get("{'a':'x'} trailing", "$.a").as_deref(), Some("x"));
        assert_eq!(get(r#"{"a":12345678901234567890123}"#, "$.a").as_deref(), Some("12345678901234567890123"));
        assert_eq!(get("[null]", "$[0]").as_deref(), Some("null"));
        assert_eq!(get(r#"{"a":1,"b":"#, "$.a"), None);
        assert_eq!(get(r#"{"a":[1]}"#, "$.a[ 0]").as_deref(), Some("1"));
    }
}
