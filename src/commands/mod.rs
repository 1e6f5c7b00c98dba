//! One module per command.

pub mod config_cmd;
pub mod demo;
pub mod incidents;
pub mod replay;
pub mod rules;
