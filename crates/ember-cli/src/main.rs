//! `ember`: submit PySpark applications, serve Spark Connect, run SQL.

mod cluster;
mod connect;
mod executor;
mod sql;
mod submit;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ember", version, about = "A Spark-compatible engine: run unchanged PySpark applications")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a PySpark application (like spark-submit).
    Submit(submit::SubmitArgs),
    /// Serve Spark Connect (PySpark connects with sc://HOST:PORT).
    Connect(connect::ConnectArgs),
    /// Run Spark SQL statements.
    Sql(sql::SqlArgs),
    /// Run an executor for a driver (what local-cluster processes and pods run).
    Executor(executor::ExecutorArgs),
    /// Run an application's driver (what `submit --deploy-mode cluster` starts).
    #[command(hide = true)]
    Driver(submit::SubmitArgs),
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ember: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Submit(a) => submit::run(a).await,
            Command::Connect(a) => connect::run(a).await,
            Command::Sql(a) => sql::run(a).await,
            Command::Executor(a) => executor::run(a).await,
            Command::Driver(a) => submit::run_driver(a).await,
        }
    });
    match code {
        Ok(c) => std::process::ExitCode::from(c),
        Err(e) => {
            eprintln!("ember: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Options every mode shares: master, config, memory.
#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// local, local[N], local[*] (the default), local-cluster[N,C,M] or k8s://URL.
    #[arg(long)]
    pub master: Option<String>,
    /// A name for the application (spark.app.name).
    #[arg(long)]
    pub name: Option<String>,
    /// A Spark config, key=value (repeatable).
    #[arg(long = "conf", short = 'c', value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// A file of Spark configs (default: none).
    #[arg(long = "properties-file", value_name = "FILE")]
    pub properties_file: Option<std::path::PathBuf>,
    /// Memory for the driver, e.g. 2g (spark.driver.memory).
    #[arg(long = "driver-memory", value_name = "MEM")]
    pub driver_memory: Option<String>,
    /// Cores for the driver (spark.driver.cores).
    #[arg(long = "driver-cores", value_name = "N")]
    pub driver_cores: Option<String>,
    /// Memory per executor, e.g. 4g (spark.executor.memory).
    #[arg(long = "executor-memory", value_name = "MEM")]
    pub executor_memory: Option<String>,
    /// Cores per executor (spark.executor.cores).
    #[arg(long = "executor-cores", value_name = "N")]
    pub executor_cores: Option<String>,
    /// The number of executors (spark.executor.instances).
    #[arg(long = "num-executors", value_name = "N")]
    pub num_executors: Option<String>,
    /// Print the resolved configuration.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

impl CommonArgs {
    /// The Spark config, in spark-submit's order of precedence: the
    /// properties file, then flags, then `--conf`.
    pub fn spark_conf(&self) -> Result<ember_common::SparkConf, String> {
        let mut conf = ember_common::SparkConf::new();
        if let Some(f) = &self.properties_file {
            let text =
                std::fs::read_to_string(f).map_err(|e| format!("cannot read properties file {}: {e}", f.display()))?;
            for (k, v) in ember_common::SparkConf::parse_properties(&text) {
                conf.set(k, v);
            }
        }
        let flags = [
            ("spark.master", &self.master),
            ("spark.app.name", &self.name),
            ("spark.driver.memory", &self.driver_memory),
            ("spark.driver.cores", &self.driver_cores),
            ("spark.executor.memory", &self.executor_memory),
            ("spark.executor.cores", &self.executor_cores),
            ("spark.executor.instances", &self.num_executors),
        ];
        for (k, v) in flags {
            if let Some(v) = v {
                conf.set(k, v.clone());
            }
        }
        for pair in &self.conf {
            let (k, v) = ember_common::SparkConf::parse_pair(pair).map_err(|e| e.to_string())?;
            conf.set(k, v);
        }
        let master = conf.get("spark.master").unwrap_or_default();
        ember_common::conf::Master::parse(&master).map_err(|e| {
            format!("{e}. ember supports local, local[N], local[*], local-cluster[N,C,M] and k8s://URL masters")
        })?;
        if self.verbose {
            eprintln!("Spark properties used, including those specified through --conf:");
            for (k, v) in conf.explicit() {
                eprintln!("  ({k},{v})");
            }
        }
        Ok(conf)
    }
}
