mod cli;
mod common;
mod golden;
mod hostile;
