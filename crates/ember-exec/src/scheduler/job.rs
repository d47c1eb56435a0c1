//! One job's stages, as Spark's DAG scheduler runs them: a stage starts
//! when its parents' map outputs are all present; a failed task is retried
//! up to `spark.task.maxFailures` times; a fetch failure drops the lost map
//! output, re-runs only the map task that wrote it and then the stage that
//! could not read it (a new stage attempt), up to
//! `spark.stage.maxConsecutiveAttempts`; a lost executor takes its map
//! outputs with it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ember_common::{ExceptionClass, SparkError};
use tokio::sync::mpsc;

use super::events::{SparkListenerEvent, now_ms};
use super::{Driver, JobEvent, PendingTask};
use crate::proto::{MapLocation, TaskOutcome, TaskRef};
use crate::stage::{Stage, StageGraph};

struct StageRun {
    stage: Stage,
    outputs: Vec<Option<MapLocation>>,
    /// Bumped whenever an output is lost; consumers re-resolve on change.
    outputs_version: u64,
    attempt: u32,
    /// The encoded plan of the current attempt and the parents' output
    /// versions it was resolved with.
    plan: Option<(Arc<Vec<u8>>, Vec<u64>)>,
    /// Running tasks: partition → task id.
    running: HashMap<u32, u64>,
    failures: Vec<u32>,
    /// Attempts of this stage that ended in a fetch failure.
    fetch_failed_attempts: std::collections::HashSet<u32>,
    /// The attempt whose completion was announced.
    completed: Option<u32>,
    /// When the current attempt was submitted.
    submitted: Option<std::time::Instant>,
}

impl StageRun {
    fn complete(&self) -> bool {
        self.outputs.iter().all(Option::is_some)
    }
}

/// Runs the job's stages; returns the result stage's map outputs.
pub(super) async fn run(
    driver: &Driver,
    job_id: u64,
    graph: StageGraph,
    conf: Arc<HashMap<String, String>>,
    mut events: mpsc::UnboundedReceiver<JobEvent>,
) -> ember_sql::Result<Vec<MapLocation>> {
    let mut stages: BTreeMap<u64, StageRun> = graph
        .stages
        .into_values()
        .map(|stage| {
            let n = stage.tasks;
            let run = StageRun {
                stage,
                outputs: vec![None; n],
                outputs_version: 0,
                attempt: 0,
                plan: None,
                running: HashMap::new(),
                failures: vec![0; n],
                fetch_failed_attempts: Default::default(),
                completed: None,
                submitted: None,
            };
            (run.stage.id, run)
        })
        .collect();
    let result = graph.result;
    loop {
        if stages.get(&result).is_some_and(StageRun::complete) {
            let outputs = stages.remove(&result).map(|s| s.outputs).unwrap_or_default();
            return Ok(outputs.into_iter().flatten().collect());
        }
        submit_ready(driver, job_id, &mut stages, &conf)?;
        let Some(event) = events.recv().await else {
            return Err(SparkError::new(ExceptionClass::Runtime, "the scheduler stopped").into());
        };
        handle(driver, &mut stages, event)?;
    }
}

fn submit_ready(
    driver: &Driver,
    job_id: u64,
    stages: &mut BTreeMap<u64, StageRun>,
    conf: &Arc<HashMap<String, String>>,
) -> ember_sql::Result<()> {
    let ids: Vec<u64> = stages.keys().copied().collect();
    for id in ids {
        let parents = stages[&id].stage.parents.clone();
        if !parents.iter().all(|p| stages.get(p).is_some_and(StageRun::complete)) {
            continue;
        }
        let versions: Vec<u64> = parents.iter().map(|p| stages[p].outputs_version).collect();
        let run = &stages[&id];
        let missing: Vec<u32> = (0..run.outputs.len() as u32)
            .filter(|p| run.outputs[*p as usize].is_none() && !run.running.contains_key(p))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let stale = run.plan.as_ref().is_none_or(|(_, v)| *v != versions);
        if stale {
            let bytes = match (&run.plan, &run.stage.encoded) {
                (None, Some(bytes)) => bytes.clone(),
                _ => {
                    let outputs = |sid: u64| stages.get(&sid).map(|s| s.outputs.iter().flatten().cloned().collect());
                    Arc::new(crate::codec::encode_plan(crate::stage::resolve(&run.stage.plan, &outputs)?)?)
                }
            };
            let run = stages.get_mut(&id).ok_or_else(|| internal("stage vanished"))?;
            if run.plan.is_some() {
                run.attempt += 1;
            }
            run.plan = Some((bytes, versions));
            run.submitted = Some(std::time::Instant::now());
            driver.bus.post(SparkListenerEvent::StageSubmitted {
                stage_id: id,
                attempt: run.attempt,
                num_tasks: run.stage.tasks,
                time_ms: now_ms(),
            });
        }
        let run = stages.get_mut(&id).ok_or_else(|| internal("stage vanished"))?;
        let Some((plan, _)) = run.plan.clone() else { continue };
        let mut tasks = vec![];
        for p in missing {
            let task_id = driver.next_task_id();
            run.running.insert(p, task_id);
            tasks.push(PendingTask {
                task: TaskRef {
                    task_id,
                    job_id,
                    stage_id: id,
                    stage_attempt: run.attempt,
                    partition: p,
                    attempt: run.failures[p as usize],
                },
                plan: plan.clone(),
                conf: conf.clone(),
            });
        }
        driver.submit(tasks);
    }
    Ok(())
}

