//! Worker threads. The thread that reads packets (a capture file, a live ring) hands
//! each frame to one of N workers chosen by a symmetric hash of its flow
//! ([`flow_hash`]): both directions of a flow reach the same worker, so flows, TCP
//! streams and detection state stay thread-local and need no lock. Rule sets are
//! shared read-only (`Arc`); each worker owns its YARA scanner and Sigma state.
//!
//! Frames travel in batches over bounded queues. A file reader waits when a queue is
//! full ([`Backpressure::Wait`]: replay loses nothing); a live reader never waits
//! ([`Backpressure::Drop`]: the batch is dropped and counted, so the capture ring keeps
//! draining). Workers send their records to one output channel that a single writer
//! drains ([`Workers::drain`]), so sinks need not be shared between threads.
//!
//! A new flow goes to the worker with the fewest frames waiting and stays there
//! ([`balance`]): hashing alone splits the flows evenly, not the work.
//!
//! The alerts do not depend on the number of workers:
//! - IPv4/IPv6 fragments after the first carry no ports; they follow the first fragment
//!   of their datagram to its flow's worker ([`fragments`]).
//! - Host-tracked thresholds count matches of many flows: the workers leave them to the
//!   output writer, which applies them in capture order ([`gate`]).

use std::collections::BTreeSet;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::profile::ProfileReport;
use gatewatch_rules::event::AlertEvent;
use serde_json::Value;

use crate::capture::{Frame, LinkType};
use crate::config::SensorConfig;
use crate::output::HeldThreshold;
use crate::output::{AppEvent, EventSink, FlowEvent};
use crate::pipeline::Pipeline;

pub mod balance;
pub(crate) mod batch;
pub(crate) mod fragments;
pub(crate) mod gate;
mod hash;

use balance::{BalanceStats, Balancer, Finished as FinishedFrames};
use batch::FrameBatch;

use fragments::{FragmentRouter, Route};
use gate::{Gate, HeldAlert, Position};
pub use hash::{flow_hash, FlowHasher};
use hash::{flow_target, Target};

/// A frame copied out of the capture buffer, numbered in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    pub number: u64,
    pub ts_us: i64,
    pub orig_len: u32,
    pub link: LinkType,
    pub data: Vec<u8>,
}

impl OwnedFrame {
    pub fn frame(&self) -> Frame<'_> {
        Frame { ts_us: self.ts_us, orig_len: self.orig_len, link: self.link, data: &self.data }
    }
}

/// A record on its way from a worker to the output writer.
#[derive(Debug)]
pub enum Output {
    Alert(Box<AlertEvent>),
    Flow(Box<FlowEvent>),
    App(Box<AppEvent>),
    /// A worker's `stats` record (only when asked for with [`Workers::stats`]).
    Stats(usize, Value),
    /// A worker's rule profile, when it stops (only with `detect.profile_rules`).
    Profile(Box<ProfileReport>),
    /// An alert whose host-tracked threshold the output writer applies ([`gate`]).
    Held(Box<HeldAlert>),
    /// The worker has processed everything dispatched to it up to this frame number.
    Done(usize, u64),
    /// A worker failed to hand on a record and stopped.
    Failed(usize, String),
    /// The records of one job (a batch of frames, a tick), in the order raised: one
    /// channel operation per job rather than per record.
    Batch(Vec<Output>),
}

enum Job {
    Frames(FrameBatch),
    /// Time moved on without packets for this worker: expire flows. The number is the
    /// last frame dispatched before the tick (the order of what the tick raises).
    Tick(i64, u64),
    Reload(Box<Detection>, u64),
    Stats,
}

/// What a full queue does to the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backpressure {
    /// The reader waits (capture files: nothing is lost).
    Wait,
    /// The batch is dropped and counted (live capture: the ring keeps draining).
    Drop,
}

/// Counters of the dispatcher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchStats {
    pub frames: u64,
    /// Frames dropped because their worker's queue was full.
    pub queue_drops: u64,
    /// How new flows were placed on workers.
    pub balance: BalanceStats,
}

/// Sizes of the dispatch.
#[derive(Clone, Copy, Debug)]
pub struct WorkerLimits {
    /// Frames per batch handed to a worker.
    pub batch: usize,
    /// Batches waiting per worker.
    pub queue: usize,
}

impl Default for WorkerLimits {
    fn default() -> Self {
        WorkerLimits { batch: 256, queue: 64 }
    }
}

