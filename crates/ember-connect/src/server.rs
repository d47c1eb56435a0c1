//! The Spark Connect gRPC service.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use spark_connect_proto as sc;
use tonic::{Request, Response, Status, Streaming};

use crate::generated::spark_connect_service_server::{SparkConnectService, SparkConnectServiceServer};
use crate::operation::Operation;
use crate::sessions::{Session, SessionManager};

/// Spark Connect plans can be large (local relations carry data).
pub const MAX_MESSAGE_BYTES: usize = 128 << 20;

type ResponseStream = Pin<Box<dyn Stream<Item = Result<sc::ExecutePlanResponse, Status>> + Send>>;

pub struct SparkConnect {
    sessions: SessionManager,
}

impl SparkConnect {
    pub fn new(conf: ember_common::SparkConf, runner: Option<Arc<dyn ember_sql::JobRunner>>) -> Self {
        Self { sessions: SessionManager::new(conf, runner) }
    }

    fn session(
        &self,
        user: &Option<sc::UserContext>,
        session_id: &str,
        observed: Option<&str>,
    ) -> Result<Arc<Session>, Status> {
        let user_id = user.as_ref().map(|u| u.user_id.as_str()).unwrap_or_default();
        self.sessions.get_or_create(user_id, session_id, observed)
    }

    fn existing(&self, user: &Option<sc::UserContext>, session_id: &str) -> Result<Arc<Session>, Status> {
        let user_id = user.as_ref().map(|u| u.user_id.as_str()).unwrap_or_default();
        self.sessions
            .get(user_id, session_id)
            .ok_or_else(|| crate::status::invalid_handle("SESSION_NOT_FOUND", session_id))
    }

    /// A tonic service with Spark's message limits and compression.
    pub fn into_service(self) -> SparkConnectServiceServer<Self> {
        SparkConnectServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
    }
}

/// Serves Spark Connect on `listener` until `shutdown` resolves. With a
/// `token`, every call must carry `authorization: Bearer <token>`; with a
/// `runner`, queries run as jobs on a cluster's executors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    conf: ember_common::SparkConf,
    token: Option<String>,
    runner: Option<Arc<dyn ember_sql::JobRunner>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let svc = SparkConnect::new(conf, runner).into_service();
    let auth = move |req: Request<()>| -> Result<Request<()>, Status> {
        if let Some(t) = &token {
            let ok = req
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.strip_prefix("Bearer ").is_some_and(|x| x == t));
            if !ok {
                return Err(Status::unauthenticated("Invalid authentication token"));
            }
        }
        Ok(req)
    };
    // Replies are small gRPC frames: without TCP_NODELAY each can wait for
    // the peer's delayed ACK (40 ms). The builder's setting does not apply
    // to a listener of our own.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(tonic::service::interceptor::InterceptedService::new(svc, auth))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

/// Binds `addr` (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

#[tonic::async_trait]
impl SparkConnectService for SparkConnect {
    type ExecutePlanStream = ResponseStream;
    type ReattachExecuteStream = ResponseStream;

    async fn execute_plan(
        &self,
        request: Request<sc::ExecutePlanRequest>,
    ) -> Result<Response<Self::ExecutePlanStream>, Status> {
        let req = request.into_inner();
        let session =
            self.session(&req.user_context, &req.session_id, req.client_observed_server_side_session_id.as_deref())?;
        let op_id = req.operation_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if session.operation(&op_id).is_some() {
            return Err(crate::status::to_status(
                &ember_common::SparkError::with_class(
                    ember_common::ExceptionClass::Runtime,
                    "INVALID_HANDLE.OPERATION_ALREADY_EXISTS",
                    "HY000",
                    format!("The handle {op_id} is invalid. Operation already exists."),
                ),
                None,
            ));
        }
        let plan = req.plan.ok_or_else(|| Status::invalid_argument("ExecutePlanRequest without a plan"))?;
        let op = Operation::new(op_id.clone(), req.tags.clone());
        if let Ok(mut ops) = session.operations.lock() {
            ops.insert(op_id.clone(), op.clone());
        }
        let task = tokio::spawn(crate::execute::run(session.clone(), op.clone(), plan));
        op.set_abort(task.abort_handle());
        // A reattachable client releases responses; others are released on completion.
        let reattachable = req.request_options.iter().any(|o| {
            matches!(&o.request_option, Some(sc::execute_plan_request::request_option::RequestOption::ReattachOptions(r)) if r.reattachable)
        });
        let stream = op.clone().stream(0);
        if reattachable {
            Ok(Response::new(Box::pin(stream)))
        } else {
            let s2 = session.clone();
            let stream = stream
                .chain(futures::stream::once(async move {
                    if let Ok(mut ops) = s2.operations.lock() {
                        ops.remove(&op_id);
                    }
                    Err(Status::ok(""))
                }))
                .filter(|r| futures::future::ready(!matches!(r, Err(s) if s.code() == tonic::Code::Ok)));
            Ok(Response::new(Box::pin(stream)))
        }
    }

