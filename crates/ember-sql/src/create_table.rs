//! Spark's `CREATE TABLE` for data source tables, which sqlparser reads
//! only in part (not `OPTIONS` or `PARTITIONED BY` after `USING`):
//!
//! ```text
//! CREATE [OR REPLACE] [EXTERNAL] TABLE [IF NOT EXISTS] name [(columns)]
//!   [USING format] [OPTIONS (k 'v', ...)] [PARTITIONED BY (c, ...)]
//!   [LOCATION 'path'] [COMMENT 'text'] [TBLPROPERTIES (...)]
//!   [[AS] query]
//! ```
//!
//! The clauses come in any order. Columns are a DDL list (`a INT, b
//! STRING`), read by `crate::types::parse_ddl_schema`; the query is SQL
//! text, planned as `spark.sql` plans queries.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use ember_common::{ExceptionClass, SparkError};

use crate::dialect::SparkSql;
use crate::error::Result;
use crate::inline_table::byte_offset;

#[derive(Debug, Default, PartialEq)]
pub struct CreateTable {
    pub name: String,
    pub or_replace: bool,
    pub if_not_exists: bool,
    /// The column list's DDL text, without the parentheses.
    pub columns: Option<String>,
    pub format: Option<String>,
    pub options: Vec<(String, String)>,
    pub partition_by: Vec<String>,
    pub location: Option<String>,
    pub comment: Option<String>,
    pub properties: Vec<(String, String)>,
    /// The query of `CREATE TABLE … AS query`.
    pub query: Option<String>,
}

/// The statement, if `sql` is a `CREATE [OR REPLACE] [EXTERNAL] TABLE`
/// (other CREATE statements are left to the SQL planner).
pub fn parse(sql: &str) -> Option<Result<CreateTable>> {
    let tokens = tokenize(sql)?;
    let mut p = Cursor::new(sql, &tokens);
    if !p.word(Keyword::CREATE) {
        return None;
    }
    let mut stmt = CreateTable { or_replace: p.word(Keyword::OR) && p.word(Keyword::REPLACE), ..Default::default() };
    let _ = p.word(Keyword::EXTERNAL);
    if !p.word(Keyword::TABLE) {
        return None;
    }
    Some(p.create_table(&mut stmt).map(|()| stmt))
}

/// The statement's tokens, without whitespace; `None` when it does not
/// tokenize (the SQL planner then reports the error).
pub(crate) fn tokenize(sql: &str) -> Option<Vec<TokenWithSpan>> {
    let tokens = Tokenizer::new(&SparkSql, sql).tokenize_with_location().ok()?;
    Some(tokens.into_iter().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect())
}

/// Reads a statement's tokens in order.
pub(crate) struct Cursor<'a> {
    sql: &'a str,
    tokens: &'a [TokenWithSpan],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(sql: &'a str, tokens: &'a [TokenWithSpan]) -> Self {
        Self { sql, tokens, i: 0 }
    }

    /// Whether every token has been read (a trailing `;` aside).
    pub(crate) fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some(Token::SemiColon))
    }

    /// Consumes the next word if it is `text` (any case), keyword or not.
    pub(crate) fn word_text(&mut self, text: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case(text) && w.quote_style.is_none());
        if found {
            self.i += 1;
        }
        found
    }

    /// Skips to the end of the statement.
    pub(crate) fn skip_rest(&mut self) {
        self.i = self.tokens.len();
    }

    /// A name as written: identifiers joined by dots.
    pub(crate) fn name(&mut self) -> Result<String> {
        let start = self.i;
        while matches!(self.peek(), Some(Token::Word(_))) {
            self.i += 1;
            if self.peek() != Some(&Token::Period) {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(self.error());
        }
        Ok(self.text(start, self.i).to_string())
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i).map(|t| &t.token)
    }

    fn is_word(&self, k: Keyword) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.keyword == k)
    }

    /// Consumes the keyword if it is next.
    pub(crate) fn word(&mut self, k: Keyword) -> bool {
        let found = self.is_word(k);
        if found {
            self.i += 1;
        }
        found
    }

    pub(crate) fn expect(&mut self, k: Keyword) -> Result<()> {
        if self.word(k) { Ok(()) } else { Err(self.error()) }
    }

    pub(crate) fn error(&self) -> crate::error::Error {
        let near = self.peek().map(|t| t.to_string()).unwrap_or_else(|| "end of input".into());
        SparkError::with_class(
            ExceptionClass::Parse,
            "PARSE_SYNTAX_ERROR",
            "42601",
            format!("Syntax error at or near '{near}'."),
        )
        .into()
    }

    /// The text from token `from` up to (not including) token `to`.
    fn text(&self, from: usize, to: usize) -> &str {
        let start = self.tokens.get(from).and_then(|t| byte_offset(self.sql, t.span.start)).unwrap_or(self.sql.len());
        let end = match self.tokens.get(to) {
            Some(t) => byte_offset(self.sql, t.span.start).unwrap_or(self.sql.len()),
            None => self.sql.trim_end().trim_end_matches(';').len(),
        };
        self.sql.get(start..end.max(start)).unwrap_or_default().trim()
    }

    /// A parenthesized list; the text inside, and its top-level items.
    pub(crate) fn parenthesized(&mut self) -> Result<(String, Vec<String>)> {
        if self.peek() != Some(&Token::LParen) {
            return Err(self.error());
        }
        let open = self.i;
        let mut depth = 0usize;
        let mut items = vec![];
        let mut item_start = open + 1;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        items.push(self.text(item_start, self.i).to_string());
                        let inner = self.text(open + 1, self.i).to_string();
                        self.i += 1;
                        items.retain(|i| !i.is_empty());
                        return Ok((inner, items));
                    }
                }
                Token::Comma if depth == 1 => {
                    items.push(self.text(item_start, self.i).to_string());
                    item_start = self.i + 1;
                }
                _ => {}
            }
            self.i += 1;
        }
        Err(self.error())
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => Err(self.error()),
        }
    }

    fn create_table(&mut self, stmt: &mut CreateTable) -> Result<()> {
        if self.word(Keyword::IF) {
            self.expect(Keyword::NOT)?;
            self.expect(Keyword::EXISTS)?;
            stmt.if_not_exists = true;
        }
        stmt.name = self.name()?;
        if self.peek() == Some(&Token::LParen) {
            stmt.columns = Some(self.parenthesized()?.0);
        }
        loop {
            match self.peek() {
                None | Some(Token::SemiColon) => return Ok(()),
                Some(Token::Word(w)) => match w.keyword {
                    Keyword::USING => {
                        self.i += 1;
                        match self.peek() {
                            Some(Token::Word(f)) => stmt.format = Some(f.value.to_ascii_lowercase()),
                            _ => return Err(self.error()),
                        }
                        self.i += 1;
                    }
                    Keyword::OPTIONS => {
                        self.i += 1;
                        for item in self.parenthesized()?.1 {
                            stmt.options.push(option(&item).ok_or_else(|| self.error())?);
                        }
                    }
                    Keyword::PARTITIONED => {
                        self.i += 1;
                        self.expect(Keyword::BY)?;
                        for item in self.parenthesized()?.1 {
                            // `PARTITIONED BY (p)`, or Hive's `(p STRING)`.
                            let name = item.split_whitespace().next().unwrap_or_default();
                            stmt.partition_by.push(name.trim_matches('`').to_string());
                        }
                    }
                    Keyword::LOCATION => {
                        self.i += 1;
                        stmt.location = Some(self.string()?);
                    }
                    Keyword::COMMENT => {
                        self.i += 1;
                        stmt.comment = Some(self.string()?);
                    }
                    Keyword::TBLPROPERTIES => {
                        self.i += 1;
                        for item in self.parenthesized()?.1 {
                            stmt.properties.push(option(&item).ok_or_else(|| self.error())?);
                        }
                    }
                    Keyword::CLUSTERED => return Err(SparkError::unsupported("bucketed tables (CLUSTERED BY)").into()),
                    Keyword::AS => {
                        stmt.query = Some(self.text(self.i + 1, self.tokens.len()).to_string());
                        return Ok(());
                    }
                    Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::FROM | Keyword::TABLE => {
                        stmt.query = Some(self.text(self.i, self.tokens.len()).to_string());
                        return Ok(());
                    }
                    _ => return Err(self.error()),
                },
                Some(Token::LParen) => {
                    stmt.query = Some(self.text(self.i, self.tokens.len()).to_string());
                    return Ok(());
                }
                Some(_) => return Err(self.error()),
            }
        }
    }
}

