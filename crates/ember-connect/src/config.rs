//! The `Config` RPC: `spark.conf.get/set/unset/getAll/isModifiable`.

use spark_connect_proto::KeyValue;
use spark_connect_proto::config_request::operation::OpType;

use crate::sessions::Session;

pub fn config(session: &Session, op: &OpType) -> ember_sql::Result<(Vec<KeyValue>, Vec<String>)> {
    let spark = &session.spark;
    let kv = |key: &str, value: Option<String>| KeyValue { key: key.to_string(), value };
    Ok(match op {
        OpType::Set(s) => {
            // A silent set (the session builder's options) skips what
            // cannot change, as Spark does.
            let silent = s.silent.unwrap_or(false);
            for p in &s.pairs {
                match &p.value {
                    Some(v) => match spark.conf_set(&p.key, v) {
                        Err(_) if silent => {}
                        other => other?,
                    },
                    None => spark.conf_unset(&p.key),
                }
            }
            (vec![], vec![])
        }
        OpType::Get(g) => {
            let mut out = vec![];
            for k in &g.keys {
                match spark.conf_get(k) {
                    Some(v) => out.push(kv(k, Some(v))),
                    None => {
                        return Err(ember_common::SparkError::with_class(
                            ember_common::ExceptionClass::NoSuchElement,
                            "SQL_CONF_NOT_FOUND",
                            "42K0I",
                            format!("The SQL config \"{k}\" cannot be found. Please verify that the config exists."),
                        )
                        .into());
                    }
                }
            }
            (out, vec![])
        }
        OpType::GetWithDefault(g) => {
            (g.pairs.iter().map(|p| kv(&p.key, spark.conf_get_explicit_or(&p.key, p.value.clone()))).collect(), vec![])
        }
        OpType::GetOption(g) => (g.keys.iter().map(|k| kv(k, spark.conf_get(k))).collect(), vec![]),
        OpType::GetAll(g) => {
            let conf = spark.conf();
            let prefix = g.prefix.clone().unwrap_or_default();
            (
                conf.explicit()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| kv(k, Some(v.to_string())))
                    .collect(),
                vec![],
            )
        }
        OpType::Unset(u) => {
            for k in &u.keys {
                spark.conf_unset(k);
            }
            (vec![], vec![])
        }
        OpType::IsModifiable(m) => (
            m.keys.iter().map(|k| kv(k, Some(ember_common::SparkConf::is_modifiable(k).to_string()))).collect(),
            vec![],
        ),
    })
}
