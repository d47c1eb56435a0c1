//! `SparkConf`: string key/value configuration with Spark's defaults.
//!
//! Values are kept as strings, as Spark does; typed getters parse Spark's
//! units (`512m`, `2g` for bytes; `30s`, `100ms` for durations).

use std::collections::BTreeMap;

use crate::error::SparkError;

/// The keys whose values are one of a few words (any case).
const ENUMS: &[(&str, &[&str])] = &[
    ("spark.sql.mapKeyDedupPolicy", &["EXCEPTION", "LAST_WIN"]),
    ("spark.sql.sources.partitionOverwriteMode", &["STATIC", "DYNAMIC"]),
];

/// Defaults for the keys clients read or the engine uses; values are Spark 4.2's.
const DEFAULTS: &[(&str, &str)] = &[
    ("spark.master", "local[*]"),
    ("spark.app.name", "ember"),
    ("spark.driver.memory", "1g"),
    ("spark.driver.cores", "1"),
    ("spark.executor.memory", "1g"),
    ("spark.sql.shuffle.partitions", "200"),
    ("spark.sql.ansi.enabled", "true"),
    ("spark.sql.caseSensitive", "false"),
    ("spark.sql.session.timeZone", "UTC"),
    ("spark.sql.mapKeyDedupPolicy", "EXCEPTION"),
    ("spark.sql.execution.arrow.maxRecordsPerBatch", "10000"),
    ("spark.sql.execution.arrow.pyspark.enabled", "true"),
    ("spark.sql.execution.pandas.structHandlingMode", "legacy"),
    ("spark.sql.execution.pandas.convertToArrowArraySafely", "false"),
    ("spark.sql.pyspark.inferNestedDictAsStruct.enabled", "false"),
    ("spark.sql.pyspark.legacy.inferArrayTypeFromFirstElement.enabled", "false"),
    ("spark.sql.timestampType", "TIMESTAMP_LTZ"),
    ("spark.sql.repl.eagerEval.enabled", "false"),
    ("spark.sql.repl.eagerEval.maxNumRows", "20"),
    ("spark.sql.repl.eagerEval.truncate", "20"),
    ("spark.sql.legacy.timeParserPolicy", "CORRECTED"),
    ("spark.sql.sources.default", "parquet"),
    ("spark.sql.sources.partitionOverwriteMode", "STATIC"),
    ("spark.python.sql.dataFrameDebugging.enabled", "false"),
    ("spark.sql.execution.pyspark.binaryAsBytes", "true"),
    ("spark.sql.execution.arrow.useLargeVarTypes", "false"),
    ("spark.sql.execution.pythonUDF.arrow.enabled", "false"),
    ("spark.sql.execution.pythonUDTF.arrow.enabled", "false"),
    ("spark.sql.execution.arrow.pyspark.selfDestruct.enabled", "false"),
    ("spark.ui.showConsoleProgress", "true"),
    ("spark.sql.execution.pandas.inferPandasDictAsMap", "false"),
    ("spark.sql.pyspark.legacy.inferMapTypeFromFirstPair.enabled", "false"),
    ("spark.sql.pyspark.jvmStacktrace.enabled", "false"),
    ("spark.sql.connect.serverStacktrace.enabled", "true"),
    // createDataFrame data over the threshold is uploaded as artifacts in chunks.
    ("spark.sql.session.localRelationCacheThreshold", "67108864"),
    ("spark.sql.session.localRelationSizeLimit", "2147483647"),
    ("spark.sql.session.localRelationChunkSizeRows", "10000"),
    ("spark.sql.session.localRelationChunkSizeBytes", "16777216"),
    ("spark.sql.session.localRelationBatchOfChunksSizeBytes", "134217728"),
    ("spark.sql.warehouse.dir", "spark-warehouse"),
    // The distributed runtime (Spark's core and scheduler keys).
    ("spark.submit.deployMode", "client"),
    ("spark.executor.cores", "1"),
    ("spark.task.cpus", "1"),
    ("spark.task.maxFailures", "4"),
    ("spark.stage.maxConsecutiveAttempts", "4"),
    ("spark.executor.heartbeatInterval", "10s"),
    ("spark.network.timeout", "120s"),
    ("spark.scheduler.minRegisteredResourcesRatio", "0.8"),
    ("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s"),
    ("spark.shuffle.compress", "true"),
    ("spark.io.compression.codec", "lz4"),
    ("spark.authenticate", "false"),
];

