//! `ember sql -e "..."` / `ember sql -f file.sql`: runs Spark SQL
//! statements in a local session and prints rows tab-separated, as
//! `spark-sql` does.

use std::path::PathBuf;

use ember_sql::sql::SqlOutcome;

use crate::CommonArgs;

#[derive(clap::Args)]
pub struct SqlArgs {
    /// SQL statements to run.
    #[arg(short = 'e', value_name = "SQL", conflicts_with = "file")]
    execute: Option<String>,
    /// A file of SQL statements to run.
    #[arg(short = 'f', value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run(a: SqlArgs) -> Result<u8, String> {
    let conf = a.common.spark_conf()?;
    let text = match (&a.execute, &a.file) {
        (Some(e), _) => e.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?,
        (None, None) => return Err("give statements with -e or a file with -f".into()),
    };
    let session =
        ember_sql::SparkSession::try_new(uuid_like(), conf).map_err(|e| ember_sql::error::classify(&e).message)?;
    for stmt in split_statements(&text) {
        if let Err(e) = run_one(&session, &stmt).await {
            eprintln!("Error in query: {}", ember_sql::error::classify(&e).message);
            return Ok(1);
        }
    }
    Ok(0)
}

fn uuid_like() -> String {
    "00000000-0000-0000-0000-000000000000".into()
}

async fn run_one(session: &ember_sql::SparkSession, stmt: &str) -> ember_sql::Result<()> {
    let mut planner = ember_sql::Planner::new(session);
    let plan = match ember_sql::sql::run_command(&mut planner, stmt).await? {
        SqlOutcome::Query => {
            let sql = spark_connect_proto_sql(stmt);
            ember_sql::sql::query_plan(&mut planner, &sql).await?
        }
        SqlOutcome::Done(p) => p,
    };
    let df = session.ctx().execute_logical_plan(plan).await?;
    for b in df.collect().await? {
        for r in 0..b.num_rows() {
            let row: Vec<String> = b.columns().iter().map(|c| ember_sql::display::cell(c, r)).collect();
            println!("{}", row.join("\t"));
        }
    }
    Ok(())
}

fn spark_connect_proto_sql(q: &str) -> ember_sql::plan::SqlRelation {
    ember_sql::plan::SqlRelation { query: q.to_string(), ..Default::default() }
}

/// Splits on `;` outside quotes and comments.
fn split_statements(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '-') if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                cur.push('\n');
            }
            (None, ';') => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        assert_eq!(split_statements("SELECT 1; SELECT ';' -- x;\n;"), vec!["SELECT 1", "SELECT ';'"]);
    }
}
