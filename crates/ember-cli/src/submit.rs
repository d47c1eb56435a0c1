//! `ember submit app.py [args]`: starts the driver (a Spark Connect
//! endpoint on a free loopback port), runs the application with Python and
//! `SPARK_REMOTE` pointing at it, and exits with the application's code.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::CommonArgs;

#[derive(clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// client (the default) runs the driver in this process.
    #[arg(long = "deploy-mode", value_name = "MODE")]
    deploy_mode: Option<String>,
    /// Python files (.py, .zip, .egg) to put on the application's PYTHONPATH.
    #[arg(long = "py-files", value_name = "FILES", value_delimiter = ',')]
    py_files: Vec<String>,
    /// Files the application reads (listed in spark.files).
    #[arg(long = "files", value_name = "FILES", value_delimiter = ',')]
    files: Vec<String>,
    /// Kubernetes: the status of the driver pods SUBMISSION_ID
    /// (`namespace:pod-name`, globs allowed) names.
    #[arg(long, value_name = "SUBMISSION_ID", conflicts_with_all = ["kill", "app"])]
    status: Option<String>,
    /// Kubernetes: delete the driver pods SUBMISSION_ID names (their
    /// executors go with them).
    #[arg(long, value_name = "SUBMISSION_ID", conflicts_with = "app")]
    kill: Option<String>,
    /// The application and its arguments.
    #[arg(required_unless_present_any = ["status", "kill"], trailing_var_arg = true, allow_hyphen_values = true, value_name = "APP [ARGS]")]
    app: Vec<String>,
}

pub async fn run(a: SubmitArgs) -> Result<u8, String> {
    if a.status.is_some() || a.kill.is_some() {
        return status_or_kill(a).await;
    }
    // The master may come from --master, --conf or the properties file.
    let quiet = CommonArgs { verbose: false, ..a.common.clone() };
    let kubernetes =
        quiet.spark_conf().is_ok_and(|c| c.get("spark.master").is_some_and(|m| m.trim().starts_with("k8s://")));
    match a.deploy_mode.as_deref() {
        None | Some("client") => run_driver(a).await,
        Some("cluster") if kubernetes => run_kubernetes_cluster(a).await,
        Some("cluster") => run_cluster(a).await,
        Some(other) => Err(format!("deploy mode should be client or cluster, but was '{other}'")),
    }
}

/// The API server of a `k8s://` master.
fn kubernetes_master(conf: &ember_common::SparkConf) -> Result<String, String> {
    let master = conf.get("spark.master").unwrap_or_default();
    match ember_common::conf::Master::parse(&master).map_err(|e| e.message)? {
        ember_common::conf::Master::Kubernetes { api_server } => Ok(api_server),
        _ => Err(format!("--status and --kill need a k8s:// master, but the master is '{master}'")),
    }
}

/// `--status` / `--kill` on Kubernetes submission ids.
async fn status_or_kill(a: SubmitArgs) -> Result<u8, String> {
    let conf = a.common.spark_conf()?;
    let api = kubernetes_master(&conf)?;
    let client = ember_k8s::client(&api, &conf).await.map_err(|e| e.to_string())?;
    if let Some(id) = &a.kill {
        let killed = ember_k8s::submit::kill(&client, &conf, id).await.map_err(|e| e.to_string())?;
        if killed.is_empty() {
            return Err(format!("no driver pod matches submission id {id}"));
        }
        for k in killed {
            eprintln!("ember: deleted driver pod {k}");
        }
        return Ok(0);
    }
    let id = a.status.clone().unwrap_or_default();
    let pods = ember_k8s::submit::find_drivers(&client, &conf, &id).await.map_err(|e| e.to_string())?;
    if pods.is_empty() {
        return Err(format!("no driver pod matches submission id {id}"));
    }
    for p in pods {
        println!("{}", ember_k8s::submit::status_report(&p));
    }
    Ok(0)
}