/// Spark's static SQL keys (`StaticSQLConf`): fixed when the session starts.
const STATIC_SQL_KEYS: &[&str] = &[
    "spark.sql.warehouse.dir",
    "spark.sql.catalogImplementation",
    "spark.sql.extensions",
    "spark.sql.globalTempDatabase",
    "spark.sql.queryExecutionListeners",
    "spark.sql.streaming.streamingQueryListeners",
    "spark.sql.ui.retainedExecutions",
    "spark.sql.event.truncate.length",
    "spark.sql.cache.serializer",
    "spark.sql.sources.schemaStringLengthThreshold",
    "spark.sql.filesourceTableRelationCacheSize",
    "spark.sql.codegen.cache.maxEntries",
    "spark.sql.broadcastExchange.maxThreadThreshold",
    "spark.sql.legacy.sessionInitWithConfigDefaults",
    "spark.sql.defaultUrlStreamHandlerFactory.enabled",
    "spark.sql.streaming.ui.enabled",
    "spark.sql.metadataCacheTTLSeconds",
];

/// Prefixes of Spark core keys (`spark.driver.memory`,
/// `spark.executor.instances`, …): set when the application is launched,
/// never from a session (`spark.conf.set` fails with CANNOT_MODIFY_CONFIG).
const CORE_PREFIXES: &[&str] = &[
    "spark.driver.",
    "spark.executor.",
    "spark.submit.",
    "spark.ui.",
    "spark.dynamicAllocation.",
    "spark.memory.",
    "spark.task.",
    "spark.stage.",
    "spark.eventLog.",
    "spark.shuffle.",
    "spark.io.",
    "spark.network.",
    "spark.rpc.",
    "spark.scheduler.",
    "spark.storage.",
    "spark.locality.",
    "spark.speculation",
    "spark.cores.max",
    "spark.serializer",
    "spark.authenticate",
    "spark.jars",
    "spark.files",
    "spark.pyspark.",
    "spark.connect.",
    "spark.checkpoint.",
];

/// Whether a session may set a key, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settable {
    Yes,
    /// A static SQL key (CANNOT_MODIFY_STATIC_CONFIG).
    Static,
    /// A Spark core key (CANNOT_MODIFY_CONFIG).
    Core,
}

/// Spark configuration: explicit settings over Spark's defaults.
#[derive(Debug, Clone, Default)]
pub struct SparkConf {
    settings: BTreeMap<String, String>,
}

impl SparkConf {
    pub fn new() -> Self {
        Self::default()
    }

    /// The explicit setting, else Spark's default, else `None`. The
    /// warehouse directory reads as Spark qualifies it: an absolute
    /// `file:` URI.
    pub fn get(&self, key: &str) -> Option<String> {
        let v = self.settings.get(key).cloned().or_else(|| default_of(key).map(str::to_string));
        match v {
            Some(dir) if key == "spark.sql.warehouse.dir" && !dir.contains(':') => {
                let abs = std::path::absolute(&dir).map(|p| p.display().to_string()).unwrap_or(dir);
                Some(format!("file:{abs}"))
            }
            other => other,
        }
    }

    /// The explicit setting only (no default).
    pub fn get_explicit(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.settings.insert(key.into(), value.into());
    }

    pub fn unset(&mut self, key: &str) {
        self.settings.remove(key);
    }

