//! `ember connect`: a long-running Spark Connect endpoint.

use std::net::SocketAddr;

use crate::CommonArgs;

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on (Spark Connect's default is 15002; 0 picks a free one).
    #[arg(long, default_value_t = 15002)]
    port: u16,
    #[command(flatten)]
    common: CommonArgs,
}

pub async fn run(a: ConnectArgs) -> Result<u8, String> {
    let mut conf = a.common.spark_conf()?;
    let driver = crate::cluster::start(&mut conf).await?;
    let addr: SocketAddr =
        format!("{}:{}", a.host, a.port).parse().map_err(|e| format!("invalid address {}:{}: {e}", a.host, a.port))?;
    let listener = ember_connect::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let token = std::env::var("SPARK_CONNECT_AUTHENTICATE_TOKEN").ok().filter(|t| !t.is_empty());
    eprintln!("ember: Spark Connect server listening on sc://{local}");
    let served = ember_connect::serve(listener, conf, token, crate::cluster::runner(&driver), shutdown_signal()).await;
    if let Some(d) = &driver {
        d.stop().await;
    }
    served.map_err(|e| e.to_string())?;
    Ok(0)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
