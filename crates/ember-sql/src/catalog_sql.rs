//! The catalog's SQL statements, which DataFusion does not have or reads
//! otherwise: `CREATE | DROP | USE | DESCRIBE DATABASE`, `SHOW DATABASES`,
//! `SHOW TABLES | VIEWS [IN db]`, `SHOW COLUMNS`, `SHOW CREATE TABLE`,
//! `SHOW TBLPROPERTIES`, `SHOW PARTITIONS`, `REFRESH TABLE`, `MSCK REPAIR
//! TABLE` and `ANALYZE TABLE`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::keywords::Keyword;
use ember_common::SparkError;

use crate::create_table::{Cursor, tokenize};
use crate::databases::{NewDatabase, database_name, find};
use crate::error::Result;
use crate::plan::Planner;
use crate::tables::CATALOG;

#[derive(Debug, PartialEq)]
pub enum Statement {
    CreateDatabase(NewDatabase),
    DropDatabase {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    Use(String),
    /// `SHOW DATABASES [LIKE pattern]`.
    ShowDatabases {
        pattern: Option<String>,
    },
    /// `SHOW TABLES | VIEWS [IN db] [LIKE pattern]`.
    ShowTables {
        views: bool,
        database: Option<String>,
        pattern: Option<String>,
    },
    DescribeDatabase {
        name: String,
        extended: bool,
    },
    /// `SHOW COLUMNS IN t [IN db]`.
    ShowColumns {
        table: String,
        database: Option<String>,
    },
    ShowCreateTable(String),
    ShowTblProperties(String),
    ShowPartitions(String),
    /// `REFRESH TABLE t`, `MSCK REPAIR TABLE t`.
    Refresh(String),
    /// `ANALYZE TABLE t COMPUTE STATISTICS …`: statistics are not kept.
    Analyze(String),
}

/// The words Spark takes for a database.
const DATABASE_WORDS: [&str; 3] = ["DATABASE", "SCHEMA", "NAMESPACE"];

/// The statement, if `sql` is one of this module's.
pub fn parse(sql: &str) -> Option<Result<Statement>> {
    let tokens = tokenize(sql)?;
    let mut p = Cursor::new(sql, &tokens);
    let database_word = |p: &mut Cursor| DATABASE_WORDS.iter().any(|w| p.word_text(w));
    let stmt = if p.word(Keyword::CREATE) {
        if !database_word(&mut p) {
            return None;
        }
        create_database(&mut p)
    } else if p.word(Keyword::DROP) {
        if !database_word(&mut p) {
            return None;
        }
        drop_database(&mut p)
    } else if p.word(Keyword::USE) {
        let _ = database_word(&mut p);
        p.name().map(Statement::Use)
    } else if p.word(Keyword::SHOW) {
        if ["DATABASES", "SCHEMAS", "NAMESPACES"].iter().any(|w| p.word_text(w)) {
            pattern(&mut p).map(|pattern| Statement::ShowDatabases { pattern })
        } else if p.word_text("TABLES") || p.word_text("VIEWS") {
            show_tables(&mut p, sql)
        } else if p.word(Keyword::COLUMNS) {
            show_columns(&mut p)
        } else if p.word(Keyword::CREATE) {
            p.expect(Keyword::TABLE).and_then(|()| p.name()).map(|t| {
                // `AS SERDE` asks for Hive's form; data source tables have one.
                if p.word(Keyword::AS) {
                    let _ = p.word_text("SERDE");
                }
                Statement::ShowCreateTable(t)
            })
        } else if p.word_text("TBLPROPERTIES") {
            p.name().map(Statement::ShowTblProperties)
        } else if p.word_text("PARTITIONS") {
            p.name().map(Statement::ShowPartitions)
        } else {
            return None;
        }
    } else if p.word(Keyword::DESC) || p.word(Keyword::DESCRIBE) {
        if !database_word(&mut p) {
            return None;
        }
        let extended = p.word(Keyword::EXTENDED);
        p.name().map(|name| Statement::DescribeDatabase { name, extended })
    } else if p.word(Keyword::REFRESH) {
        if !p.word(Keyword::TABLE) {
            return None;
        }
        p.name().map(Statement::Refresh)
    } else if p.word_text("MSCK") {
        if !p.word_text("REPAIR") {
            return None;
        }
        p.expect(Keyword::TABLE).and_then(|()| p.name()).map(|t| {
            p.skip_rest();
            Statement::Refresh(t)
        })
    } else if p.word(Keyword::ANALYZE) {
        if !p.word(Keyword::TABLE) {
            return None;
        }
        p.name().map(|t| {
            p.skip_rest();
            Statement::Analyze(t)
        })
    } else {
        return None;
    };
    Some(stmt.and_then(|s| if p.at_end() { Ok(s) } else { Err(p.error()) }))
}

fn create_database(p: &mut Cursor) -> Result<Statement> {
    let mut new = NewDatabase::default();
    if p.word(Keyword::IF) {
        p.expect(Keyword::NOT)?;
        p.expect(Keyword::EXISTS)?;
        new.if_not_exists = true;
    }
    new.name = p.name()?;
    while !p.at_end() {
        if p.word(Keyword::COMMENT) {
            new.comment = Some(p.string()?);
        } else if p.word(Keyword::LOCATION) {
            new.location = Some(p.string()?);
        } else if p.word(Keyword::WITH) {
            if !p.word_text("DBPROPERTIES") && !p.word_text("PROPERTIES") {
                return Err(p.error());
            }
            for item in p.parenthesized()?.1 {
                new.properties.push(crate::create_table::option(&item).ok_or_else(|| p.error())?);
            }
        } else {
            return Err(p.error());
        }
    }
    Ok(Statement::CreateDatabase(new))
}

fn drop_database(p: &mut Cursor) -> Result<Statement> {
    let if_exists = p.word(Keyword::IF) && {
        p.expect(Keyword::EXISTS)?;
        true
    };
    let name = p.name()?;
    let cascade = p.word(Keyword::CASCADE);
    if !cascade {
        let _ = p.word(Keyword::RESTRICT);
    }
    Ok(Statement::DropDatabase { name, if_exists, cascade })
}

/// `[LIKE] 'pattern'`, if given.
fn pattern(p: &mut Cursor) -> Result<Option<String>> {
    let like = p.word(Keyword::LIKE);
    if like || !p.at_end() { p.string().map(Some) } else { Ok(None) }
}

fn show_tables(p: &mut Cursor, sql: &str) -> Result<Statement> {
    let views = sql.split_whitespace().nth(1).is_some_and(|w| w.eq_ignore_ascii_case("VIEWS"));
    let database = if p.word(Keyword::IN) || p.word(Keyword::FROM) { Some(p.name()?) } else { None };
    let pattern = pattern(p)?;
    Ok(Statement::ShowTables { views, database, pattern })
}

fn show_columns(p: &mut Cursor) -> Result<Statement> {
    let mut names = vec![];
    while p.word(Keyword::IN) || p.word(Keyword::FROM) {
        names.push(p.name()?);
    }
    let mut names = names.into_iter();
    let table = names.next().ok_or_else(|| p.error())?;
    let database = names.next();
    if names.next().is_some() {
        return Err(p.error());
    }
    Ok(Statement::ShowColumns { table, database })
}

/// `pattern` as Spark's catalog matches names: `*` any characters, `|`
/// between alternatives, any case.
pub fn name_matches(pattern: Option<&str>, name: &str) -> bool {
    let Some(p) = pattern else { return true };
    p.split('|').any(|alt| {
        let re = format!("(?i)^{}$", regex::escape(alt.trim()).replace("\\*", ".*"));
        regex::Regex::new(&re).is_ok_and(|r| r.is_match(name))
    })
}

fn strings<S: AsRef<str>>(v: &[S]) -> ArrayRef {
    Arc::new(StringArray::from(v.iter().map(|s| s.as_ref()).collect::<Vec<_>>()))
}

/// Rows of text columns.
fn text_rows(planner: &mut Planner<'_>, names: &[&str], rows: &[Vec<String>]) -> Result<LogicalPlan> {
    let fields = names.iter().map(|n| Field::new(*n, DataType::Utf8, false)).collect();
    let columns = (0..names.len()).map(|i| strings(&rows.iter().map(|r| r[i].as_str()).collect::<Vec<_>>())).collect();
    planner.rows(fields, columns)
}

/// Runs a statement; its result rows.
pub async fn run(planner: &mut Planner<'_>, stmt: Statement) -> Result<LogicalPlan> {
    let session = planner.session;
    match stmt {
        Statement::CreateDatabase(new) => crate::databases::create(session, new)?,
        Statement::DropDatabase { name, if_exists, cascade } => {
            crate::databases::drop(session, &name, if_exists, cascade)?
        }
        Statement::Use(name) => crate::catalog::set_current_database(session, &name)?,
        Statement::ShowDatabases { pattern } => {
            let names: Vec<Vec<String>> = crate::databases::all()
                .into_iter()
                .filter(|d| name_matches(pattern.as_deref(), &d.name))
                .map(|d| vec![d.name])
                .collect();
            return text_rows(planner, &["namespace"], &names);
        }
        Statement::ShowTables { views, database, pattern } => {
            let database = match database {
                Some(name) => find(&database_name(&name)?)?.name,
                None => crate::catalog::current_database(session),
            };
            let mut rows: Vec<(String, String, bool)> = vec![];
            if !views {
                rows.extend(crate::tables::names(&database).into_iter().map(|n| (database.clone(), n, false)));
            }
            rows.extend(crate::catalog::view_names(session).into_iter().map(|n| (String::new(), n, true)));
            rows.retain(|r| !r.1.starts_with("__ember") && name_matches(pattern.as_deref(), &r.1));
            let name = if views { "viewName" } else { "tableName" };
            let column = |f: fn(&(String, String, bool)) -> &str| strings(&rows.iter().map(f).collect::<Vec<_>>());
            return planner.rows(
                vec![
                    Field::new("namespace", DataType::Utf8, false),
                    Field::new(name, DataType::Utf8, false),
                    Field::new("isTemporary", DataType::Boolean, false),
                ],
                vec![
                    column(|r| &r.0),
                    column(|r| &r.1),
                    Arc::new(BooleanArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
                ],
            );
        }
        Statement::ShowColumns { table, database } => {
            let found = crate::catalog::resolve_in(session, &table, database.as_deref())?
                .ok_or_else(|| SparkError::table_not_found(&table))?;
            let schema = found.schema(session).await?;
            let names: Vec<Vec<String>> = schema.fields().iter().map(|f| vec![f.name().clone()]).collect();
            return text_rows(planner, &["col_name"], &names);
        }
        Statement::DescribeDatabase { name, extended } => {
            let db = find(&database_name(&name)?)?;
            let owner = std::env::var("USER").unwrap_or_else(|_| "root".into());
            let mut rows = vec![
                vec!["Catalog Name".to_string(), CATALOG.to_string()],
                vec!["Namespace Name".into(), db.name.clone()],
                vec!["Comment".into(), db.comment.clone().unwrap_or_default()],
                vec!["Location".into(), db.location_uri(session)],
                vec!["Owner".into(), owner],
            ];
            if extended {
                let props: Vec<String> = db.properties.iter().map(|(k, v)| format!("({k},{v})")).collect();
                let props = if props.is_empty() { String::new() } else { format!("({})", props.join(", ")) };
                rows.push(vec!["Properties".into(), props]);
            }
            return text_rows(planner, &["info_name", "info_value"], &rows);
        }
        Statement::ShowCreateTable(name) => {
            let statement = crate::tables::lookup(session, &name)?.create_statement();
            return text_rows(planner, &["createtab_stmt"], &[vec![statement]]);
        }
        Statement::ShowTblProperties(name) => {
            let rows: Vec<Vec<String>> =
                crate::tables::lookup(session, &name)?.all_properties().into_iter().map(|(k, v)| vec![k, v]).collect();
            return text_rows(planner, &["key", "value"], &rows);
        }
        Statement::ShowPartitions(name) => {
            let rows: Vec<Vec<String>> =
                crate::tables::lookup(session, &name)?.partitions()?.into_iter().map(|p| vec![p]).collect();
            return text_rows(planner, &["partition"], &rows);
        }
        Statement::Refresh(name) => crate::tables::refresh(session, &name).await?,
        Statement::Analyze(name) => {
            crate::tables::lookup(session, &name)?;
        }
    }
    planner.rows(vec![], vec![])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> Statement {
        parse(sql).unwrap().unwrap()
    }

    #[test]
    fn database_statements() {
        assert_eq!(
            parsed("CREATE SCHEMA IF NOT EXISTS s COMMENT 'c' LOCATION '/x' WITH DBPROPERTIES ('a' = 'b');"),
            Statement::CreateDatabase(NewDatabase {
                name: "s".into(),
                if_not_exists: true,
                comment: Some("c".into()),
                location: Some("/x".into()),
                properties: vec![("a".into(), "b".into())],
            })
        );
        assert_eq!(
            parsed("drop namespace if exists `s` cascade"),
            Statement::DropDatabase { name: "`s`".into(), if_exists: true, cascade: true }
        );
        assert_eq!(
            parsed("DROP DATABASE s RESTRICT"),
            Statement::DropDatabase { name: "s".into(), if_exists: false, cascade: false }
        );
        assert_eq!(parsed("USE spark_catalog.s"), Statement::Use("spark_catalog.s".into()));
        assert_eq!(parsed("USE DATABASE s"), Statement::Use("s".into()));
        assert_eq!(parsed("SHOW DATABASES LIKE 's*'"), Statement::ShowDatabases { pattern: Some("s*".into()) });
        assert_eq!(parsed("SHOW SCHEMAS"), Statement::ShowDatabases { pattern: None });
        assert_eq!(
            parsed("DESC DATABASE EXTENDED s"),
            Statement::DescribeDatabase { name: "s".into(), extended: true }
        );
    }

    #[test]
    fn table_statements() {
        assert_eq!(
            parsed("SHOW TABLES FROM s 't*'"),
            Statement::ShowTables { views: false, database: Some("s".into()), pattern: Some("t*".into()) }
        );
        assert_eq!(parsed("SHOW VIEWS"), Statement::ShowTables { views: true, database: None, pattern: None });
        assert_eq!(
            parsed("SHOW COLUMNS FROM t IN s"),
            Statement::ShowColumns { table: "t".into(), database: Some("s".into()) }
        );
        assert_eq!(parsed("SHOW CREATE TABLE s.t AS SERDE"), Statement::ShowCreateTable("s.t".into()));
        assert_eq!(parsed("SHOW TBLPROPERTIES t"), Statement::ShowTblProperties("t".into()));
        assert_eq!(parsed("SHOW PARTITIONS t"), Statement::ShowPartitions("t".into()));
        assert_eq!(parsed("REFRESH TABLE t"), Statement::Refresh("t".into()));
        assert_eq!(parsed("MSCK REPAIR TABLE t SYNC PARTITIONS"), Statement::Refresh("t".into()));
        assert_eq!(parsed("ANALYZE TABLE t COMPUTE STATISTICS NOSCAN"), Statement::Analyze("t".into()));
    }

    #[test]
    fn other_statements_are_left_alone() {
        for sql in ["CREATE TABLE t (a INT)", "DROP TABLE t", "SHOW FUNCTIONS", "DESCRIBE t", "SELECT 1"] {
            assert!(parse(sql).is_none(), "{sql}");
        }
        assert!(parse("CREATE DATABASE s BOGUS").unwrap().is_err());
        assert!(parse("SHOW TABLES IN").unwrap().is_err());
    }

    #[test]
    fn patterns() {
        assert!(name_matches(Some("s*|d?"), "Sales"));
        assert!(!name_matches(Some("s*|d?"), "d1"));
        assert!(name_matches(None, "x"));
    }
}
