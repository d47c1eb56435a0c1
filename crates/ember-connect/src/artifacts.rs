//! `AddArtifacts`: files the client uploads (`addArtifacts`, `--py-files`),
//! stored per session, in chunks reassembled by name.

use spark_connect_proto as sc;
use tonic::{Response, Status, Streaming};

use crate::server::SparkConnect;

pub async fn add_artifacts(
    svc: &SparkConnect,
    mut stream: Streaming<sc::AddArtifactsRequest>,
) -> Result<Response<sc::AddArtifactsResponse>, Status> {
    use sc::add_artifacts_request::Payload;
    let mut summaries = vec![];
    let mut session = None;
    let mut current: Option<(String, Vec<u8>, u32)> = None;
    let mut session_id = String::new();
    while let Some(req) = stream.message().await? {
        let s = match &session {
            Some(s) => std::sync::Arc::clone(s),
            None => {
                let s = svc.session_for_artifacts(&req.user_context, &req.session_id)?;
                session_id = req.session_id.clone();
                session = Some(s.clone());
                s
            }
        };
        let mut store = |name: String, data: Vec<u8>, crc_ok: bool| {
            if let Ok(mut a) = s.spark.artifacts.lock() {
                a.insert(name.clone(), data);
            }
            summaries.push(sc::add_artifacts_response::ArtifactSummary { name, is_crc_successful: crc_ok });
        };
        match req.payload {
            Some(Payload::Batch(b)) => {
                for a in b.artifacts {
                    let data = a.data.map(|d| d.data.to_vec()).unwrap_or_default();
                    store(a.name, data, true);
                }
            }
            Some(Payload::BeginChunk(c)) => {
                if let Some((name, data, _)) = current.take() {
                    store(name, data, true);
                }
                let data = c.initial_chunk.map(|d| d.data.to_vec()).unwrap_or_default();
                if c.num_chunks <= 1 {
                    store(c.name, data, true);
                } else {
                    current = Some((c.name, data, 1));
                }
            }
            Some(Payload::Chunk(d)) => {
                if let Some((name, mut data, n)) = current.take() {
                    data.extend_from_slice(&d.data);
                    current = Some((name, data, n + 1));
                }
            }
            None => {}
        }
    }
    if let (Some((name, data, _)), Some(s)) = (current.take(), &session) {
        if let Ok(mut a) = s.spark.artifacts.lock() {
            a.insert(name.clone(), data);
        }
        summaries.push(sc::add_artifacts_response::ArtifactSummary { name, is_crc_successful: true });
    }
    Ok(Response::new(sc::AddArtifactsResponse {
        session_id,
        server_side_session_id: session.map(|s| s.server_side_session_id.clone()).unwrap_or_default(),
        artifacts: summaries,
    }))
}
