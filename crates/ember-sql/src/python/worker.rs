//! Python workers: the installed PySpark's own `pyspark.worker`, forked by
//! its `pyspark.daemon`, spoken to over a Unix socket with Spark's worker
//! protocol (PySpark 4.2's header, then Arrow IPC both ways).
//!
//! One daemon per Python executable serves the whole process. Each task
//! takes a worker (a forked child of the daemon) from the idle list or
//! forks a new one, and gives it back when the task ended cleanly
//! (`spark.python.worker.reuse`), so the imports are paid once per worker.
//! A crashing UDF ends its worker, never ember.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use datafusion::common::{DataFusionError, Result};
use ember_common::{ExceptionClass, SparkError};

/// Spark's `SpecialLengths`: markers between the sections of a worker's output.
const END_OF_DATA_SECTION: i32 = -1;
const PYTHON_EXCEPTION_THROWN: i32 = -2;
const TIMING_DATA: i32 = -3;
const END_OF_STREAM: i32 = -4;
const START_ARROW_STREAM: i32 = -6;

/// The daemon, with `pyspark.worker` imported before it forks.
const DAEMON: &str = "import pyspark.worker\nfrom pyspark.daemon import manager\nmanager()\n";

/// Spark's `PythonEvalType`s that ember runs.
pub mod eval_type {
    pub const SQL_BATCHED_UDF: i32 = 100;
    pub const SQL_ARROW_BATCHED_UDF: i32 = 101;
    pub const SQL_SCALAR_PANDAS_UDF: i32 = 200;
    pub const SQL_GROUPED_MAP_PANDAS_UDF: i32 = 201;
    pub const SQL_GROUPED_AGG_PANDAS_UDF: i32 = 202;
    pub const SQL_SCALAR_PANDAS_ITER_UDF: i32 = 204;
    pub const SQL_MAP_PANDAS_ITER_UDF: i32 = 205;
    pub const SQL_MAP_ARROW_ITER_UDF: i32 = 207;
    pub const SQL_GROUPED_MAP_ARROW_UDF: i32 = 209;
    pub const SQL_SCALAR_ARROW_UDF: i32 = 250;
}

/// One Python function of a task: its argument offsets into the input
/// columns (a name for keyword arguments) and the pickled `(func, returnType)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdfCommand {
    pub args: Vec<(i32, Option<String>)>,
    pub command: Arc<[u8]>,
}

/// What a task asks of a worker, apart from its input rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskSpec {
    pub python: String,
    /// The client's `major.minor`; the worker refuses another of its own.
    pub python_ver: String,
    pub eval_type: i32,
    pub runner_conf: Vec<(String, String)>,
    pub eval_conf: Vec<(String, String)>,
    pub udfs: Vec<UdfCommand>,
    /// Where the session's Python files are (first on the worker's path).
    pub files_dir: String,
    /// More paths for the worker's `sys.path` (`--py-files`).
    pub includes: Vec<String>,
}

/// How a group of input batches is framed: a plain Arrow stream, or Spark's
/// grouped form (one stream per group after a `1`, then `0`).
pub enum Input<'a> {
    Stream(SchemaRef, &'a mut (dyn Iterator<Item = Result<RecordBatch>> + Send)),
    Groups(SchemaRef, &'a mut (dyn Iterator<Item = Result<Vec<RecordBatch>>> + Send)),
}

/// Runs one task on a worker: sends the header and `input`, hands each
/// output batch to `output` as it arrives. Python's error, with its
/// traceback, comes back as Spark's PythonException.
pub fn run_task(
    spec: &TaskSpec,
    partition: usize,
    input: Input<'_>,
    output: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let daemon = Daemon::get(&spec.python)?;
    let worker = daemon.worker()?;
    let write_half = worker.stream.try_clone().map_err(io_err)?;
    let (read, sent) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let stop = write_half.try_clone();
            let sent = send(spec, partition, input, write_half);
            // Python waits for the rest of its input: end it, so the task
            // fails instead of hanging.
            if sent.is_err()
                && let Ok(s) = stop
            {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            sent
        });
        let read = receive(&worker.stream, output);
        // Python stops reading when it fails; the writer then fails too.
        if read.is_err() {
            let _ = worker.stream.shutdown(std::net::Shutdown::Both);
        }
        let sent = writer.join().unwrap_or_else(|_| Err(Sent::Input(protocol("the worker's input panicked".into()))));
        (read, sent)
    });
    match (read, sent) {
        (Ok(reusable), Ok(())) => {
            if reusable {
                daemon.give_back(worker);
            }
            Ok(())
        }
        // The input's own error (a failed scan, say) is the task's error.
        (_, Err(Sent::Input(e))) | (Err(e), _) => Err(e),
        // Python finished without reading all its input (a function that
        // stops early), and closed the connection.
        (Ok(_), Err(Sent::Io)) => Ok(()),
    }
}