/// Cluster deploy mode on Kubernetes: the driver pod, its ConfigMap and
/// Service; then, with `spark.kubernetes.submission.waitAppCompletion`,
/// the driver pod's phase every `spark.kubernetes.report.interval` until
/// it ends. Exits with the driver's exit code.
async fn run_kubernetes_cluster(a: SubmitArgs) -> Result<u8, String> {
    let mut conf = a.common.spark_conf()?;
    let (app, app_args) = a.app.split_first().ok_or("no application given")?;
    if conf.get_explicit("spark.app.name").is_none() {
        let stem =
            PathBuf::from(app).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "ember".into());
        conf.set("spark.app.name", stem);
    }
    if !a.py_files.is_empty() {
        conf.set("spark.submit.pyFiles", a.py_files.join(","));
    }
    if !a.files.is_empty() {
        conf.set("spark.files", a.files.join(","));
    }
    let wait =
        conf.get("spark.kubernetes.submission.waitAppCompletion").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let interval = conf.get_millis("spark.kubernetes.report.interval", 1).map_err(|e| e.message)?.unwrap_or(1000);
    let api = kubernetes_master(&conf)?;
    let client = ember_k8s::client(&api, &conf).await.map_err(|e| e.to_string())?;
    let sub = ember_k8s::submit::submit(&client, &mut conf, app, app_args).await.map_err(|e| e.to_string())?;
    eprintln!(
        "ember: Deployed Spark application {} with application ID {} and submission ID {} into Kubernetes",
        sub.app_name,
        sub.app_id,
        sub.id()
    );
    if !wait {
        eprintln!(
            "ember: not waiting for application {} to complete (spark.kubernetes.submission.waitAppCompletion=false)",
            sub.app_name
        );
        return Ok(0);
    }
    let (phase, code) =
        ember_k8s::submit::wait_for_completion(&client, &sub, std::time::Duration::from_millis(interval), |line| {
            eprintln!("ember: {line}")
        })
        .await
        .map_err(|e| e.to_string())?;
    let code = code.unwrap_or(if phase == "Succeeded" { 0 } else { 1 });
    eprintln!("ember: application {} finished with state {phase} (exit code {code})", sub.app_name);
    Ok(u8::try_from(code & 0xff).unwrap_or(1))
}

/// Cluster deploy mode: the driver runs as its own process (`ember driver`
/// with the same arguments); submit reports its state every
/// `spark.kubernetes.report.interval` and exits with the application's
/// code, or returns at once when `spark.kubernetes.submission.waitAppCompletion=false`.
async fn run_cluster(a: SubmitArgs) -> Result<u8, String> {
    let conf = a.common.spark_conf()?;
    let wait =
        conf.get("spark.kubernetes.submission.waitAppCompletion").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let interval = conf.get_millis("spark.kubernetes.report.interval", 1).map_err(|e| e.message)?.unwrap_or(1000);
    let name = conf.get("spark.app.name").unwrap_or_else(|| {
        a.app
            .first()
            .map(PathBuf::from)
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
            .unwrap_or_default()
    });
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the ember binary: {e}"))?;
    let args = driver_args(std::env::args().skip(1));
    let mut child =
        tokio::process::Command::new(exe).args(&args).spawn().map_err(|e| format!("cannot start the driver: {e}"))?;
    let pid = child.id().unwrap_or_default();
    eprintln!("ember: submitted application {name} in cluster mode; driver process {pid}");
    if !wait {
        eprintln!(
            "ember: not waiting for application {name} to complete (spark.kubernetes.submission.waitAppCompletion=false)"
        );
        return Ok(0);
    }
    let status = loop {
        tokio::select! {
            s = child.wait() => break s.map_err(|e| format!("cannot wait for the driver: {e}"))?,
            _ = tokio::time::sleep(std::time::Duration::from_millis(interval.max(100))) => {
                eprintln!("ember: application status for {name} (phase: Running)");
            }
        }
    };
    let code = exit_code(status);
    let state = if code == 0 { "Succeeded" } else { "Failed" };
    eprintln!("ember: application {name} finished with state {state} (exit code {code})");
    Ok(code)
}

/// The submit arguments for the driver process: `driver` in place of
/// `submit`, without the deploy mode.
fn driver_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = vec![];
    let mut skip_next = false;
    let mut replaced = false;
    for arg in args {
        if skip_next {
            skip_next = false;
            continue;
        }
        if !replaced && arg == "submit" {
            out.push("driver".to_string());
            out.push("--conf".into());
            out.push("spark.submit.deployMode=cluster".into());
            replaced = true;
            continue;
        }
        if arg == "--deploy-mode" {
            skip_next = true;
            continue;
        }
        if arg.starts_with("--deploy-mode=") {
            continue;
        }
        out.push(arg);
    }
    out
}

