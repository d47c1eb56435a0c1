//! `spark.catalog.*`: the databases of the `spark_catalog` catalog, their
//! tables and the session's temp views, with the result rows the client
//! reads.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::LogicalPlan;
use ember_common::SparkError;
use spark_connect_proto::Catalog;
use spark_connect_proto::catalog::CatType;

use super::Planner;
use crate::catalog::{Relation, drop_temp_view, view_names};
use crate::catalog_sql::name_matches as matches;
use crate::databases;
use crate::error::{Result, analysis};
use crate::tables::{self, CATALOG, TableName};

fn strings(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn bools(v: Vec<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

impl Planner<'_> {
    pub(super) async fn catalog(&mut self, c: &Catalog, plan_id: Option<i64>) -> Result<LogicalPlan> {
        let Some(t) = &c.cat_type else {
            return Err(analysis("catalog request without a type"));
        };
        let single_bool = |p: &mut Self, name: &str, v: bool| {
            p.rows(vec![Field::new(name, DataType::Boolean, false)], vec![bools(vec![v])])
        };
        match t {
            CatType::CurrentDatabase(_) => {
                self.string_plan("current_database()", crate::catalog::current_database(self.session))
            }
            CatType::CurrentCatalog(_) => self.string_plan("current_catalog()", CATALOG.into()),
            CatType::SetCurrentDatabase(s) => {
                crate::catalog::set_current_database(self.session, &s.db_name)?;
                self.rows(vec![], vec![])
            }
            CatType::SetCurrentCatalog(s) if s.catalog_name.eq_ignore_ascii_case(CATALOG) => self.rows(vec![], vec![]),
            CatType::ListCatalogs(l) => {
                let show = matches(l.pattern.as_deref(), CATALOG);
                self.rows(
                    vec![Field::new("name", DataType::Utf8, false), Field::new("description", DataType::Utf8, true)],
                    vec![
                        strings(if show { vec![Some(CATALOG.into())] } else { vec![] }),
                        strings(if show { vec![None] } else { vec![] }),
                    ],
                )
            }
            CatType::ListDatabases(l) => {
                let all = databases::all().into_iter().filter(|d| matches(l.pattern.as_deref(), &d.name)).collect();
                self.databases_plan(all)
            }
            CatType::GetDatabase(g) => {
                let found = databases::find(&databases::database_name(&g.db_name)?)?;
                self.databases_plan(vec![found])
            }
            CatType::DatabaseExists(d) => {
                let exists = databases::database_name(&d.db_name).is_ok_and(|db| databases::exists(&db));
                single_bool(self, "value", exists)
            }
            CatType::ListTables(l) => {
                let pattern = l.pattern.as_deref();
                let database = match &l.db_name {
                    Some(db) => databases::find(&databases::database_name(db)?)?.name,
                    None => crate::catalog::current_database(self.session),
                };
                let mut rows: Vec<Relation> = tables::names(&database)
                    .into_iter()
                    .filter(|n| matches(pattern, n))
                    .map(|table| Relation::Table(TableName { database: database.clone(), table }))
                    .collect();
                rows.extend(
                    view_names(self.session)
                        .into_iter()
                        .filter(|n| !n.starts_with("__ember") && matches(pattern, n))
                        .map(Relation::View),
                );
                self.tables_plan(rows)
            }
            CatType::GetTable(g) => {
                let found = crate::catalog::resolve_in(self.session, &g.table_name, g.db_name.as_deref())?;
                self.tables_plan(vec![found.ok_or_else(|| SparkError::table_not_found(&g.table_name))?])
            }
            CatType::TableExists(t) => {
                let exists = crate::catalog::resolve_in(self.session, &t.table_name, t.db_name.as_deref())?.is_some();
                single_bool(self, "value", exists)
            }
            CatType::ListColumns(l) => {
                let found = crate::catalog::resolve_in(self.session, &l.table_name, l.db_name.as_deref())?
                    .ok_or_else(|| SparkError::table_not_found(&l.table_name))?;
                let schema = found.schema(self.session).await?;
                let partitions = match &found {
                    Relation::Table(t) => tables::get(t).map(|t| t.partition_columns.clone()).unwrap_or_default(),
                    _ => vec![],
                };
                let n = schema.fields().len();
                let is_partition: Vec<bool> = schema
                    .fields()
                    .iter()
                    .map(|f| partitions.iter().any(|p| p.eq_ignore_ascii_case(f.name())))
                    .collect();
                self.rows(
                    vec![
                        Field::new("name", DataType::Utf8, false),
                        Field::new("description", DataType::Utf8, true),
                        Field::new("dataType", DataType::Utf8, false),
                        Field::new("nullable", DataType::Boolean, false),
                        Field::new("isPartition", DataType::Boolean, false),
                        Field::new("isBucket", DataType::Boolean, false),
                        Field::new("isCluster", DataType::Boolean, false),
                    ],
                    vec![
                        strings(schema.fields().iter().map(|f| Some(f.name().clone())).collect()),
                        strings(vec![None; n]),
                        strings(
                            schema.fields().iter().map(|f| Some(crate::types::simple_string(f.data_type()))).collect(),
                        ),
                        bools(schema.fields().iter().map(|f| f.is_nullable()).collect()),
                        bools(is_partition),
                        bools(vec![false; n]),
                        bools(vec![false; n]),
                    ],
                )
            }
            // A database has no functions of its own.
            CatType::FunctionExists(f) if f.db_name.is_some() => single_bool(self, "value", false),
            CatType::FunctionExists(f) => {
                let ctx = self.session.ctx();
                let n = f.function_name.to_lowercase();
                let exists = ctx.udf(&n).is_ok() || ctx.udaf(&n).is_ok() || ctx.udwf(&n).is_ok();
                single_bool(self, "value", exists)
            }
            CatType::DropTempView(d) => {
                let dropped = drop_temp_view(self.session, &d.view_name)?;
                single_bool(self, "value", dropped)
            }
            CatType::DropGlobalTempView(d) => {
                let dropped = crate::catalog::drop_global_temp_view(&d.view_name)?;
                single_bool(self, "value", dropped)
            }
            CatType::DropView(d) => {
                let dropped = drop_temp_view(self.session, &d.view_name)?;
                if !dropped && !d.if_exists {
                    return Err(SparkError::table_not_found(&d.view_name).into());
                }
                self.rows(vec![], vec![])
            }
            CatType::IsCached(i) => {
                let name = self.cache_key(&i.table_name)?;
                single_bool(self, "value", self.session.cache.is_table_cached(&name))
            }
            CatType::CacheTable(c) => {
                let name = self.cache_key(&c.table_name)?;
                self.session.cache.cache_table(self.session, &name).await?;
                self.rows(vec![], vec![])
            }
            CatType::UncacheTable(u) => {
                let name = self.cache_key(&u.table_name)?;
                self.session.cache.uncache_table(self.session, &name)?;
                self.rows(vec![], vec![])
            }
            CatType::ClearCache(_) => {
                self.session.cache.clear(self.session)?;
                self.rows(vec![], vec![])
            }
            CatType::CreateTable(c) => {
                let columns = match &c.schema {
                    Some(t) => match crate::types::to_arrow(t, &self.session.time_zone())? {
                        DataType::Struct(fields) => Some(Arc::new(Schema::new(fields))),
                        other => {
                            return Err(analysis(format!(
                                "createTable needs a struct schema, not {}",
                                crate::types::simple_string(&other)
                            )));
                        }
                    },
                    None => None,
                };
                let mut options: Vec<(String, String)> =
                    c.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let path =
                    options.iter().position(|(k, _)| k.eq_ignore_ascii_case("path")).map(|i| options.remove(i).1);
                let new = tables::NewTable {
                    name: c.table_name.clone(),
                    format: c.source.clone(),
                    columns,
                    partition_by: vec![],
                    location: c.path.clone().or(path),
                    options,
                    comment: c.description.clone(),
                    properties: vec![],
                };
                let ran = |s: &crate::session::SparkSession| {
                    plan_id.is_some_and(|id| s.created_tables.lock().is_ok_and(|t| t.contains(&id)))
                };
                if !ran(self.session) {
                    tables::create(self.session, new, None, tables::IfExists::Fail).await?;
                    if let (Some(id), Ok(mut t)) = (plan_id, self.session.created_tables.lock()) {
                        t.insert(id);
                    }
                }
                let found = crate::catalog::resolve(self.session, &c.table_name)?
                    .ok_or_else(|| SparkError::table_not_found(&c.table_name))?;
                let read = spark_connect_proto::Read {
                    read_type: Some(spark_connect_proto::read::ReadType::NamedTable(
                        spark_connect_proto::read::NamedTable {
                            unparsed_identifier: found.full_name(),
                            options: Default::default(),
                        },
                    )),
                    is_streaming: false,
                };
                crate::read::read(self, &read).await
            }
            CatType::DropTable(d) => {
                let dropped = tables::drop_table(self.session, &tables::table_key(self.session, &d.table_name)?)?;
                if !dropped && !d.if_exists {
                    return Err(SparkError::table_not_found(&d.table_name).into());
                }
                self.rows(vec![], vec![])
            }
            CatType::RefreshTable(r) => {
                tables::refresh(self.session, &r.table_name).await?;
                self.rows(vec![], vec![])
            }
            CatType::RecoverPartitions(r) => {
                tables::refresh(self.session, &r.table_name).await?;
                self.rows(vec![], vec![])
            }
            CatType::RefreshByPath(r) => {
                let path = crate::tables::local_path(&r.path);
                tables::refresh_by_path(self.session, &path).await?;
                self.rows(vec![], vec![])
            }
            CatType::CreateDatabase(c) => {
                let mut properties: Vec<(String, String)> =
                    c.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                properties.sort();
                let mut take =
                    |key: &str| properties.iter().position(|(k, _)| k == key).map(|i| properties.remove(i).1);
                let (comment, location) = (take("comment"), take("location"));
                let new = databases::NewDatabase {
                    name: c.db_name.clone(),
                    if_not_exists: c.if_not_exists,
                    comment,
                    location,
                    properties,
                };
                databases::create(self.session, new)?;
                self.rows(vec![], vec![])
            }
            CatType::DropDatabase(d) => {
                databases::drop(self.session, &d.db_name, d.if_exists, d.cascade)?;
                self.rows(vec![], vec![])
            }
            CatType::ListViews(l) => {
                if let Some(db) = &l.db_name {
                    databases::find(&databases::database_name(db)?)?;
                }
                let views = view_names(self.session)
                    .into_iter()
                    .filter(|n| !n.starts_with("__ember") && matches(l.pattern.as_deref(), n))
                    .map(Relation::View)
                    .collect();
                self.tables_plan(views)
            }
            CatType::GetTableProperties(g) => {
                let properties = tables::lookup(self.session, &g.table_name)?.all_properties();
                self.rows(
                    vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Utf8, false)],
                    vec![
                        strings(properties.iter().map(|(k, _)| Some(k.clone())).collect()),
                        strings(properties.iter().map(|(_, v)| Some(v.clone())).collect()),
                    ],
                )
            }
            CatType::GetCreateTableString(g) => {
                let statement = tables::lookup(self.session, &g.table_name)?.create_statement();
                self.string_plan("createtab_stmt", statement)
            }
            CatType::ListPartitions(l) => {
                let partitions = tables::lookup(self.session, &l.table_name)?.partitions()?;
                self.rows(
                    vec![Field::new("partition", DataType::Utf8, false)],
                    vec![strings(partitions.into_iter().map(Some).collect())],
                )
            }
            CatType::TruncateTable(t) => {
                tables::truncate(self.session, &t.table_name).await?;
                self.rows(vec![], vec![])
            }
            // Statistics are not kept: the table must exist.
            CatType::AnalyzeTable(a) => {
                tables::lookup(self.session, &a.table_name)?;
                self.rows(vec![], vec![])
            }
            other => {
                let dbg = format!("{other:?}");
                Err(SparkError::unsupported(format!("spark.catalog.{}", dbg.split('(').next().unwrap_or("?"))).into())
            }
        }
    }

    /// Rows of `listTables` / `getTable`.
    fn tables_plan(&mut self, rows: Vec<Relation>) -> Result<LogicalPlan> {
        let mut namespace = ListBuilder::new(StringBuilder::new());
        let (mut names, mut catalogs, mut descriptions, mut types, mut temporary) =
            (vec![], vec![], vec![], vec![], vec![]);
        for r in &rows {
            names.push(Some(r.name().to_string()));
            match r {
                Relation::Table(t) => {
                    let table = tables::get(t);
                    namespace.values().append_value(&t.database);
                    catalogs.push(Some(CATALOG.to_string()));
                    descriptions.push(table.as_ref().and_then(|t| t.comment.clone()));
                    let managed = table.is_some_and(|t| t.managed);
                    types.push(Some(if managed { "MANAGED" } else { "EXTERNAL" }.to_string()));
                    temporary.push(false);
                }
                Relation::GlobalView(_) => {
                    namespace.values().append_value(crate::catalog::GLOBAL_TEMP_DATABASE);
                    catalogs.push(None);
                    descriptions.push(None);
                    types.push(Some("TEMPORARY".to_string()));
                    temporary.push(true);
                }
                Relation::View(_) => {
                    catalogs.push(None);
                    descriptions.push(None);
                    types.push(Some("TEMPORARY".to_string()));
                    temporary.push(true);
                }
            }
            namespace.append(true);
        }
        self.rows(
            vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("catalog", DataType::Utf8, true),
                Field::new("namespace", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), true),
                Field::new("description", DataType::Utf8, true),
                Field::new("tableType", DataType::Utf8, false),
                Field::new("isTemporary", DataType::Boolean, false),
            ],
            vec![
                strings(names),
                strings(catalogs),
                Arc::new(namespace.finish()),
                strings(descriptions),
                strings(types),
                bools(temporary),
            ],
        )
    }
}

impl Planner<'_> {
    /// Rows of `listDatabases` / `getDatabase`.
    fn databases_plan(&mut self, rows: Vec<databases::Database>) -> Result<LogicalPlan> {
        let session = self.session;
        self.rows(
            vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("catalog", DataType::Utf8, true),
                Field::new("description", DataType::Utf8, true),
                Field::new("locationUri", DataType::Utf8, true),
            ],
            vec![
                strings(rows.iter().map(|d| Some(d.name.clone())).collect()),
                strings(vec![Some(CATALOG.to_string()); rows.len()]),
                strings(rows.iter().map(|d| Some(d.comment.clone().unwrap_or_default())).collect()),
                strings(rows.iter().map(|d| Some(d.location_uri(session))).collect()),
            ],
        )
    }

    /// The name `cacheTable` keeps a relation's rows under.
    fn cache_key(&self, name: &str) -> Result<String> {
        let found = crate::catalog::resolve(self.session, name)?;
        Ok(found.ok_or_else(|| SparkError::table_not_found(name))?.full_name())
    }
}