/// Why the input did not reach Python.
enum Sent {
    /// The rows to send failed to come.
    Input(DataFusionError),
    /// The connection closed (Python's error, if any, is what it sent).
    Io,
}

impl From<std::io::Error> for Sent {
    fn from(_: std::io::Error) -> Self {
        Sent::Io
    }
}

impl From<arrow::error::ArrowError> for Sent {
    fn from(_: arrow::error::ArrowError) -> Self {
        Sent::Io
    }
}

fn send(spec: &TaskSpec, partition: usize, input: Input<'_>, stream: UnixStream) -> Result<(), Sent> {
    let mut out = BufWriter::with_capacity(1 << 16, stream);
    write_header(&mut out, spec, partition)?;
    match input {
        Input::Stream(schema, batches) => write_stream(&mut out, &schema, batches)?,
        Input::Groups(schema, groups) => {
            for group in groups {
                let group = group.map_err(Sent::Input)?;
                write_int(&mut out, 1)?;
                write_stream(&mut out, &schema, &mut group.into_iter().map(Ok))?;
            }
            write_int(&mut out, 0)?;
        }
    }
    write_int(&mut out, END_OF_STREAM)?;
    Ok(out.flush()?)
}

fn write_stream(
    out: &mut impl Write,
    schema: &SchemaRef,
    batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
) -> Result<(), Sent> {
    let mut writer = StreamWriter::try_new(out, schema)?;
    for batch in batches {
        writer.write(&batch.map_err(Sent::Input)?)?;
    }
    writer.finish()?;
    Ok(())
}

/// Reads a task's output; true when the worker can take another task.
fn receive(stream: &UnixStream, output: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<bool> {
    let mut input = BufReader::with_capacity(1 << 16, stream);
    loop {
        match read_int(&mut input)? {
            START_ARROW_STREAM => {
                let reader = StreamReader::try_new(&mut input, None)?;
                for batch in reader {
                    output(batch?)?;
                }
            }
            PYTHON_EXCEPTION_THROWN => {
                let len = read_int(&mut input)?;
                let mut text = vec![0; usize::try_from(len).unwrap_or(0)];
                input.read_exact(&mut text).map_err(io_err)?;
                return Err(python_exception(&String::from_utf8_lossy(&text)));
            }
            TIMING_DATA => {
                // boot, init, finish (ms since the epoch), processing time;
                // then the memory and disk bytes spilled.
                for _ in 0..6 {
                    read_long(&mut input)?;
                }
            }
            END_OF_DATA_SECTION => {
                let accumulators = read_int(&mut input)?;
                for _ in 0..accumulators {
                    let len = read_int(&mut input)?;
                    std::io::copy(&mut (&mut input).take(u64::try_from(len).unwrap_or(0)), &mut std::io::sink())
                        .map_err(io_err)?;
                }
                return Ok(read_int(&mut input)? == END_OF_STREAM);
            }
            other => return Err(protocol(format!("unexpected marker {other}"))),
        }
    }
}

/// Spark's `PythonException` (PYTHON_EXCEPTION) with Python's traceback.
pub fn python_exception(traceback: &str) -> DataFusionError {
    DataFusionError::External(Box::new(SparkError::with_class(
        ExceptionClass::Python,
        "PYTHON_EXCEPTION",
        "38000",
        format!("An exception was thrown from the Python worker: {traceback}"),
    )))
}

fn protocol(msg: String) -> DataFusionError {
    DataFusionError::Execution(format!("Python worker protocol: {msg}"))
}

fn io_err(e: std::io::Error) -> DataFusionError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => protocol("the worker closed its connection".into()),
        _ => DataFusionError::IoError(e),
    }
}

/// PySpark 4.2's task header (`pyspark.worker.main` reads it in this order).
fn write_header(out: &mut impl Write, spec: &TaskSpec, partition: usize) -> std::io::Result<()> {
    let partition = i32::try_from(partition).unwrap_or(i32::MAX);
    write_int(out, partition)?;
    write_utf8(out, &spec.python_ver)?;
    let task_context = serde_json::json!({
        "isBarrier": false,
        "stageId": 0,
        "partitionId": partition,
        "attemptNumber": 0,
        "taskAttemptId": 0,
        "cpus": 1,
        "resources": {},
        "localProperties": {},
    });
    write_utf8(out, &task_context.to_string())?;
    // Spark files: the directory, then paths added to `sys.path`.
    write_utf8(out, &spec.files_dir)?;
    write_int(out, spec.includes.len() as i32)?;
    for path in &spec.includes {
        write_utf8(out, path)?;
    }
    // Broadcasts: no decryption server, none sent.
    out.write_all(&[0])?;
    write_int(out, 0)?;
    write_int(out, spec.eval_type)?;
    write_conf(out, &spec.runner_conf)?;
    write_conf(out, &spec.eval_conf)?;
    write_int(out, spec.udfs.len() as i32)?;
    for (result_id, udf) in spec.udfs.iter().enumerate() {
        write_int(out, udf.args.len() as i32)?;
        for (offset, name) in &udf.args {
            write_int(out, *offset)?;
            match name {
                Some(name) => {
                    out.write_all(&[1])?;
                    write_utf8(out, name)?;
                }
                None => out.write_all(&[0])?,
            }
        }
        // One function, not a chain.
        write_int(out, 1)?;
        write_int(out, udf.command.len() as i32)?;
        out.write_all(&udf.command)?;
        out.write_all(&(result_id as i64).to_be_bytes())?;
    }
    Ok(())
}

