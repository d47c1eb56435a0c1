//! Databases of the `spark_catalog` (Spark also calls them schemas and
//! namespaces): `CREATE | DROP | USE | DESCRIBE DATABASE`, `SHOW
//! DATABASES`, `SHOW TABLES | VIEWS [IN db]`, `SHOW COLUMNS`, and what
//! `spark.catalog` lists.
//!
//! As Spark's in-memory catalog, the databases are shared by the
//! application's sessions (here, the server process); each session has its
//! own current database, `default` at first. `default` always exists and
//! keeps its tables in `spark.sql.warehouse.dir`; another database keeps
//! them in `<warehouse>/<name>.db` unless created with a `LOCATION`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, RwLock};

use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::keywords::Keyword;
use ember_common::{ExceptionClass, SparkError};

use crate::create_table::{Cursor, tokenize};
use crate::error::Result;
use crate::plan::Planner;
use crate::session::SparkSession;
use crate::tables::CATALOG;

/// The database every catalog has, current in a new session.
pub const DEFAULT: &str = "default";

#[derive(Debug, Clone)]
pub struct Database {
    /// Lower case, as names are looked up.
    pub name: String,
    pub comment: Option<String>,
    /// `None` for `default`: the warehouse directory.
    location: Option<PathBuf>,
    pub properties: Vec<(String, String)>,
}

impl Database {
    /// The directory its managed tables are in.
    pub fn location(&self, session: &SparkSession) -> PathBuf {
        self.location.clone().unwrap_or_else(|| crate::tables::warehouse(session))
    }

    /// The location as Spark shows it: `file:/absolute/path`.
    pub fn location_uri(&self, session: &SparkSession) -> String {
        let dir = self.location(session);
        format!("file:{}", std::path::absolute(&dir).unwrap_or(dir).display())
    }

    /// `spark_catalog`.`name`, as Spark's errors name a database.
    pub fn qualified(name: &str) -> String {
        format!("`{CATALOG}`.`{name}`")
    }
}

static DATABASES: LazyLock<RwLock<BTreeMap<String, Database>>> = LazyLock::new(Default::default);

/// The database `name` (any case), if it exists.
pub fn get(name: &str) -> Option<Database> {
    let key = name.to_lowercase();
    if key == DEFAULT {
        let comment = Some("default database".to_string());
        return Some(Database { name: key, comment, location: None, properties: vec![] });
    }
    DATABASES.read().ok()?.get(&key).cloned()
}

pub fn exists(name: &str) -> bool {
    get(name).is_some()
}

/// The database `name`, or SCHEMA_NOT_FOUND.
pub fn find(name: &str) -> Result<Database> {
    get(name).ok_or_else(|| not_found(name))
}

/// Every database, sorted by name.
pub fn all() -> Vec<Database> {
    let mut all: Vec<Database> = get(DEFAULT).into_iter().collect();
    all.extend(DATABASES.read().map(|d| d.values().cloned().collect::<Vec<_>>()).unwrap_or_default());
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// The database a name as written means: `db` or `spark_catalog.db`.
pub fn database_name(name: &str) -> Result<String> {
    let parts = crate::expr::parse_identifier(name)?;
    match parts.as_slice() {
        [db] => Ok(db.to_lowercase()),
        [cat, db] if cat.eq_ignore_ascii_case(CATALOG) => Ok(db.to_lowercase()),
        _ => Err(not_found(name)),
    }
}

pub fn not_found(name: &str) -> crate::error::Error {
    let name = Database::qualified(&name.to_lowercase());
    SparkError::with_class(
        ExceptionClass::Analysis,
        "SCHEMA_NOT_FOUND",
        "42704",
        format!("The schema {name} cannot be found. Verify the spelling and correctness of the schema and catalog."),
    )
    .param("schemaName", name)
    .into()
}

/// What `CREATE DATABASE` makes.
#[derive(Debug, Default, PartialEq)]
pub struct NewDatabase {
    pub name: String,
    pub if_not_exists: bool,
    pub comment: Option<String>,
    pub location: Option<String>,
    pub properties: Vec<(String, String)>,
}

/// `CREATE DATABASE`: enters it and makes its directory.
pub fn create(session: &SparkSession, new: NewDatabase) -> Result<()> {
    let name = database_name(&new.name)?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(crate::tables::invalid_name(&name));
    }
    if name == crate::catalog::GLOBAL_TEMP_DATABASE {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "_LEGACY_ERROR_TEMP_1067",
            "",
            format!("{name} is a system preserved database, you cannot create a database with this name."),
        )
        .into());
    }
    if exists(&name) {
        if new.if_not_exists {
            return Ok(());
        }
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "SCHEMA_ALREADY_EXISTS",
            "42P06",
            format!(
                "Cannot create schema `{name}` because it already exists.\nChoose a different name, drop the existing schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema."
            ),
        )
        .param("schemaName", format!("`{name}`"))
        .into());
    }
    let location = match &new.location {
        Some(l) => crate::tables::local_path(l),
        None => crate::tables::warehouse(session).join(format!("{name}.db")),
    };
    let location = std::path::absolute(&location).unwrap_or(location);
    std::fs::create_dir_all(&location)?;
    let db =
        Database { name: name.clone(), comment: new.comment, location: Some(location), properties: new.properties };
    if let Ok(mut d) = DATABASES.write() {
        d.insert(name, db);
    }
    Ok(())
}