/// N pipeline threads fed by flow hash.
pub struct Workers {
    queues: Vec<SyncSender<Job>>,
    threads: Vec<JoinHandle<io::Result<()>>>,
    pending: Vec<FrameBatch>,
    /// Batches the workers have emptied, to fill again.
    spare: Receiver<FrameBatch>,
    output: Receiver<Output>,
    limits: WorkerLimits,
    backpressure: Backpressure,
    hasher: FlowHasher,
    pub stats: DispatchStats,
    fragments: FragmentRouter,
    balance: Balancer,
    gate: Gate,
    /// Per worker: the last frame number sent to it, and the last it finished.
    sent: Vec<u64>,
    done: Vec<u64>,
    last_number: u64,
}

/// Hands a worker's records to the output channel.
struct ChannelSink {
    worker: usize,
    tx: Sender<Output>,
    /// What the worker is processing (the order of the alerts it holds back).
    position: Position,
    seq: u64,
    /// Records of the current job, sent together by [`ChannelSink::end_job`].
    records: Vec<Output>,
}

impl ChannelSink {
    fn send(&mut self, o: Output) -> io::Result<()> {
        self.records.push(o);
        Ok(())
    }

    /// Hands the records of the job just done to the writer.
    fn end_job(&mut self) -> io::Result<()> {
        if self.records.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.records);
        self.tx
            .send(Output::Batch(records))
            .map_err(|_| io::Error::other("the output writer has stopped"))
    }
}

impl EventSink for ChannelSink {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.send(Output::Alert(Box::new(a.clone())))
    }

    fn held_alert(&mut self, a: &AlertEvent, held: &HeldThreshold) -> io::Result<()> {
        self.seq += 1;
        self.send(Output::Held(Box::new(HeldAlert {
            position: self.position,
            seq: self.seq,
            worker: self.worker,
            alert: a.clone(),
            held: *held,
        })))
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        self.send(Output::Flow(Box::new(f.clone())))
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        self.send(Output::App(Box::new(e.clone())))
    }
    fn flow_owned(&mut self, f: FlowEvent) -> io::Result<()> {
        self.send(Output::Flow(Box::new(f)))
    }
    fn app_owned(&mut self, e: AppEvent) -> io::Result<()> {
        self.send(Output::App(Box::new(e)))
    }
    fn stats(&mut self, v: &Value) -> io::Result<()> {
        self.send(Output::Stats(self.worker, v.clone()))
    }
}

impl Workers {
    /// Starts `n` workers (at least one), each with its own [`Pipeline`] over `detection`.
    /// The workers' own `stats` records at the end are sent to the output tagged with
    /// their number; [`merge_stats`] adds them up.
    pub fn start(
        n: usize,
        cfg: &SensorConfig,
        detection: &Detection,
        limits: WorkerLimits,
        backpressure: Backpressure,
    ) -> io::Result<Workers> {
        let n = n.max(1);
        let limits = WorkerLimits { batch: limits.batch.max(1), queue: limits.queue.max(1) };
        let (out_tx, output) = mpsc::channel();
        let (spare_tx, spare) = mpsc::channel();
        // Pins outlive every flow of the workers: the longest flow timeout, and a
        // margin for capture clocks that step back a little.
        let idle = cfg.flow.longest_timeout().saturating_add(60);
        let balance = Balancer::new(n, idle, cfg.flow.max_flows.saturating_mul(n));
        let mut queues = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        let expectations = Arc::new(crate::app::expect::Expectations::default());
        for w in 0..n {
            let (tx, rx) = mpsc::sync_channel::<Job>(limits.queue);
            let sink = ChannelSink {
                worker: w,
                tx: out_tx.clone(),
                position: Position::frame(0),
                seq: 0,
                records: Vec::new(),
            };
            let (cfg, detection, spare_tx) = (cfg.clone(), detection.clone(), spare_tx.clone());
            let expectations = Arc::clone(&expectations);
            let finished = balance.finished();
            // A sensor owns its YARA scanner, which stays on the thread that made it.
            // The worker's log lines carry the span it was started in (its interface).
            let span = tracing::info_span!("worker", worker = w);
            let t = std::thread::Builder::new().name(format!("worker-{w}")).spawn(move || {
                let _span = span.entered();
                let mut sensor = Pipeline::new(cfg, detection);
                sensor.share_expectations(expectations);
                sensor.defer_host_thresholds();
                run_worker(sensor, rx, sink, spare_tx, (finished, w))
            })?;
            queues.push(tx);
            threads.push(t);
        }
        Ok(Workers {
            queues,
            threads,
            pending: (0..n).map(|_| FrameBatch::with_capacity(limits.batch)).collect(),
            spare,
            output,
            limits,
            backpressure,
            hasher: FlowHasher::new(),
            stats: DispatchStats::default(),
            fragments: FragmentRouter::new(cfg.defrag.timeout_secs, FRAGMENTS_HELD),
            balance,
            gate: Gate::new(detection.signatures.limits().threshold_entries),
            sent: vec![0; n],
            done: vec![0; n],
            last_number: 0,
        })
    }

