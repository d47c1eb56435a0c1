//! Client sessions: one [`ember_sql::SparkSession`] per (user, session id),
//! with its running operations, artifacts and recent errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ember_common::{SparkConf, SparkError};
use tonic::Status;

use crate::operation::Operation;

pub struct Session {
    pub session_id: String,
    pub server_side_session_id: String,
    pub spark: Arc<ember_sql::SparkSession>,
    pub operations: Mutex<HashMap<String, Arc<Operation>>>,
    errors: Mutex<HashMap<String, SparkError>>,
}

impl Session {
    /// Keeps an error for `FetchErrorDetails`; returns its id.
    pub fn remember_error(&self, e: SparkError) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        if let Ok(mut m) = self.errors.lock() {
            if m.len() > 100 {
                m.clear();
            }
            m.insert(id.clone(), e);
        }
        id
    }

    pub fn error(&self, id: &str) -> Option<SparkError> {
        self.errors.lock().ok()?.get(id).cloned()
    }

    pub fn operation(&self, id: &str) -> Option<Arc<Operation>> {
        self.operations.lock().ok()?.get(id).cloned()
    }
}

/// Every live session of this server.
pub struct SessionManager {
    base_conf: SparkConf,
    runner: Option<Arc<dyn ember_sql::JobRunner>>,
    sessions: Mutex<HashMap<(String, String), Arc<Session>>>,
}

impl SessionManager {
    /// Sessions over `base_conf`; with a `runner`, their queries run as
    /// jobs on the cluster's executors.
    pub fn new(base_conf: SparkConf, runner: Option<Arc<dyn ember_sql::JobRunner>>) -> Self {
        Self { base_conf, runner, sessions: Mutex::new(HashMap::new()) }
    }

    /// The session for a request, created on first use. A client that saw
    /// another server-side session (the server restarted) is told so.
    pub fn get_or_create(
        &self,
        user_id: &str,
        session_id: &str,
        observed: Option<&str>,
    ) -> Result<Arc<Session>, Status> {
        if uuid::Uuid::parse_str(session_id).is_err() {
            return Err(crate::status::to_status(
                &SparkError::with_class(
                    ember_common::ExceptionClass::IllegalArgument,
                    "INVALID_HANDLE.FORMAT",
                    "HY000",
                    format!(
                        "The handle {session_id} is invalid. Handle must be an UUID string of the format '00112233-4455-6677-8899-aabbccddeeff'"
                    ),
                ),
                None,
            ));
        }
        let key = (user_id.to_string(), session_id.to_string());
        let mut map = self.sessions.lock().map_err(|_| Status::internal("session table poisoned"))?;
        if let Some(s) = map.get(&key) {
            if let Some(o) = observed {
                if !o.is_empty() && o != s.server_side_session_id {
                    return Err(crate::status::invalid_handle("SESSION_CHANGED", session_id));
                }
            }
            return Ok(s.clone());
        }
        let spark =
            ember_sql::SparkSession::try_new_with_runner(session_id, self.base_conf.clone(), self.runner.clone())
                .map_err(|e| crate::status::from_sql(&e))?;
        let s = Arc::new(Session {
            session_id: session_id.to_string(),
            server_side_session_id: uuid::Uuid::new_v4().to_string(),
            spark,
            operations: Mutex::new(HashMap::new()),
            errors: Mutex::new(HashMap::new()),
        });
        map.insert(key, s.clone());
        Ok(s)
    }

    pub fn get(&self, user_id: &str, session_id: &str) -> Option<Arc<Session>> {
        self.sessions.lock().ok()?.get(&(user_id.to_string(), session_id.to_string())).cloned()
    }

    pub fn remove(&self, user_id: &str, session_id: &str) -> Option<Arc<Session>> {
        self.sessions.lock().ok()?.remove(&(user_id.to_string(), session_id.to_string()))
    }
}