/// `key 'value'`, `key = 'value'`, `'key' 'value'`, `a.b true`.
pub(crate) fn option(item: &str) -> Option<(String, String)> {
    let unquote = |s: &str| -> String {
        let s = s.trim();
        let quoted =
            s.len() >= 2 && (s.starts_with('\'') && s.ends_with('\'') || s.starts_with('"') && s.ends_with('"'));
        if quoted { s[1..s.len() - 1].to_string() } else { s.trim_matches('`').to_string() }
    };
    let item = item.trim();
    // The key ends at the first space or `=` outside quotes.
    let mut quote = None;
    let split = item.char_indices().find(|&(_, c)| {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => return c.is_whitespace() || c == '=',
        }
        false
    })?;
    let (key, rest) = item.split_at(split.0);
    let value = rest.trim_start().trim_start_matches('=').trim_start();
    (!value.is_empty()).then(|| (unquote(key), unquote(value)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_clause_in_any_order() {
        let t = parse(
            "CREATE TABLE IF NOT EXISTS db.t (a INT, b STRUCT<x: INT, y: STRING>) USING CSV \
             PARTITIONED BY (b) OPTIONS (header 'true', 'sep' = ';', a.b true) LOCATION '/tmp/x' COMMENT 'hi'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.name, "db.t");
        assert!(t.if_not_exists && !t.or_replace);
        assert_eq!(t.columns.as_deref(), Some("a INT, b STRUCT<x: INT, y: STRING>"));
        assert_eq!(t.format.as_deref(), Some("csv"));
        assert_eq!(t.partition_by, vec!["b"]);
        assert_eq!(
            t.options,
            vec![("header".into(), "true".into()), ("sep".into(), ";".into()), ("a.b".into(), "true".into())]
        );
        assert_eq!(t.location.as_deref(), Some("/tmp/x"));
        assert_eq!(t.comment.as_deref(), Some("hi"));
        assert_eq!(t.query, None);
    }

    #[test]
    fn create_table_as_select() {
        let t = parse("CREATE OR REPLACE TABLE t USING parquet PARTITIONED BY (p) AS SELECT 1 AS a, 'x' AS p;")
            .unwrap()
            .unwrap();
        assert!(t.or_replace);
        assert_eq!(t.query.as_deref(), Some("SELECT 1 AS a, 'x' AS p"));
        let t = parse("CREATE TABLE t SELECT 1").unwrap().unwrap();
        assert_eq!(t.query.as_deref(), Some("SELECT 1"));
        assert_eq!(t.format, None);
    }

    #[test]
    fn other_statements_are_not_tables() {
        assert!(parse("CREATE TEMP VIEW v AS SELECT 1").is_none());
        assert!(parse("CREATE VIEW v AS SELECT 1").is_none());
        assert!(parse("SELECT 1").is_none());
        assert!(parse("CREATE TABLE t (a INT) USING parquet BOGUS").unwrap().is_err());
    }
}
