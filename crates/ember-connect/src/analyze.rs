//! `AnalyzePlan`: schema, explain, tree string, DDL parsing, persist, ...

use std::hash::{Hash, Hasher};

use spark_connect_proto::analyze_plan_request::Analyze;
use spark_connect_proto::analyze_plan_response as res;
use spark_connect_proto::plan::OpType;
use spark_connect_proto::{Plan, Relation, StorageLevel};

use crate::sessions::Session;

fn root(plan: &Option<Plan>) -> ember_sql::Result<&Relation> {
    match plan.as_ref().and_then(|p| p.op_type.as_ref()) {
        Some(OpType::Root(r)) => Ok(r),
        _ => Err(ember_sql::error::analysis("expected a relation")),
    }
}

pub async fn analyze(session: &Session, a: &Analyze) -> ember_sql::Result<res::Result> {
    let spark = &session.spark;
    let tz = spark.time_zone();
    let plan_of = |p: &Option<Plan>| -> ember_sql::Result<Relation> { root(p).cloned() };
    Ok(match a {
        Analyze::Schema(s) => {
            let rel = plan_of(&s.plan)?;
            let plan = spark.analyzed(ember_sql::Planner::new(spark).relation(&rel).await?)?;
            let schema = crate::arrow_out::client_schema(plan.schema().as_arrow(), &tz);
            res::Result::Schema(res::Schema { schema: Some(ember_sql::types::schema_to_spark(&schema)?) })
        }
        Analyze::Explain(e) => {
            let rel = plan_of(&e.plan)?;
            let parsed = ember_sql::Planner::new(spark).relation(&rel).await?;
            let df = spark.ctx().execute_logical_plan(parsed.clone()).await?;
            let optimized = df.clone().into_optimized_plan()?;
            let physical = df.create_physical_plan().await?;
            let phys = datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string();
            let mode = e.explain_mode();
            use spark_connect_proto::analyze_plan_request::explain::ExplainMode as M;
            let text = match mode {
                M::Extended | M::Cost => format!(
                    "== Parsed Logical Plan ==\n{}\n\n== Analyzed Logical Plan ==\n{}\n\n== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{phys}",
                    parsed.display_indent(),
                    spark.analyzed(parsed.clone())?.display_indent(),
                    optimized.display_indent()
                ),
                _ => format!("== Physical Plan ==\n{phys}"),
            };
            res::Result::Explain(res::Explain { explain_string: text })
        }
        Analyze::TreeString(t) => {
            let rel = plan_of(&t.plan)?;
            let plan = spark.analyzed(ember_sql::Planner::new(spark).relation(&rel).await?)?;
            let level = t.level.and_then(|l| usize::try_from(l).ok()).filter(|l| *l > 0);
            let schema = crate::arrow_out::client_schema(plan.schema().as_arrow(), &tz);
            res::Result::TreeString(res::TreeString { tree_string: ember_sql::types::tree_string(&schema, level) })
        }
        Analyze::IsLocal(l) => {
            let rel = plan_of(&l.plan)?;
            let local = matches!(rel.rel_type, Some(spark_connect_proto::relation::RelType::LocalRelation(_)));
            res::Result::IsLocal(res::IsLocal { is_local: local })
        }
        Analyze::IsStreaming(_) => res::Result::IsStreaming(res::IsStreaming { is_streaming: false }),
        Analyze::InputFiles(i) => {
            let rel = plan_of(&i.plan)?;
            let mut files = vec![];
            collect_input_files(&rel, &mut files);
            res::Result::InputFiles(res::InputFiles { files })
        }
        Analyze::SparkVersion(_) => {
            res::Result::SparkVersion(res::SparkVersion { version: ember_common::SPARK_VERSION.to_string() })
        }
        Analyze::DdlParse(d) => {
            let schema = ember_sql::types::parse_ddl_schema(&d.ddl_string, &tz)?;
            let parsed = if d.ddl_string.contains(' ')
                || d.ddl_string.contains(':')
                || d.ddl_string.trim().to_lowercase().starts_with("struct<")
            {
                ember_sql::types::schema_to_spark(&schema)?
            } else {
                ember_sql::types::from_arrow(schema.field(0).data_type())?
            };
            res::Result::DdlParse(res::DdlParse { parsed: Some(parsed) })
        }
        Analyze::SameSemantics(s) => {
            let a = plan_of(&s.target_plan)?;
            let b = plan_of(&s.other_plan)?;
            let pa = ember_sql::Planner::new(spark).relation(&a).await?;
            let pb = ember_sql::Planner::new(spark).relation(&b).await?;
            let same = normalized(spark, pa).await? == normalized(spark, pb).await?;
            res::Result::SameSemantics(res::SameSemantics { result: same })
        }
        Analyze::SemanticHash(s) => {
            let a = plan_of(&s.plan)?;
            let p = ember_sql::Planner::new(spark).relation(&a).await?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            normalized(spark, p).await?.hash(&mut h);
            res::Result::SemanticHash(res::SemanticHash { result: h.finish() as i32 })
        }
        Analyze::Persist(p) => {
            let rel = p.relation.clone().ok_or_else(|| ember_sql::error::analysis("persist without a relation"))?;
            let level = p.storage_level.clone().unwrap_or(StorageLevel {
                use_disk: true,
                use_memory: true,
                use_off_heap: false,
                deserialized: true,
                replication: 1,
            });
            spark.cache.persist(spark, &rel, &encode_level(&level)).await?;
            res::Result::Persist(res::Persist {})
        }
        Analyze::Unpersist(u) => {
            let rel = u.relation.clone().ok_or_else(|| ember_sql::error::analysis("unpersist without a relation"))?;
            spark.cache.unpersist(spark, &rel)?;
            res::Result::Unpersist(res::Unpersist {})
        }
        Analyze::GetStorageLevel(g) => {
            let rel =
                g.relation.clone().ok_or_else(|| ember_sql::error::analysis("getStorageLevel without a relation"))?;
            // Not cached: Spark's StorageLevel.NONE (replication 1).
            let level = spark.cache.storage_level(&rel).map(|s| decode_level(&s)).unwrap_or(StorageLevel {
                use_disk: false,
                use_memory: false,
                use_off_heap: false,
                deserialized: false,
                replication: 1,
            });
            res::Result::GetStorageLevel(res::GetStorageLevel { storage_level: Some(level) })
        }
        Analyze::JsonToDdl(j) => {
            let schema = ember_sql::types::parse_json_schema(&j.json_string, &tz)?;
            let ddl = schema
                .fields()
                .iter()
                .map(|f| {
                    format!(
                        "{} {}{}",
                        f.name(),
                        ember_sql::types::simple_string(f.data_type()).to_uppercase(),
                        if f.is_nullable() { "" } else { " NOT NULL" }
                    )
                })
                .collect::<Vec<_>>()
                .join(",");
            res::Result::JsonToDdl(res::JsonToDdl { ddl_string: ddl })
        }
    })
}

