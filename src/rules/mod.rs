//! Rules: data files (`rules/*.toml`) whose predicates are CEL expressions
//! over the facts. See `docs/rules.md` for the file format.

pub mod apply;
pub mod catalog;
pub mod doc;
pub mod engine;
pub mod expr;
pub mod fleet;

pub use catalog::{Catalog, CatalogError, CatalogProblem, Rule, Scope};
pub use engine::{evaluate, Evaluation, RuleError};
pub use fleet::{evaluate_fleet, FleetEvaluation};
