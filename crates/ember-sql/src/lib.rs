//! Spark semantics on DataFusion: Spark Connect plans become DataFusion
//! logical plans with Spark's name resolution, types, functions, data
//! sources and error classes.

pub mod cache;
pub mod catalog;
pub mod catalog_sql;
pub mod command;
pub mod create_table;
pub mod databases;
pub mod decimal_divide;
pub mod dialect;
pub mod display;
pub mod driver_only;
pub mod dynamic_scan_filters;
pub mod error;
pub mod expr;
pub mod functions;
pub mod inline_table;
pub mod interval;
pub mod lateral_view;
pub mod literal;
pub mod literal_suffix;
pub mod nondeterministic;
pub mod ordered_aggregates;
pub mod ordered_coalesce;
pub mod partition_id;
pub mod pivot_sql;
pub mod plan;
pub mod python;
pub mod read;
pub mod round_robin;
pub mod session;
pub mod sql;
pub mod sql_names;
pub mod sql_types;
pub mod sql_using;
pub mod tables;
pub mod types;
pub mod write;

pub use error::{Error, Result};
pub use plan::Planner;

pub use session::{JobRunner, SparkSession};