/// `DROP DATABASE`: with `cascade` its tables go too, else it must have
/// none. Its directory is deleted.
pub fn drop(session: &SparkSession, name: &str, if_exists: bool, cascade: bool) -> Result<()> {
    let name = database_name(name)?;
    if name == DEFAULT {
        let db = Database::qualified(DEFAULT);
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "UNSUPPORTED_FEATURE.DROP_DATABASE",
            "0A000",
            format!("The feature is not supported: Drop the default database {db}."),
        )
        .into());
    }
    let Some(db) = get(&name) else {
        return if if_exists { Ok(()) } else { Err(not_found(&name)) };
    };
    let tables = crate::tables::names(&name);
    if !tables.is_empty() && !cascade {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "SCHEMA_NOT_EMPTY",
            "2BP01",
            format!(
                "Cannot drop a schema `{name}` because it contains objects.\nUse DROP SCHEMA ... CASCADE to drop the schema and all its objects."
            ),
        )
        .param("schemaName", format!("`{name}`"))
        .into());
    }
    for table in tables {
        let key = crate::tables::TableName { database: name.clone(), table };
        crate::tables::drop_table(session, &key)?;
    }
    if let Ok(mut d) = DATABASES.write() {
        d.remove(&name);
    }
    let dir = db.location(session);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

/// The statements of this module.
#[derive(Debug, PartialEq)]
pub enum Statement {
    Create(NewDatabase),
    Drop {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    Use(String),
    /// `SHOW DATABASES [LIKE pattern]`.
    Show {
        pattern: Option<String>,
    },
    /// `SHOW TABLES | VIEWS [IN db] [LIKE pattern]`.
    ShowTables {
        views: bool,
        database: Option<String>,
        pattern: Option<String>,
    },
    Describe {
        name: String,
        extended: bool,
    },
    /// `SHOW COLUMNS IN t [IN db]`.
    ShowColumns {
        table: String,
        database: Option<String>,
    },
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
        create_statement(&mut p)
    } else if p.word(Keyword::DROP) {
        if !database_word(&mut p) {
            return None;
        }
        drop_statement(&mut p)
    } else if p.word(Keyword::USE) {
        let _ = database_word(&mut p);
        p.name().map(Statement::Use)
    } else if p.word(Keyword::SHOW) {
        if ["DATABASES", "SCHEMAS", "NAMESPACES"].iter().any(|w| p.word_text(w)) {
            pattern(&mut p).map(|pattern| Statement::Show { pattern })
        } else if p.word_text("TABLES") || p.word_text("VIEWS") {
            show_tables(&mut p, sql)
        } else if p.word(Keyword::COLUMNS) {
            show_columns(&mut p)
        } else {
            return None;
        }
    } else if p.word(Keyword::DESC) || p.word(Keyword::DESCRIBE) {
        if !database_word(&mut p) {
            return None;
        }
        let extended = p.word(Keyword::EXTENDED);
        p.name().map(|name| Statement::Describe { name, extended })
    } else {
        return None;
    };
    Some(stmt.and_then(|s| if p.at_end() { Ok(s) } else { Err(p.error()) }))
}

fn create_statement(p: &mut Cursor) -> Result<Statement> {
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
    Ok(Statement::Create(new))
}

