mod cli;
mod common;
mod engines;
mod golden;
mod hostile;
mod reload;
mod sigma;
mod update;