    async fn analyze_plan(
        &self,
        request: Request<sc::AnalyzePlanRequest>,
    ) -> Result<Response<sc::AnalyzePlanResponse>, Status> {
        let req = request.into_inner();
        let session =
            self.session(&req.user_context, &req.session_id, req.client_observed_server_side_session_id.as_deref())?;
        let analyze = req.analyze.ok_or_else(|| Status::invalid_argument("AnalyzePlanRequest without a request"))?;
        let result = crate::analyze::analyze(&session, &analyze).await.map_err(|e| crate::status::from_sql(&e))?;
        Ok(Response::new(sc::AnalyzePlanResponse {
            session_id: req.session_id,
            server_side_session_id: session.server_side_session_id.clone(),
            result: Some(result),
        }))
    }

    async fn config(&self, request: Request<sc::ConfigRequest>) -> Result<Response<sc::ConfigResponse>, Status> {
        let req = request.into_inner();
        let session =
            self.session(&req.user_context, &req.session_id, req.client_observed_server_side_session_id.as_deref())?;
        let op = req
            .operation
            .and_then(|o| o.op_type)
            .ok_or_else(|| Status::invalid_argument("ConfigRequest without an operation"))?;
        let (pairs, warnings) = crate::config::config(&session, &op).map_err(|e| crate::status::from_sql(&e))?;
        Ok(Response::new(sc::ConfigResponse {
            session_id: req.session_id,
            server_side_session_id: session.server_side_session_id.clone(),
            pairs,
            warnings,
        }))
    }

    async fn add_artifacts(
        &self,
        request: Request<Streaming<sc::AddArtifactsRequest>>,
    ) -> Result<Response<sc::AddArtifactsResponse>, Status> {
        crate::artifacts::add_artifacts(self, request.into_inner()).await
    }

    async fn artifact_status(
        &self,
        request: Request<sc::ArtifactStatusesRequest>,
    ) -> Result<Response<sc::ArtifactStatusesResponse>, Status> {
        let req = request.into_inner();
        let session =
            self.session(&req.user_context, &req.session_id, req.client_observed_server_side_session_id.as_deref())?;
        let have = session.spark.artifacts.lock().map_err(|_| Status::internal("artifacts poisoned"))?;
        let statuses = req
            .names
            .iter()
            .map(|n| (n.clone(), sc::artifact_statuses_response::ArtifactStatus { exists: have.contains_key(n) }))
            .collect();
        Ok(Response::new(sc::ArtifactStatusesResponse {
            session_id: req.session_id,
            server_side_session_id: session.server_side_session_id.clone(),
            statuses,
        }))
    }

    async fn interrupt(
        &self,
        request: Request<sc::InterruptRequest>,
    ) -> Result<Response<sc::InterruptResponse>, Status> {
        let req = request.into_inner();
        let session =
            self.session(&req.user_context, &req.session_id, req.client_observed_server_side_session_id.as_deref())?;
        use sc::interrupt_request::{Interrupt, InterruptType};
        let ops: Vec<Arc<Operation>> =
            session.operations.lock().map(|o| o.values().cloned().collect()).unwrap_or_default();
        let mut interrupted = vec![];
        for op in ops {
            let hit = match req.interrupt_type() {
                InterruptType::All => true,
                InterruptType::Tag => matches!(&req.interrupt, Some(Interrupt::OperationTag(t)) if op.tags.contains(t)),
                InterruptType::OperationId => {
                    matches!(&req.interrupt, Some(Interrupt::OperationId(id)) if *id == op.operation_id)
                }
                InterruptType::Unspecified => false,
            };
            if hit && !op.is_done() {
                op.interrupt();
                interrupted.push(op.operation_id.clone());
            }
        }
        Ok(Response::new(sc::InterruptResponse {
            session_id: req.session_id,
            server_side_session_id: session.server_side_session_id.clone(),
            interrupted_ids: interrupted,
        }))
    }