    /// Every explicit setting, sorted by key (what `spark.conf.getAll` shows).
    pub fn explicit(&self) -> impl Iterator<Item = (&str, &str)> {
        self.settings.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Spark's `spark.conf.isModifiable`: a `spark.sql.*` key that is not
    /// static. (Spark also says false for SQL keys it does not know; ember
    /// keeps no list of every SQL key, so those say true.)
    pub fn is_modifiable(key: &str) -> bool {
        key.starts_with("spark.sql.") && Self::settable(key) == Settable::Yes
    }

    /// Whether `spark.conf.set` may change `key` (Spark's
    /// `RuntimeConfig.requireNonStaticConf`); other keys, such as
    /// `spark.master` or `spark.hadoop.*`, are kept as given.
    pub fn settable(key: &str) -> Settable {
        if STATIC_SQL_KEYS.contains(&key) {
            Settable::Static
        } else if CORE_PREFIXES.iter().any(|p| key.starts_with(p)) {
            Settable::Core
        } else {
            Settable::Yes
        }
    }

    /// Checks a value a session sets against the key's type, as Spark's
    /// `SQLConf.setConfString` does: booleans and integers of the known
    /// SQL keys (INVALID_CONF_VALUE).
    pub fn check_value(key: &str, value: &str) -> Result<(), SparkError> {
        let Some(default) = default_of(key).filter(|_| key.starts_with("spark.sql.")) else { return Ok(()) };
        let v = value.trim();
        if let Some((_, options)) = ENUMS.iter().find(|(k, _)| *k == key) {
            if options.iter().any(|o| o.eq_ignore_ascii_case(v)) {
                return Ok(());
            }
            let text = format!("It should be one of '{}'.", options.join(", "));
            return Err(invalid_conf_value(key, value, "OUT_OF_RANGE_OF_OPTIONS", &text, None));
        }
        let conf_type = if default == "true" || default == "false" {
            if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
                return Ok(());
            }
            "boolean"
        } else if default.parse::<i64>().is_ok() {
            match v.parse::<i64>() {
                Ok(n) if n <= 0 && key == "spark.sql.shuffle.partitions" => {
                    let requirement = format!("The value of {key} must be positive");
                    let detail = Some(("confRequirement", requirement.as_str()));
                    return Err(invalid_conf_value(key, value, "REQUIREMENT", &requirement, detail));
                }
                Ok(_) => return Ok(()),
                Err(_) => "int",
            }
        } else {
            return Ok(());
        };
        let text = format!("It should be a/an '{conf_type}' value.");
        Err(invalid_conf_value(key, value, "TYPE_MISMATCH", &text, Some(("confType", conf_type))))
    }

    pub fn get_bool(&self, key: &str) -> Result<bool, SparkError> {
        match self.get(key).as_deref().map(str::trim) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid_conf(key, v, "a boolean")),
        }
    }

    pub fn get_usize(&self, key: &str) -> Result<Option<usize>, SparkError> {
        self.get(key)
            .map(|v| v.trim().parse::<usize>().map_err(|_| invalid_conf(key, &v, "a non-negative integer")))
            .transpose()
    }

    /// A size in bytes (`spark.driver.memory=2g`); a bare number means `default_unit`.
    pub fn get_bytes(&self, key: &str, default_unit: ByteUnit) -> Result<Option<u64>, SparkError> {
        self.get(key)
            .map(|v| parse_bytes(&v, default_unit).ok_or_else(|| invalid_conf(key, &v, "a size such as 512m or 2g")))
            .transpose()
    }

    /// A duration in milliseconds (`10s`, `100ms`, `2min`, `1h`); a bare
    /// number means `default_unit_ms` milliseconds per unit (Spark's `TimeUnit`).
    pub fn get_millis(&self, key: &str, default_unit_ms: u64) -> Result<Option<u64>, SparkError> {
        self.get(key)
            .map(|v| parse_millis(&v, default_unit_ms).ok_or_else(|| invalid_conf(key, &v, "a duration such as 10s")))
            .transpose()
    }

    /// A floating-point setting (`spark.scheduler.minRegisteredResourcesRatio`).
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>, SparkError> {
        self.get(key).map(|v| v.trim().parse::<f64>().map_err(|_| invalid_conf(key, &v, "a number"))).transpose()
    }

    /// Parses `--conf` style `key=value`.
    pub fn parse_pair(pair: &str) -> Result<(String, String), SparkError> {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(SparkError::illegal_argument(format!(
                "Spark config without '=': {pair} (expected --conf key=value)"
            ))),
        }
    }

    /// Reads a Java-properties style file (`key value` or `key=value`, `#` comments),
    /// as `spark-submit --properties-file` does.
    pub fn parse_properties(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
            .filter_map(|l| {
                let idx = l.find(|c: char| c == '=' || c == ':' || c.is_whitespace())?;
                let (k, rest) = l.split_at(idx);
                let v = rest[1..].trim_start_matches(|c: char| c == '=' || c == ':' || c.is_whitespace());
                Some((k.to_string(), v.trim().to_string()))
            })
            .collect()
    }
}