fn drop_statement(p: &mut Cursor) -> Result<Statement> {
    let if_exists = p.word(Keyword::IF) && {
        p.expect(Keyword::EXISTS)?;
        true
    };
    let name = p.name()?;
    let cascade = p.word(Keyword::CASCADE);
    if !cascade {
        let _ = p.word(Keyword::RESTRICT);
    }
    Ok(Statement::Drop { name, if_exists, cascade })
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

/// Runs a statement; its result rows.
pub async fn run(planner: &mut Planner<'_>, stmt: Statement) -> Result<LogicalPlan> {
    let session = planner.session;
    match stmt {
        Statement::Create(new) => create(session, new)?,
        Statement::Drop { name, if_exists, cascade } => drop(session, &name, if_exists, cascade)?,
        Statement::Use(name) => crate::catalog::set_current_database(session, &name)?,
        Statement::Show { pattern } => {
            let names: Vec<String> =
                all().into_iter().map(|d| d.name).filter(|n| name_matches(pattern.as_deref(), n)).collect();
            return planner.rows(vec![Field::new("namespace", DataType::Utf8, false)], vec![strings(&names)]);
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
            let found = match &database {
                Some(db) => {
                    let key = crate::tables::TableName {
                        database: database_name(db)?,
                        table: crate::expr::parse_identifier(&table)?
                            .last()
                            .cloned()
                            .unwrap_or_default()
                            .to_lowercase(),
                    };
                    crate::tables::get(&key).map(|_| crate::catalog::Relation::Table(key))
                }
                None => crate::catalog::resolve(session, &table)?,
            };
            let found = found.ok_or_else(|| SparkError::table_not_found(&table))?;
            let schema = found.schema(session).await?;
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return planner.rows(vec![Field::new("col_name", DataType::Utf8, false)], vec![strings(&names)]);
        }
        Statement::Describe { name, extended } => {
            let db = find(&database_name(&name)?)?;
            let owner = std::env::var("USER").unwrap_or_else(|_| "root".into());
            let mut rows = vec![
                ("Catalog Name", CATALOG.to_string()),
                ("Namespace Name", db.name.clone()),
                ("Comment", db.comment.clone().unwrap_or_default()),
                ("Location", db.location_uri(session)),
                ("Owner", owner),
            ];
            if extended {
                let props: Vec<String> = db.properties.iter().map(|(k, v)| format!("({k},{v})")).collect();
                let props = if props.is_empty() { String::new() } else { format!("({})", props.join(", ")) };
                rows.push(("Properties", props));
            }
            return planner.rows(
                vec![Field::new("info_name", DataType::Utf8, false), Field::new("info_value", DataType::Utf8, false)],
                vec![
                    strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                    strings(&rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>()),
                ],
            );
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
    fn statements() {
        assert_eq!(
            parsed("CREATE SCHEMA IF NOT EXISTS s COMMENT 'c' LOCATION '/x' WITH DBPROPERTIES ('a' = 'b');"),
            Statement::Create(NewDatabase {
                name: "s".into(),
                if_not_exists: true,
                comment: Some("c".into()),
                location: Some("/x".into()),
                properties: vec![("a".into(), "b".into())],
            })
        );
        assert_eq!(
            parsed("drop namespace if exists `s` cascade"),
            Statement::Drop { name: "`s`".into(), if_exists: true, cascade: true }
        );
        assert_eq!(
            parsed("DROP DATABASE s RESTRICT"),
            Statement::Drop { name: "s".into(), if_exists: false, cascade: false }
        );
        assert_eq!(parsed("USE spark_catalog.s"), Statement::Use("spark_catalog.s".into()));
        assert_eq!(parsed("USE DATABASE s"), Statement::Use("s".into()));
        assert_eq!(parsed("SHOW DATABASES LIKE 's*'"), Statement::Show { pattern: Some("s*".into()) });
        assert_eq!(parsed("SHOW SCHEMAS"), Statement::Show { pattern: None });
        assert_eq!(
            parsed("SHOW TABLES FROM s 't*'"),
            Statement::ShowTables { views: false, database: Some("s".into()), pattern: Some("t*".into()) }
        );
        assert_eq!(parsed("SHOW VIEWS"), Statement::ShowTables { views: true, database: None, pattern: None });
        assert_eq!(parsed("DESC DATABASE EXTENDED s"), Statement::Describe { name: "s".into(), extended: true });
        assert_eq!(
            parsed("SHOW COLUMNS FROM t IN s"),
            Statement::ShowColumns { table: "t".into(), database: Some("s".into()) }
        );
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
