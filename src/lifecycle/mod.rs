//! The life of a run that acts (`watch`, `rollback`, `abort`): signals caught first,
//! the deploy claimed once across processes, the rollback run and recorded, the run
//! finished, and what could not be recorded spooled for the next start.

pub mod act;
pub mod claim;
pub mod run;
pub mod signals;
pub mod spool;

pub use claim::{Claimed, Deploy};
pub use run::Run;
pub use signals::Signals;