fn write_conf(out: &mut impl Write, conf: &[(String, String)]) -> std::io::Result<()> {
    write_int(out, conf.len() as i32)?;
    for (k, v) in conf {
        write_utf8(out, k)?;
        write_utf8(out, v)?;
    }
    Ok(())
}

fn write_int(out: &mut impl Write, v: i32) -> std::io::Result<()> {
    out.write_all(&v.to_be_bytes())
}

fn write_utf8(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    write_int(out, s.len() as i32)?;
    out.write_all(s.as_bytes())
}

fn read_int(input: &mut impl Read) -> Result<i32> {
    let mut b = [0; 4];
    input.read_exact(&mut b).map_err(io_err)?;
    Ok(i32::from_be_bytes(b))
}

fn read_long(input: &mut impl Read) -> Result<i64> {
    let mut b = [0; 8];
    input.read_exact(&mut b).map_err(io_err)?;
    Ok(i64::from_be_bytes(b))
}

struct Worker {
    stream: UnixStream,
}

/// A `pyspark.daemon` and the workers it forked that wait for a task.
struct Daemon {
    process: Mutex<Child>,
    /// The daemon stops when this closes (with ember).
    _stdin: Mutex<ChildStdin>,
    socket: PathBuf,
    idle: Mutex<Vec<Worker>>,
    _dir: tempfile::TempDir,
}

static DAEMONS: LazyLock<Mutex<HashMap<String, Arc<Daemon>>>> = LazyLock::new(Default::default);

impl Daemon {
    fn get(python: &str) -> Result<Arc<Daemon>> {
        let mut daemons = DAEMONS.lock().map_err(|_| protocol("daemon registry poisoned".into()))?;
        if let Some(d) = daemons.get(python) {
            let alive = d.process.lock().map(|mut p| matches!(p.try_wait(), Ok(None))).unwrap_or(false);
            if alive {
                return Ok(d.clone());
            }
        }
        let d = Arc::new(Daemon::start(python)?);
        daemons.insert(python.to_string(), d.clone());
        Ok(d)
    }

    fn start(python: &str) -> Result<Daemon> {
        let dir = tempfile::Builder::new().prefix("ember-python-").tempdir().map_err(io_err)?;
        let mut process = Command::new(python)
            .args(["-c", DAEMON])
            .env("PYTHON_UNIX_DOMAIN_ENABLED", "true")
            .env("PYTHON_WORKER_FACTORY_SOCK_DIR", dir.path())
            .env("SPARK_REUSE_WORKER", "1")
            .env("SPARK_SIMPLIFIED_TRACEBACK", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                DataFusionError::External(Box::new(SparkError::new(
                    ExceptionClass::Spark,
                    format!(
                        "Cannot run program \"{python}\": {e}. Python UDFs need a Python with pyspark \
                         (spark.pyspark.python or PYSPARK_PYTHON)"
                    ),
                )))
            })?;
        let stdin = process.stdin.take().ok_or_else(|| protocol("no daemon stdin".into()))?;
        let mut stdout = process.stdout.take().ok_or_else(|| protocol("no daemon stdout".into()))?;
        let socket = match read_int(&mut stdout).and_then(|len| {
            let mut path = vec![0; usize::try_from(len).unwrap_or(0)];
            stdout.read_exact(&mut path).map_err(io_err)?;
            Ok(PathBuf::from(String::from_utf8_lossy(&path).into_owned()))
        }) {
            Ok(p) => p,
            Err(_) => {
                let status = process.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(DataFusionError::External(Box::new(SparkError::new(
                    ExceptionClass::Spark,
                    format!(
                        "the Python worker daemon ({python}) did not start ({status}); is pyspark installed for it?"
                    ),
                ))));
            }
        };
        // What UDFs print goes where ember's own output goes.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::stderr()));
        Ok(Daemon {
            process: Mutex::new(process),
            _stdin: Mutex::new(stdin),
            socket,
            idle: Default::default(),
            _dir: dir,
        })
    }

    fn worker(&self) -> Result<Worker> {
        if let Some(w) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(w);
        }
        let mut stream = UnixStream::connect(&self.socket).map_err(io_err)?;
        // The forked worker's pid comes first.
        read_int(&mut stream)?;
        Ok(Worker { stream })
    }

    fn give_back(&self, worker: Worker) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(worker);
        }
    }
}