    async fn reattach_execute(
        &self,
        request: Request<sc::ReattachExecuteRequest>,
    ) -> Result<Response<Self::ReattachExecuteStream>, Status> {
        let req = request.into_inner();
        let session = self.existing(&req.user_context, &req.session_id)?;
        let op = session
            .operation(&req.operation_id)
            .ok_or_else(|| crate::status::invalid_handle("OPERATION_NOT_FOUND", &req.operation_id))?;
        let index = op
            .index_after(req.last_response_id.as_deref())
            .ok_or_else(|| crate::status::invalid_handle("OPERATION_NOT_FOUND", &req.operation_id))?;
        Ok(Response::new(Box::pin(op.stream(index))))
    }

    async fn release_execute(
        &self,
        request: Request<sc::ReleaseExecuteRequest>,
    ) -> Result<Response<sc::ReleaseExecuteResponse>, Status> {
        let req = request.into_inner();
        let session = self.existing(&req.user_context, &req.session_id)?;
        use sc::release_execute_request::Release;
        if let Some(op) = session.operation(&req.operation_id) {
            match &req.release {
                Some(Release::ReleaseUntil(u)) => op.release(Some(&u.response_id)),
                _ => {
                    op.release(None);
                    if let Ok(mut ops) = session.operations.lock() {
                        ops.remove(&req.operation_id);
                    }
                }
            }
        }
        Ok(Response::new(sc::ReleaseExecuteResponse {
            session_id: req.session_id,
            server_side_session_id: session.server_side_session_id.clone(),
            operation_id: Some(req.operation_id),
        }))
    }

    async fn release_session(
        &self,
        request: Request<sc::ReleaseSessionRequest>,
    ) -> Result<Response<sc::ReleaseSessionResponse>, Status> {
        let req = request.into_inner();
        let user_id = req.user_context.as_ref().map(|u| u.user_id.as_str()).unwrap_or_default();
        let removed = self.sessions.remove(user_id, &req.session_id);
        if let Some(s) = &removed {
            let ops: Vec<Arc<Operation>> =
                s.operations.lock().map(|o| o.values().cloned().collect()).unwrap_or_default();
            ops.iter().filter(|o| !o.is_done()).for_each(|o| o.interrupt());
        }
        Ok(Response::new(sc::ReleaseSessionResponse {
            session_id: req.session_id,
            server_side_session_id: removed.map(|s| s.server_side_session_id.clone()).unwrap_or_default(),
        }))
    }

    async fn fetch_error_details(
        &self,
        request: Request<sc::FetchErrorDetailsRequest>,
    ) -> Result<Response<sc::FetchErrorDetailsResponse>, Status> {
        let req = request.into_inner();
        let session = self.existing(&req.user_context, &req.session_id)?;
        let Some(e) = session.error(&req.error_id) else {
            return Ok(Response::new(sc::FetchErrorDetailsResponse {
                server_side_session_id: session.server_side_session_id.clone(),
                session_id: req.session_id,
                root_error_idx: None,
                errors: vec![],
            }));
        };
        use sc::fetch_error_details_response::{Error, SparkThrowable};
        // The error, then its causes, each pointing at the next.
        let mut errors = vec![];
        let mut next = Some(&e);
        while let Some(e) = next {
            errors.push(Error {
                error_type_hierarchy: e.class.jvm_classes().iter().map(|s| s.to_string()).collect(),
                message: e.message.clone(),
                stack_trace: vec![],
                cause_idx: e.cause.as_ref().map(|_| errors.len() as i32 + 1),
                spark_throwable: Some(SparkThrowable {
                    error_class: e.error_class.clone(),
                    message_parameters: e.parameters.clone().into_iter().collect(),
                    query_contexts: vec![],
                    sql_state: e.sql_state.clone(),
                    breaking_change_info: None,
                }),
            });
            next = e.cause.as_deref();
        }
        Ok(Response::new(sc::FetchErrorDetailsResponse {
            server_side_session_id: session.server_side_session_id.clone(),
            session_id: req.session_id,
            root_error_idx: Some(0),
            errors,
        }))
    }

    async fn clone_session(
        &self,
        _request: Request<sc::CloneSessionRequest>,
    ) -> Result<Response<sc::CloneSessionResponse>, Status> {
        Err(crate::status::to_status(&ember_common::SparkError::unsupported("cloneSession"), None))
    }

    async fn get_status(
        &self,
        _request: Request<sc::GetStatusRequest>,
    ) -> Result<Response<sc::GetStatusResponse>, Status> {
        Err(crate::status::to_status(&ember_common::SparkError::unsupported("getStatus"), None))
    }
}

impl SparkConnect {
    pub(crate) fn session_for_artifacts(
        &self,
        user: &Option<sc::UserContext>,
        session_id: &str,
    ) -> Result<Arc<Session>, Status> {
        self.session(user, session_id, None)
    }
}