fn handle(driver: &Driver, stages: &mut BTreeMap<u64, StageRun>, event: JobEvent) -> ember_sql::Result<()> {
    match event {
        JobEvent::Update { executor_id, update } => {
            let update = *update;
            let Some(task) = update.task else { return Ok(()) };
            let Some(run) = current(stages, &task) else { return Ok(()) };
            run.running.remove(&task.partition);
            match update.outcome {
                Some(TaskOutcome::Success(_)) => {
                    // An executor lost since then took this output with it.
                    if let Some(address) = driver.executor_address(&executor_id) {
                        run.outputs[task.partition as usize] =
                            Some(MapLocation { executor_id, address, map_id: task.task_id });
                    }
                    if run.complete() && run.completed != Some(run.attempt) {
                        run.completed = Some(run.attempt);
                        let secs = run.submitted.map(|t| t.elapsed().as_secs_f64()).unwrap_or_default();
                        tracing::info!(stage = run.stage.id, tasks = run.stage.tasks, "stage finished in {secs:.3} s");
                        driver.bus.post(SparkListenerEvent::StageCompleted {
                            stage_id: run.stage.id,
                            attempt: run.attempt,
                            failure_reason: None,
                            time_ms: now_ms(),
                        });
                    }
                }
                Some(TaskOutcome::Failed(e)) => {
                    let error = crate::executor::spark_error(&e);
                    task_failed(driver, run, &task, error)?;
                }
                Some(TaskOutcome::FetchFailed(f)) => {
                    let stage_id = run.stage.id;
                    let attempt = task.stage_attempt;
                    // Several tasks of one attempt failing to fetch fail that attempt once.
                    if run.fetch_failed_attempts.insert(attempt) {
                        driver.bus.post(SparkListenerEvent::StageCompleted {
                            stage_id,
                            attempt,
                            failure_reason: Some(format!("FetchFailed: {}", f.message)),
                            time_ms: now_ms(),
                        });
                    }
                    let exhausted = run.fetch_failed_attempts.len() as u32 >= driver.opts.max_stage_attempts;
                    if exhausted {
                        return Err(SparkError::new(
                            ExceptionClass::Runtime,
                            format!(
                                "Job aborted due to stage failure: stage {stage_id} failed {} times because of fetch failures; most recent: {}",
                                driver.opts.max_stage_attempts, f.message
                            ),
                        )
                        .into());
                    }
                    if let Some(parent) = stages.values_mut().find(|s| s.stage.shuffle_id == f.shuffle_id)
                        && let Some(slot) = parent.outputs.get_mut(f.map_index as usize)
                        && slot.as_ref().is_some_and(|l| l.executor_id == f.executor_id)
                    {
                        *slot = None;
                        parent.outputs_version += 1;
                    }
                }
                None => task_failed(driver, run, &task, internal("a task ended without an outcome"))?,
            }
        }
        JobEvent::TaskLost { task, reason } => {
            if let Some(run) = current(stages, &task) {
                run.running.remove(&task.partition);
                task_failed(driver, run, &task, SparkError::new(ExceptionClass::Runtime, reason))?;
            }
        }
        JobEvent::Abort { reason } => return Err(SparkError::new(ExceptionClass::Runtime, reason).into()),
        JobEvent::ExecutorLost { executor_id } => {
            for run in stages.values_mut() {
                let mut lost = false;
                for slot in run.outputs.iter_mut() {
                    if slot.as_ref().is_some_and(|l| l.executor_id == executor_id) {
                        *slot = None;
                        lost = true;
                    }
                }
                if lost {
                    run.outputs_version += 1;
                }
            }
        }
    }
    Ok(())
}

/// The stage of a task that is still the running attempt of its partition.
fn current<'a>(stages: &'a mut BTreeMap<u64, StageRun>, task: &TaskRef) -> Option<&'a mut StageRun> {
    let run = stages.get_mut(&task.stage_id)?;
    (run.running.get(&task.partition) == Some(&task.task_id)).then_some(run)
}

fn task_failed(driver: &Driver, run: &mut StageRun, task: &TaskRef, error: SparkError) -> ember_sql::Result<()> {
    let p = task.partition as usize;
    run.failures[p] += 1;
    tracing::warn!(
        stage = run.stage.id,
        partition = p,
        attempt = run.failures[p],
        error = %error.message,
        "task failed"
    );
    if run.failures[p] >= driver.opts.max_task_failures {
        // The client sees the task's own error, with its Spark class.
        return Err(error.into());
    }
    Ok(())
}

fn internal(msg: &str) -> SparkError {
    SparkError::new(ExceptionClass::Runtime, msg)
}
