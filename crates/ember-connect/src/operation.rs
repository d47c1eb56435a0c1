//! One `ExecutePlan` operation: its responses are buffered until the
//! client releases them, so a dropped stream can `ReattachExecute` and
//! continue after the last response it saw.

use std::sync::{Arc, Mutex};

use futures::Stream;
use spark_connect_proto::ExecutePlanResponse;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tonic::Status;

#[derive(Default)]
struct State {
    /// Responses not yet released, and the index of the first of them.
    responses: Vec<ExecutePlanResponse>,
    first_index: usize,
    done: bool,
    error: Option<Status>,
}

#[derive(Default)]
pub struct Operation {
    pub operation_id: String,
    pub tags: Vec<String>,
    state: Mutex<State>,
    notify: Notify,
    abort: Mutex<Option<AbortHandle>>,
}

impl Operation {
    pub fn new(operation_id: String, tags: Vec<String>) -> Arc<Self> {
        Arc::new(Self { operation_id, tags, ..Default::default() })
    }

    pub fn set_abort(&self, h: AbortHandle) {
        if let Ok(mut a) = self.abort.lock() {
            *a = Some(h);
        }
    }

    pub fn push(&self, r: ExecutePlanResponse) {
        if let Ok(mut s) = self.state.lock() {
            s.responses.push(r);
        }
        self.notify.notify_waiters();
    }

    pub fn finish(&self, error: Option<Status>) {
        if let Ok(mut s) = self.state.lock() {
            if !s.done {
                s.done = true;
                s.error = error;
            }
        }
        self.notify.notify_waiters();
    }

    /// Stops the operation (`Interrupt`): the client sees OPERATION_CANCELED.
    pub fn interrupt(&self) {
        if let Ok(a) = self.abort.lock() {
            if let Some(h) = a.as_ref() {
                h.abort();
            }
        }
        let e = ember_common::SparkError::with_class(
            ember_common::ExceptionClass::Runtime,
            "OPERATION_CANCELED",
            "HY008",
            "Operation has been cancelled.",
        );
        self.finish(Some(crate::status::to_status(&e, None)));
    }

    /// Drops buffered responses up to and including `response_id` (or all).
    pub fn release(&self, until: Option<&str>) {
        if let Ok(mut s) = self.state.lock() {
            let n = match until {
                Some(id) => s.responses.iter().position(|r| r.response_id == id).map(|p| p + 1).unwrap_or(0),
                None => s.responses.len(),
            };
            s.responses.drain(..n);
            s.first_index += n;
        }
    }

    pub fn is_done(&self) -> bool {
        self.state.lock().map(|s| s.done).unwrap_or(true)
    }

    /// The index just after `response_id`, for reattaching.
    pub fn index_after(&self, response_id: Option<&str>) -> Option<usize> {
        let s = self.state.lock().ok()?;
        match response_id {
            None => Some(s.first_index),
            Some(id) => s.responses.iter().position(|r| r.response_id == id).map(|p| s.first_index + p + 1),
        }
    }

    /// Responses from `index` on, as they arrive.
    pub fn stream(
        self: Arc<Self>,
        index: usize,
    ) -> impl Stream<Item = Result<ExecutePlanResponse, Status>> + Send + 'static {
        futures::stream::unfold((self, index, false), |(op, mut i, ended)| async move {
            if ended {
                return None;
            }
            loop {
                let waker_owner = op.clone();
                let notified = waker_owner.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let next = {
                    let s = match op.state.lock() {
                        Ok(s) => s,
                        Err(_) => {
                            return Some((Err(Status::internal("operation state poisoned")), (op.clone(), i, true)));
                        }
                    };
                    if i < s.first_index {
                        i = s.first_index;
                    }
                    let rel = i - s.first_index;
                    if rel < s.responses.len() {
                        Some(Ok(s.responses[rel].clone()))
                    } else if s.done {
                        s.error.clone().map(Err)
                    } else {
                        None
                    }
                };
                match next {
                    Some(Ok(r)) => return Some((Ok(r), (op, i + 1, false))),
                    Some(Err(e)) => return Some((Err(e), (op, i, true))),
                    None if op.is_done() => return None,
                    None => notified.await,
                }
            }
        })
    }
}