    /// Copies `frame` to the batch of its flow's worker; sends the batch when full.
    /// `number` is the frame's place in the capture (EVE `pcap_cnt`).
    pub fn dispatch(&mut self, frame: &Frame<'_>, number: u64) {
        self.stats.frames += 1;
        self.last_number = number;
        if self.queues.len() == 1 {
            return self.push(0, frame, number);
        }
        let target = flow_target(&self.hasher, frame);
        for f in self.fragments.sweep(frame.ts_us) {
            self.push_owned(None, f);
        }
        match target {
            Target::Flow(h) => {
                let w = self.balance.worker(h, frame.ts_us);
                self.push(w, frame, number)
            }
            Target::FirstFragment(h, key) => {
                let w = self.balance.worker(h, frame.ts_us);
                for f in self.fragments.first(key, w, frame.ts_us) {
                    self.push_owned(Some(w), f);
                }
                self.push(w, frame, number);
            }
            Target::LaterFragment(_, key) => {
                let owned = OwnedFrame {
                    number,
                    ts_us: frame.ts_us,
                    orig_len: frame.orig_len,
                    link: frame.link,
                    data: frame.data.to_vec(),
                };
                match self.fragments.later(key, owned) {
                    Ok(Route::Worker(w, frames)) => {
                        frames.into_iter().for_each(|f| self.push_owned(Some(w), f))
                    }
                    Ok(Route::Held) => {}
                    Err(f) => self.push_owned(None, f),
                }
            }
        }
        self.stats.balance = self.balance.stats;
    }

    fn push(&mut self, w: usize, frame: &Frame<'_>, number: u64) {
        self.pending[w].push(frame, number);
        self.balance.queued(w, 1);
        if self.pending[w].len() >= self.limits.batch {
            self.send_batch(w);
        }
    }

    /// A frame the fragment router held: to worker `w`, or by its hash.
    fn push_owned(&mut self, w: Option<usize>, f: OwnedFrame) {
        let frame = f.frame();
        let w = w.unwrap_or_else(|| {
            (flow_hash(&self.hasher, &frame) % self.queues.len() as u64) as usize
        });
        self.push(w, &frame, f.number);
    }

    /// Sends every partial batch (call when the source goes quiet).
    pub fn flush(&mut self) {
        for w in 0..self.queues.len() {
            if !self.pending[w].is_empty() {
                self.send_batch(w);
            }
        }
    }

