//! Databases of the `spark_catalog` (Spark also calls them schemas and
//! namespaces), which `CREATE | DROP | USE DATABASE` (`crate::catalog_sql`)
//! and `spark.catalog` make, drop and list.
//!
//! As Spark's in-memory catalog, the databases are shared by the
//! application's sessions (here, the server process); each session has its
//! own current database, `default` at first. `default` always exists and
//! keeps its tables in `spark.sql.warehouse.dir`; another database keeps
//! them in `<warehouse>/<name>.db` unless created with a `LOCATION`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{LazyLock, RwLock};

use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
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