/// Runs the application's driver here: the Spark Connect endpoint, the
/// executors its master asks for, and the application under Python.
pub async fn run_driver(mut a: SubmitArgs) -> Result<u8, String> {
    let mut conf = a.common.spark_conf()?;
    // A driver pod gets its --py-files through spark.properties (paths in
    // the image, `local://` or plain).
    if a.py_files.is_empty()
        && let Some(files) = conf.get("spark.submit.pyFiles")
    {
        a.py_files = files
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| f.strip_prefix("local://").unwrap_or(f).to_string())
            .collect();
    }
    let (app, app_args) = a.app.split_first().ok_or("no application given")?;
    let app_path = PathBuf::from(app.strip_prefix("local://").unwrap_or(app));
    if app_path.extension().and_then(|e| e.to_str()) != Some("py") {
        return Err(format!("ember runs Python applications (.py); got {app}"));
    }
    if !app_path.is_file() {
        return Err(format!("application file not found: {}", app_path.display()));
    }
    for f in a.py_files.iter().chain(&a.files) {
        if !PathBuf::from(f).exists() {
            return Err(format!("file not found: {f}"));
        }
    }
    if !a.files.is_empty() {
        conf.set("spark.files", a.files.join(","));
    }
    if !a.py_files.is_empty() {
        conf.set("spark.submit.pyFiles", a.py_files.join(","));
    }
    if conf.get_explicit("spark.app.name").is_none() {
        let stem = app_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "ember".into());
        conf.set("spark.app.name", stem);
    }
    if conf.get_explicit("spark.submit.deployMode").is_none() {
        conf.set("spark.submit.deployMode", "client");
    }
    // Python UDFs run in workers of the application's own Python.
    let python = python_interpreter(&conf);
    if conf.get_explicit("spark.pyspark.python").is_none() {
        conf.set("spark.pyspark.python", python.clone());
    }
    let driver = crate::cluster::start(&mut conf).await?;

    let listener = ember_connect::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("cannot start the driver: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(ember_connect::serve(listener, conf.clone(), None, crate::cluster::runner(&driver), async {
            let _ = stop_rx.await;
        }));

    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&app_path).args(app_args);
    cmd.env("SPARK_REMOTE", format!("sc://{addr}"));
    cmd.env("SPARK_CONNECT_MODE_ENABLED", "1");
    cmd.env_remove("SPARK_CONNECT_AUTHENTICATE_TOKEN");
    // As in Spark: .zip and .egg files go on the path themselves; .py files
    // are copied into a directory that goes on the path.
    let py_dir = std::env::temp_dir().join(format!("ember-pyfiles-{}", std::process::id()));
    if !a.py_files.is_empty() {
        let mut paths: Vec<String> = vec![];
        for p in &a.py_files {
            let abs = std::path::absolute(p).unwrap_or_else(|_| PathBuf::from(p));
            if abs.extension().is_some_and(|e| e == "py") {
                std::fs::create_dir_all(&py_dir).map_err(|e| format!("cannot stage --py-files: {e}"))?;
                let name = abs.file_name().ok_or_else(|| format!("bad --py-files entry {p}"))?;
                std::fs::copy(&abs, py_dir.join(name)).map_err(|e| format!("cannot stage {p}: {e}"))?;
                let dir = py_dir.display().to_string();
                if !paths.contains(&dir) {
                    paths.push(dir);
                }
            } else {
                paths.push(abs.display().to_string());
            }
        }
        if let Ok(existing) = std::env::var("PYTHONPATH") {
            paths.push(existing);
        }
        cmd.env("PYTHONPATH", paths.join(":"));
    }
    let status = cmd.status().await;
    let _ = std::fs::remove_dir_all(&py_dir);
    let _ = stop_tx.send(());
    let _ = server.await;
    let aborted = driver.as_ref().and_then(|d| d.aborted());
    if let Some(d) = &driver {
        d.stop().await;
    }
    let status = status.map_err(|e| format!("cannot run {python}: {e}"))?;
    if let Some(reason) = aborted {
        // Spark's exit code for too many executor failures.
        eprintln!("ember: the application was stopped: {reason}");
        return Ok(11);
    }
    Ok(exit_code(status))
}

/// `spark.pyspark.python`, `PYSPARK_PYTHON`, else `python` (or `python3`) from PATH.
fn python_interpreter(conf: &ember_common::SparkConf) -> String {
    if let Some(p) = conf.get("spark.pyspark.python") {
        return p;
    }
    if let Ok(p) = std::env::var("PYSPARK_PYTHON")
        && !p.is_empty()
    {
        return p;
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if on_path("python") { "python".into() } else { "python3".into() }
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(c) = status.code() {
        return u8::try_from(c & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(1);
        }
    }
    1
}