    fn send_batch(&mut self, w: usize) {
        let fresh =
            self.spare.try_recv().unwrap_or_else(|_| FrameBatch::with_capacity(self.limits.batch));
        let batch = std::mem::replace(&mut self.pending[w], fresh);
        let n = batch.len() as u64;
        let last = batch.last_number().unwrap_or(0);
        let sent = match self.backpressure {
            Backpressure::Wait => self.queues[w].send(Job::Frames(batch)).is_ok(),
            Backpressure::Drop => match self.queues[w].try_send(Job::Frames(batch)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
        };
        if sent {
            self.sent[w] = self.sent[w].max(last);
        } else {
            self.stats.queue_drops += n;
            self.balance.dropped(w, n);
        }
    }

    /// Tells every worker the time (capture clock) so quiet flows expire; fragments
    /// held for a first fragment that did not come in time go to their workers (a quiet
    /// source would otherwise keep them until the next packet).
    pub fn tick(&mut self, now_us: i64) {
        self.balance.advance(now_us);
        for f in self.fragments.sweep(now_us) {
            self.push_owned(None, f);
        }
        self.flush();
        let at = self.last_number;
        for (w, q) in self.queues.iter().enumerate() {
            if q.send(Job::Tick(now_us, at)).is_ok() {
                self.sent[w] = self.sent[w].max(at);
            }
        }
    }

    /// Swaps in a new rule set in every worker, after the frames already dispatched.
    pub fn reload(&mut self, detection: &Detection, generation: u64) {
        self.flush();
        for q in &self.queues {
            let _ = q.send(Job::Reload(Box::new(detection.clone()), generation));
        }
    }

    /// Asks every worker for its counters; they arrive as [`Output::Stats`].
    pub fn request_stats(&mut self) {
        for q in &self.queues {
            let _ = q.send(Job::Stats);
        }
    }

    /// Writes the records that have arrived to `sink`; returns the workers' `stats`
    /// records among them. Does not wait.
    pub fn drain(&mut self, sink: &mut dyn EventSink) -> io::Result<Vec<(usize, Value)>> {
        let mut stats = Vec::new();
        while let Ok(o) = self.output.try_recv() {
            self.take(o, sink, &mut stats)?;
        }
        self.gate.release(self.processed_before(), sink)?;
        Ok(stats)
    }

    /// Waits for up to `timeout` for one record, then drains like [`Workers::drain`].
    #[cfg(test)]
    pub fn drain_wait(
        &mut self,
        sink: &mut dyn EventSink,
        timeout: std::time::Duration,
    ) -> io::Result<Vec<(usize, Value)>> {
        let mut stats = Vec::new();
        if let Ok(o) = self.output.recv_timeout(timeout) {
            self.take(o, sink, &mut stats)?;
        }
        stats.extend(self.drain(sink)?);
        Ok(stats)
    }

    /// One record from a worker: written, held for the gate, or noted.
    fn take(
        &mut self,
        o: Output,
        sink: &mut dyn EventSink,
        stats: &mut Vec<(usize, Value)>,
    ) -> io::Result<()> {
        match o {
            Output::Batch(records) => {
                for r in records {
                    self.take(r, sink, stats)?;
                }
            }
            Output::Held(h) => self.gate.hold(*h),
            Output::Done(w, n) => self.done[w] = self.done[w].max(n),
            Output::Stats(w, mut v) => {
                if w == 0 {
                    self.gate.count_into(&mut v);
                }
                stats.push((w, v));
            }
            o => write_output(o, sink)?,
        }
        Ok(())
    }

    /// The position before which every worker has processed every frame dispatched:
    /// held alerts before it can be released.
    fn processed_before(&self) -> Position {
        let mut first_open = u64::MAX;
        for w in 0..self.queues.len() {
            let open = if self.done[w] < self.sent[w] {
                self.done[w] + 1
            } else {
                self.pending[w].first_number().unwrap_or(u64::MAX)
            };
            first_open = first_open.min(open);
        }
        if let Some(n) = self.fragments.oldest_held() {
            first_open = first_open.min(n);
        }
        Position::frame(first_open)
    }

    /// Ends every flow in every worker, writes everything to `sink` and returns the
    /// workers' final `stats` records (by worker number) and their rule profile.
    pub fn finish(mut self, sink: &mut dyn EventSink) -> io::Result<Finished> {
        self.backpressure = Backpressure::Wait; // the last frames are not dropped
        for f in self.fragments.drain() {
            self.push_owned(None, f);
        }
        self.flush();
        let queues = std::mem::take(&mut self.queues);
        drop(queues); // workers finish their queue, end their flows and stop
        let mut stats = Vec::new();
        let mut profile: Option<ProfileReport> = None;
        while let Ok(o) = self.output.recv() {
            let records = match o {
                Output::Batch(records) => records,
                o => vec![o],
            };
            for o in records {
                match o {
                    Output::Profile(p) => profile.get_or_insert_with(Default::default).merge(&p),
                    Output::Stats(w, v) => stats.push((w, v)),
                    o => self.take(o, sink, &mut stats)?,
                }
            }
        }
        // Every worker has stopped: what is held is complete.
        self.gate.release(Position { frame: u64::MAX, phase: u8::MAX }, sink)?;
        for t in std::mem::take(&mut self.threads) {
            match t.join() {
                Ok(r) => r?,
                Err(_) => return Err(io::Error::other("a worker thread panicked")),
            }
        }
        stats.sort_by_key(|(w, _)| *w);
        if let Some((_, first)) = stats.first_mut() {
            self.gate.count_into(first);
        }
        Ok(Finished { stats: stats.into_iter().map(|(_, v)| v).collect(), profile })
    }
}

/// Frames a fragment hold keeps waiting for their first fragment, over all datagrams.
const FRAGMENTS_HELD: usize = 4096;

/// What the workers leave when they stop.
#[derive(Debug)]
pub struct Finished {
    /// Each worker's final `stats` object, by worker number.
    pub stats: Vec<Value>,
    /// The workers' rule profiles added up (with `detect.profile_rules`).
    pub profile: Option<ProfileReport>,
}

/// Writes a record that needs nothing of the writer's state.
fn write_output(o: Output, sink: &mut dyn EventSink) -> io::Result<()> {
    match o {
        Output::Alert(a) => sink.alert(&a),
        Output::Flow(f) => sink.flow(&f),
        Output::App(e) => sink.app(&e),
        Output::Failed(w, e) => Err(io::Error::other(format!("worker {w}: {e}"))),
        // Handled by `Workers::take` and `Workers::finish`.
        Output::Stats(..)
        | Output::Held(_)
        | Output::Done(..)
        | Output::Profile(_)
        | Output::Batch(_) => Ok(()),
    }
}

/// A worker's loop; `finished.0[finished.1]` counts the frames it has processed.
fn run_worker(
    mut sensor: Pipeline,
    jobs: Receiver<Job>,
    mut sink: ChannelSink,
    spare: Sender<FrameBatch>,
    finished: (FinishedFrames, usize),
) -> io::Result<()> {
    let result = (|| {
        for job in jobs.iter() {
            match job {
                Job::Frames(mut batch) => {
                    for (number, frame) in batch.frames() {
                        sink.position = Position::frame(number);
                        sensor.process_numbered(&frame, number, &mut sink)?;
                    }
                    let frames = batch.len() as u64;
                    finished.0[finished.1].fetch_add(frames, std::sync::atomic::Ordering::Relaxed);
                    sink.send(Output::Done(sink.worker, batch.last_number().unwrap_or(0)))?;
                    sink.end_job()?;
                    batch.clear();
                    // The reader may have stopped; the batch is then freed here.
                    let _ = spare.send(batch);
                }
                Job::Tick(now, after) => {
                    sink.position = Position::tick_after(after);
                    sensor.tick(now, &mut sink)?;
                    sink.send(Output::Done(sink.worker, after))?;
                    sink.end_job()?;
                }
                Job::Reload(d, g) => sensor.reload(*d, g),
                Job::Stats => {
                    sink.stats(&sensor.stats().to_json())?;
                    sink.end_job()?;
                }
            }
        }
        sink.position = Position::END;
        sensor.finish_flows(&mut sink)?;
        if let Some(p) = sensor.profile_report() {
            sink.send(Output::Profile(Box::new(p)))?;
        }
        sink.stats(&sensor.stats().to_json())?;
        sink.end_job()
    })();
    if let Err(e) = &result {
        let _ = sink.end_job();
        let _ = sink.tx.send(Output::Failed(sink.worker, e.to_string()));
    }
    result
}

/// Keys of the `stats` record that are not summed over workers: times, rule counts
/// and generations are the same in every worker, so the largest is kept.
const NOT_SUMMED: [&str; 7] = [
    "uptime",
    "rules_loaded",
    "rules_skipped",
    "rules_generation",
    "reloads",
    "rules",
    // The threshold table is shared by the workers.
    "threshold_evictions",
];

/// Adds the workers' `stats` records up: numbers are summed, except the keys of
/// [`NOT_SUMMED`] (and everything below them), where the largest is kept.
pub fn merge_stats(records: &[Value]) -> Value {
    let mut out = Value::Null;
    for r in records {
        merge_into(&mut out, r, false);
    }
    out
}

fn merge_into(acc: &mut Value, v: &Value, keep_max: bool) {
    match (acc, v) {
        (acc @ Value::Null, v) => *acc = v.clone(),
        (Value::Number(a), Value::Number(b)) => {
            let merged = match (a.as_u64(), b.as_u64(), a.as_f64(), b.as_f64()) {
                (Some(x), Some(y), _, _) => {
                    Value::from(if keep_max { x.max(y) } else { x.saturating_add(y) })
                }
                (_, _, Some(x), Some(y)) => Value::from(if keep_max { x.max(y) } else { x + y }),
                _ => return,
            };
            *a = match merged {
                Value::Number(n) => n,
                _ => return,
            };
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = b.keys().collect();
            for k in keys {
                let max = keep_max || NOT_SUMMED.contains(&k.as_str());
                merge_into(a.entry(k.clone()).or_insert(Value::Null), &b[k], max);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