pub fn default_of(key: &str) -> Option<&'static str> {
    DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The unit a bare number is read in (Spark's `ByteUnit`).
#[derive(Debug, Clone, Copy)]
pub enum ByteUnit {
    Byte,
    KiB,
    MiB,
}

/// Parses Spark's size strings: `1024`, `512k`, `512m`, `2g`, `1t` (binary units).
pub fn parse_bytes(value: &str, default_unit: ByteUnit) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim_end_matches('b') {
        "" if unit.is_empty() => match default_unit {
            ByteUnit::Byte => 1,
            ByteUnit::KiB => 1 << 10,
            ByteUnit::MiB => 1 << 20,
        },
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Parses Spark's duration strings: `100ms`, `10s`, `2m`/`2min`, `1h`, `1d`;
/// a bare number is in `default_unit_ms` (1000 for seconds).
pub fn parse_millis(value: &str, default_unit_ms: u64) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" => default_unit_ms,
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Where an application's executors come from (`--master`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Master {
    /// `local`, `local[N]`, `local[*]`: tasks run on N threads in the driver.
    Local { threads: usize },
    /// `local-cluster[N,C,M]`: N executor processes with C cores and M MiB each.
    LocalCluster { executors: usize, cores: usize, memory_mib: u64 },
    /// `k8s://URL`: executors are pods.
    Kubernetes { api_server: String },
}

impl Master {
    pub fn parse(master: &str) -> Result<Self, SparkError> {
        let m = master.trim();
        if let Some(url) = m.strip_prefix("k8s://") {
            return Ok(Self::Kubernetes { api_server: url.to_string() });
        }
        if let Some(inner) = m.strip_prefix("local-cluster[").and_then(|r| r.strip_suffix(']')) {
            let bad = || SparkError::illegal_argument(format!("Could not parse Master URL: '{master}'"));
            let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
            let [n, c, mem] = parts.as_slice() else { return Err(bad()) };
            let executors = n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(bad)?;
            let cores = c.parse::<usize>().ok().filter(|c| *c > 0).ok_or_else(bad)?;
            // Spark reads M in MiB; ember also accepts sizes such as 2g.
            let memory_mib = parse_bytes(mem, ByteUnit::MiB).map(|b| b >> 20).filter(|m| *m > 0).ok_or_else(bad)?;
            return Ok(Self::LocalCluster { executors, cores, memory_mib });
        }
        Ok(Self::Local { threads: local_parallelism(m)? })
    }

    /// The default parallelism: threads, or the executors' total cores.
    pub fn parallelism(&self) -> usize {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        match self {
            Self::Local { threads } => *threads,
            Self::LocalCluster { executors, cores, .. } => executors * cores,
            Self::Kubernetes { .. } => cores,
        }
    }
}

/// Parses the master URL's parallelism: `local` → 1, `local[N]` → N, `local[*]` → cores.
pub fn local_parallelism(master: &str) -> Result<usize, SparkError> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let m = master.trim();
    if m == "local" {
        return Ok(1);
    }
    let inner = m
        .strip_prefix("local[")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| SparkError::illegal_argument(format!("Could not parse Master URL: '{master}'")))?;
    // local[N, maxFailures] is also valid in Spark.
    let n = inner.split(',').next().unwrap_or_default().trim();
    if n == "*" {
        return Ok(cores);
    }
    match n.parse::<usize>() {
        Ok(0) | Err(_) => Err(SparkError::illegal_argument(format!("Could not parse Master URL: '{master}'"))),
        Ok(n) => Ok(n),
    }
}