/// The plan's text without hidden aliases, so equal queries compare equal.
/// A plan's form for sameSemantics/semanticHash: the physical plan it
/// runs as, which holds what the logical display hides (a range's bounds,
/// a scan's files) and drops what does not change results (aliases to the
/// same name), with ember's generated alias numbers erased.
async fn normalized(
    spark: &ember_sql::SparkSession,
    p: datafusion::logical_expr::LogicalPlan,
) -> ember_sql::Result<String> {
    let physical = spark.ctx().execute_logical_plan(p).await?.create_physical_plan().await?;
    let text = datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string();
    Ok(regex_lite_ids(&text))
}

fn regex_lite_ids(text: &str) -> String {
    // __ember_N aliases differ between translations of the same relation.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("__ember_") {
        out.push_str(&rest[..i]);
        out.push_str("__ember_");
        rest = &rest[i + 8..];
        rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn collect_input_files(rel: &Relation, out: &mut Vec<String>) {
    use spark_connect_proto::relation::RelType;
    if let Some(RelType::Read(r)) = &rel.rel_type {
        if let Some(spark_connect_proto::read::ReadType::DataSource(d)) = &r.read_type {
            for p in &d.paths {
                let local = p.strip_prefix("file://").unwrap_or(p);
                let path = std::path::Path::new(local);
                if path.is_dir() {
                    let mut files: Vec<String> = walk(path);
                    files.sort();
                    out.extend(files);
                } else {
                    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
                    out.push(format!("file://{}", abs.display()));
                }
            }
        }
        return;
    }
    // Any child relation: walk the encoded message's fields via Debug is
    // brittle, so descend the common single-input relations.
    let children: Vec<&Relation> = match &rel.rel_type {
        Some(RelType::Project(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::Filter(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::Sort(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::Limit(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::Aggregate(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::WithColumns(p)) => p.input.as_deref().into_iter().collect(),
        Some(RelType::Join(j)) => j.left.as_deref().into_iter().chain(j.right.as_deref()).collect(),
        Some(RelType::SetOp(s)) => s.left_input.as_deref().into_iter().chain(s.right_input.as_deref()).collect(),
        _ => vec![],
    };
    for c in children {
        collect_input_files(c, out);
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                let abs = std::path::absolute(&p).unwrap_or(p);
                out.push(format!("file://{}", abs.display()));
            }
        }
    }
    out
}

fn encode_level(l: &StorageLevel) -> String {
    format!("{},{},{},{},{}", l.use_disk, l.use_memory, l.use_off_heap, l.deserialized, l.replication)
}

fn decode_level(s: &str) -> StorageLevel {
    let p: Vec<&str> = s.split(',').collect();
    let b = |i: usize| p.get(i).is_some_and(|v| *v == "true");
    StorageLevel {
        use_disk: b(0),
        use_memory: b(1),
        use_off_heap: b(2),
        deserialized: b(3),
        replication: p.get(4).and_then(|v| v.parse().ok()).unwrap_or(1),
    }
}
