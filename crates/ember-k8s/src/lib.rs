//! Kubernetes as ember's cluster manager, as Spark's own Kubernetes backend
//! does it:
//! - [`features`]: the driver and executor pods, built by feature steps in
//!   Spark's order, with Spark's names, labels, ports and defaults;
//! - [`allocator`]: [`KubernetesClusterManager`], the `ClusterManager` seam
//!   of ember-exec on pods — executor pods created in batches, one
//!   snapshot store fed by a watch and periodic listings, lost and failed
//!   pods reported with their exit codes, clean-up at the end;
//! - [`submit`]: cluster-mode submission (ConfigMap, driver pod, headless
//!   Service), waiting with `spark.kubernetes.submission.waitAppCompletion`,
//!   and `--status` / `--kill`.

pub mod allocator;
pub mod conf;
pub mod features;
pub mod submit;

pub use allocator::KubernetesClusterManager;

/// Why a Kubernetes operation failed, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// A bad or missing setting.
    #[error("{0}")]
    Config(String),
    /// The API server refused or failed a request.
    #[error("{action}: {message}")]
    Api { action: String, code: u16, message: String },
    /// The API server could not be reached, or its answer not read.
    #[error("{action}: {message}")]
    Client { action: String, message: String },
}

impl K8sError {
    pub(crate) fn conf(e: ember_common::SparkError) -> Self {
        K8sError::Config(e.message)
    }

    /// Wraps a client error with what was being done; a 403 names the RBAC
    /// verb and resource the account lacks.
    pub fn api(action: impl Into<String>, verb: &str, resource: &str, e: kube::Error) -> Self {
        let action = action.into();
        match e {
            kube::Error::Api(status) => {
                let code = status.code;
                let message = match code {
                    403 => format!(
                        "{} (403 Forbidden: the account needs the RBAC verb '{verb}' on '{resource}'; see deploy/rbac.yaml)",
                        status.message
                    ),
                    409 => format!("{} (409 Conflict: it already exists)", status.message),
                    422 => format!("{} (422 Invalid: the API server rejected the spec)", status.message),
                    404 => format!("{} (404 Not Found)", status.message),
                    _ => format!("{} ({code} {})", status.message, status.reason),
                };
                K8sError::Api { action, code, message }
            }
            other => K8sError::Client { action, message: other.to_string() },
        }
    }

    pub fn code(&self) -> Option<u16> {
        match self {
            K8sError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A client for `k8s://<url>`: credentials from the kubeconfig (context
/// `spark.kubernetes.context` when set) or the in-cluster service account,
/// as kubectl finds them; the API server is the master URL's.
pub async fn client(master_url: &str, conf: &ember_common::SparkConf) -> Result<kube::Client, K8sError> {
    let context = conf.get("spark.kubernetes.context").filter(|c| !c.is_empty());
    let mut config = match &context {
        Some(ctx) => {
            let opts = kube::config::KubeConfigOptions { context: Some(ctx.clone()), ..Default::default() };
            kube::Config::from_kubeconfig(&opts).await.map_err(|e| K8sError::Client {
                action: format!("cannot load kubeconfig context {ctx} (spark.kubernetes.context)"),
                message: e.to_string(),
            })?
        }
        None => kube::Config::infer().await.map_err(|e| K8sError::Client {
            action: "cannot find Kubernetes credentials (a kubeconfig or an in-cluster service account)".into(),
            message: e.to_string(),
        })?,
    };
    let url = api_server_url(master_url);
    if !url.is_empty() {
        config.cluster_url = url
            .parse()
            .map_err(|e| K8sError::Config(format!("bad Kubernetes API server URL k8s://{master_url}: {e}")))?;
    }
    kube::Client::try_from(config).map_err(|e| K8sError::Client {
        action: format!("cannot create a Kubernetes client for {url}"),
        message: e.to_string(),
    })
}

/// `k8s://host:port` means https, as in Spark; `k8s://http://…` stays.
pub fn api_server_url(master_url: &str) -> String {
    let u = master_url.trim().trim_end_matches('/');
    if u.is_empty() || u.starts_with("http://") || u.starts_with("https://") {
        u.to_string()
    } else {
        format!("https://{u}")
    }
}