/// Spark's INVALID_CONF_VALUE.<sub>, with the sub-class's own parameter
/// (`confType` for TYPE_MISMATCH, `confRequirement` for REQUIREMENT).
pub fn invalid_conf_value(key: &str, value: &str, sub: &str, text: &str, detail: Option<(&str, &str)>) -> SparkError {
    let e = SparkError::with_class(
        crate::error::ExceptionClass::IllegalArgument,
        &format!("INVALID_CONF_VALUE.{sub}"),
        "22022",
        format!("The value '{value}' in the config \"{key}\" is invalid. {text}"),
    )
    .param("confValue", value)
    .param("confName", key);
    match detail {
        Some((k, v)) => e.param(k, v),
        None => e,
    }
}

fn invalid_conf(key: &str, value: &str, expected: &str) -> SparkError {
    SparkError::illegal_argument(format!("{key} should be {expected}, but was {value}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(parse_bytes("2g", ByteUnit::MiB), Some(2 << 30));
        assert_eq!(parse_bytes("512m", ByteUnit::MiB), Some(512 << 20));
        assert_eq!(parse_bytes("512", ByteUnit::MiB), Some(512 << 20));
        assert_eq!(parse_bytes("1024", ByteUnit::Byte), Some(1024));
        assert_eq!(parse_bytes("1gb", ByteUnit::Byte), Some(1 << 30));
        assert_eq!(parse_bytes("lots", ByteUnit::Byte), None);
    }

    #[test]
    fn master_parallelism() {
        assert_eq!(local_parallelism("local").unwrap(), 1);
        assert_eq!(local_parallelism("local[3]").unwrap(), 3);
        assert!(local_parallelism("local[*]").unwrap() >= 1);
        assert!(local_parallelism("local[0]").is_err());
        assert!(local_parallelism("yarn").is_err());
    }

    #[test]
    fn local_cluster_masters() {
        assert_eq!(
            Master::parse("local-cluster[3,2,2g]").unwrap(),
            Master::LocalCluster { executors: 3, cores: 2, memory_mib: 2048 }
        );
        assert_eq!(
            Master::parse("local-cluster[2, 1, 1024]").unwrap(),
            Master::LocalCluster { executors: 2, cores: 1, memory_mib: 1024 }
        );
        assert_eq!(Master::parse("local-cluster[2,1,1024]").unwrap().parallelism(), 2);
        assert!(Master::parse("local-cluster[0,1,1024]").is_err());
        assert!(Master::parse("local-cluster[2,1]").is_err());
        assert_eq!(Master::parse("local[2]").unwrap(), Master::Local { threads: 2 });
        assert!(matches!(Master::parse("k8s://https://api:6443").unwrap(), Master::Kubernetes { .. }));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_millis("10s", 1000), Some(10_000));
        assert_eq!(parse_millis("100ms", 1000), Some(100));
        assert_eq!(parse_millis("2min", 1000), Some(120_000));
        assert_eq!(parse_millis("30", 1000), Some(30_000));
        assert_eq!(parse_millis("soon", 1000), None);
        let c = SparkConf::new();
        assert_eq!(c.get_millis("spark.network.timeout", 1000).unwrap(), Some(120_000));
    }

    #[test]
    fn explicit_settings_override_defaults() {
        let mut c = SparkConf::new();
        assert_eq!(c.get("spark.sql.shuffle.partitions").as_deref(), Some("200"));
        c.set("spark.sql.shuffle.partitions", "8");
        assert_eq!(c.get_usize("spark.sql.shuffle.partitions").unwrap(), Some(8));
        c.unset("spark.sql.shuffle.partitions");
        assert_eq!(c.get("spark.sql.shuffle.partitions").as_deref(), Some("200"));
        assert!(c.get("spark.nope").is_none());
    }

    #[test]
    fn properties_files() {
        let p = SparkConf::parse_properties("# c\nspark.a 1\nspark.b=two\n  spark.c :  x y \n");
        assert_eq!(
            p,
            vec![("spark.a".into(), "1".into()), ("spark.b".into(), "two".into()), ("spark.c".into(), "x y".into())]
        );
        assert!(SparkConf::parse_pair("novalue").is_err());
        assert_eq!(SparkConf::parse_pair("k=a=b").unwrap(), ("k".into(), "a=b".into()));
    }
}
