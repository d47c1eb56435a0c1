//! The internal RPC: one Arrow Flight service per process. Control
//! messages are Flight actions (`do_action`, a [`crate::proto`] message as
//! the body); shuffle blocks are `do_get` streams whose messages each carry
//! one stored IPC frame, sent as written (already compressed).
//!
//! With `spark.authenticate=true` every call carries the application's
//! shared secret as `authorization: Bearer <secret>`; calls without it are
//! refused with `UNAUTHENTICATED`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use prost::Message;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

use crate::proto::ShuffleBlock;

/// Large enough for stage plans and shuffle frames.
pub const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// What a process answers on its Flight service.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// A control message; the reply is an encoded message (maybe empty).
    async fn action(&self, name: &str, body: Bytes) -> Result<Vec<u8>, Status>;

    /// The stored frames of one shuffle block.
    async fn block(&self, _block: ShuffleBlock) -> Result<Vec<Vec<u8>>, Status> {
        Err(Status::unimplemented("this process serves no shuffle blocks"))
    }
}

struct Service<H> {
    handler: Arc<H>,
    secret: Option<Arc<str>>,
}

impl<H> Service<H> {
    fn check<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let Some(secret) = &self.secret else { return Ok(()) };
        let given = req.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let expected = format!("Bearer {secret}");
        // Compare without an early exit on the first differing byte.
        let same = given.len() == expected.len()
            && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "the application's shared secret is missing or wrong (spark.authenticate=true)",
            ))
        }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn unimplemented<T>(what: &str) -> Result<T, Status> {
    Err(Status::unimplemented(format!("{what} is not part of ember's internal RPC")))
}

#[tonic::async_trait]
impl<H: Handler> FlightService for Service<H> {
    type HandshakeStream = BoxStream<HandshakeResponse>;
    type ListFlightsStream = BoxStream<FlightInfo>;
    type DoGetStream = BoxStream<FlightData>;
    type DoPutStream = BoxStream<PutResult>;
    type DoExchangeStream = BoxStream<FlightData>;
    type DoActionStream = BoxStream<arrow_flight::Result>;
    type ListActionsStream = BoxStream<ActionType>;

    async fn handshake(
        &self,
        _r: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        unimplemented("Handshake")
    }

    async fn list_flights(&self, _r: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        unimplemented("ListFlights")
    }

    async fn get_flight_info(&self, _r: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        unimplemented("GetFlightInfo")
    }

    async fn poll_flight_info(&self, _r: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        unimplemented("PollFlightInfo")
    }

    async fn get_schema(&self, _r: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        unimplemented("GetSchema")
    }

    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        self.check(&request)?;
        let block = ShuffleBlock::decode(request.into_inner().ticket)
            .map_err(|e| Status::invalid_argument(format!("bad shuffle block ticket: {e}")))?;
        let frames = self.handler.block(block).await?;
        let stream = futures::stream::iter(
            frames.into_iter().map(|f| Ok(FlightData { data_body: Bytes::from(f), ..Default::default() })),
        );
        Ok(Response::new(Box::pin(stream)))
    }

    async fn do_put(&self, _r: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        unimplemented("DoPut")
    }

    async fn do_exchange(
        &self,
        _r: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        unimplemented("DoExchange")
    }

    async fn do_action(&self, request: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        self.check(&request)?;
        let action = request.into_inner();
        let reply = self.handler.action(&action.r#type, action.body).await?;
        let stream = futures::stream::once(async move { Ok(arrow_flight::Result { body: Bytes::from(reply) }) });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn list_actions(&self, _r: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        unimplemented("ListActions")
    }
}

/// A running Flight service; dropping it keeps it running, `shutdown` stops it.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl Server {
    pub fn shutdown(&self) {
        if let Some(tx) = self.shutdown.lock().ok().and_then(|mut s| s.take()) {
            let _ = tx.send(());
        }
    }
}

/// Serves `handler` on `bind` (port 0 picks a free port).
pub async fn serve<H: Handler>(handler: Arc<H>, secret: Option<Arc<str>>, bind: SocketAddr) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let svc = FlightServiceServer::new(Service { handler, secret })
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    // Replies are small gRPC frames: without TCP_NODELAY each can wait for
    // the peer's delayed ACK (40 ms). The builder's setting does not apply
    // to a listener of our own.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(async move {
        let result = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "internal RPC server stopped");
        }
    });
    Ok(Server { addr, shutdown: Mutex::new(Some(tx)) })
}

/// Connections to other processes' Flight services, one per address.
#[derive(Debug)]
pub struct Clients {
    secret: Option<Arc<str>>,
    channels: Mutex<HashMap<String, Channel>>,
}

impl Clients {
    pub fn new(secret: Option<Arc<str>>) -> Self {
        Self { secret, channels: Mutex::new(HashMap::new()) }
    }

    async fn client(&self, address: &str) -> Result<FlightServiceClient<Channel>, Status> {
        let cached = self.channels.lock().ok().and_then(|c| c.get(address).cloned());
        let channel = match cached {
            Some(c) => c,
            None => {
                let c = Endpoint::from_shared(address.to_string())
                    .map_err(|e| Status::invalid_argument(format!("bad address {address}: {e}")))?
                    .connect_timeout(Duration::from_secs(10))
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .map_err(|e| Status::unavailable(format!("cannot connect to {address}: {e}")))?;
                if let Ok(mut m) = self.channels.lock() {
                    m.insert(address.to_string(), c.clone());
                }
                c
            }
        };
        Ok(FlightServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }

    /// Forgets a connection (its process is gone).
    pub fn forget(&self, address: &str) {
        if let Ok(mut m) = self.channels.lock() {
            m.remove(address);
        }
    }

    fn request<T>(&self, msg: T) -> Request<T> {
        let mut req = Request::new(msg);
        if let Some(s) = &self.secret
            && let Ok(v) = format!("Bearer {s}").parse()
        {
            req.metadata_mut().insert("authorization", v);
        }
        req
    }

    /// Sends an action and returns the reply body.
    pub async fn action(&self, address: &str, name: &str, body: impl Message) -> Result<Bytes, Status> {
        let mut client = self.client(address).await?;
        let action = Action { r#type: name.to_string(), body: Bytes::from(body.encode_to_vec()) };
        let result = client.do_action(self.request(action)).await;
        if result.as_ref().is_err_and(|s| s.code() == tonic::Code::Unavailable) {
            self.forget(address);
        }
        let mut stream = result?.into_inner();
        let mut body = Bytes::new();
        while let Some(r) = stream.next().await {
            body = r?.body;
        }
        Ok(body)
    }

    /// The frames of a shuffle block on another executor.
    pub async fn fetch_block(&self, address: &str, block: &ShuffleBlock) -> Result<Vec<Vec<u8>>, Status> {
        let mut client = self.client(address).await?;
        let ticket = Ticket { ticket: Bytes::from(block.encode_to_vec()) };
        let result = client.do_get(self.request(ticket)).await;
        if result.as_ref().is_err_and(|s| s.code() == tonic::Code::Unavailable) {
            self.forget(address);
        }
        let mut stream = result?.into_inner();
        let mut frames = vec![];
        while let Some(d) = stream.next().await {
            frames.push(d?.data_body.to_vec());
        }
        Ok(frames)
    }
}
