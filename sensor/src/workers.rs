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
//! IPv4/IPv6 fragments carry no ports, so fragments are dispatched by address pair
//! alone; a flow whose packets are sometimes fragmented can be split across two
//! workers (each then sees part of it), as with Suricata's `cluster_flow` hashing.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::thread::JoinHandle;

use gatewatch_rules::detection::Detection;
use gatewatch_rules::event::AlertEvent;
use serde_json::Value;

use crate::capture::{Frame, LinkType};
use crate::config::SensorConfig;
use crate::decode::{self, Decoded};
use crate::output::{AppEvent, EventSink, FlowEvent};
use crate::pipeline::Sensor;

/// A frame copied out of the capture buffer, numbered in capture order.
#[derive(Clone, Debug)]
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
    /// A worker failed to hand on a record and stopped.
    Failed(usize, String),
}

enum Job {
    Frames(Vec<OwnedFrame>),
    /// Capture time moved on without packets for this worker: expire flows.
    Tick(i64),
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
        WorkerLimits { batch: 64, queue: 256 }
    }
}

/// N pipeline threads fed by flow hash.
pub struct Workers {
    queues: Vec<SyncSender<Job>>,
    threads: Vec<JoinHandle<io::Result<()>>>,
    pending: Vec<Vec<OwnedFrame>>,
    output: Receiver<Output>,
    limits: WorkerLimits,
    backpressure: Backpressure,
    hasher: std::hash::RandomState,
    pub stats: DispatchStats,
}

/// Hands a worker's records to the output channel.
struct ChannelSink {
    worker: usize,
    tx: Sender<Output>,
}

impl ChannelSink {
    fn send(&self, o: Output) -> io::Result<()> {
        self.tx.send(o).map_err(|_| io::Error::other("the output writer has stopped"))
    }
}

impl EventSink for ChannelSink {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.send(Output::Alert(Box::new(a.clone())))
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        self.send(Output::Flow(Box::new(f.clone())))
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        self.send(Output::App(Box::new(e.clone())))
    }
    fn stats(&mut self, v: &Value) -> io::Result<()> {
        self.send(Output::Stats(self.worker, v.clone()))
    }
}

impl Workers {
    /// Starts `n` workers (at least one), each with its own [`Sensor`] over `detection`.
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
        let mut queues = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        let thresholds = detection.signatures.threshold_table();
        for w in 0..n {
            let (tx, rx) = mpsc::sync_channel::<Job>(limits.queue);
            let sink = ChannelSink { worker: w, tx: out_tx.clone() };
            let (cfg, detection, thresholds) = (cfg.clone(), detection.clone(), thresholds.clone());
            // A sensor owns its YARA scanner, which stays on the thread that made it.
            let t = std::thread::Builder::new().name(format!("worker-{w}")).spawn(move || {
                let mut sensor = Sensor::new(cfg, detection);
                sensor.share_thresholds(&thresholds);
                run_worker(sensor, rx, sink)
            })?;
            queues.push(tx);
            threads.push(t);
        }
        Ok(Workers {
            queues,
            threads,
            pending: (0..n).map(|_| Vec::with_capacity(limits.batch)).collect(),
            output,
            limits,
            backpressure,
            hasher: std::hash::RandomState::new(),
            stats: DispatchStats::default(),
        })
    }

    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Copies `frame` to the batch of its flow's worker; sends the batch when full.
    /// `number` is the frame's place in the capture (EVE `pcap_cnt`).
    pub fn dispatch(&mut self, frame: &Frame<'_>, number: u64) {
        self.stats.frames += 1;
        let w = if self.queues.len() == 1 {
            0
        } else {
            (flow_hash(&self.hasher, frame) % self.queues.len() as u64) as usize
        };
        self.pending[w].push(OwnedFrame {
            number,
            ts_us: frame.ts_us,
            orig_len: frame.orig_len,
            link: frame.link,
            data: frame.data.to_vec(),
        });
        if self.pending[w].len() >= self.limits.batch {
            self.send_batch(w);
        }
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
        let batch = std::mem::replace(&mut self.pending[w], Vec::with_capacity(self.limits.batch));
        let n = batch.len() as u64;
        let sent = match self.backpressure {
            Backpressure::Wait => self.queues[w].send(Job::Frames(batch)).is_ok(),
            Backpressure::Drop => match self.queues[w].try_send(Job::Frames(batch)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
        };
        if !sent {
            self.stats.queue_drops += n;
        }
    }

    /// Tells every worker the time (capture clock) so quiet flows expire.
    pub fn tick(&mut self, now_us: i64) {
        self.flush();
        for q in &self.queues {
            let _ = q.send(Job::Tick(now_us));
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
    pub fn drain(&self, sink: &mut dyn EventSink) -> io::Result<Vec<(usize, Value)>> {
        let mut stats = Vec::new();
        while let Ok(o) = self.output.try_recv() {
            write_output(o, sink, &mut stats)?;
        }
        Ok(stats)
    }

    /// Waits for up to `timeout` for one record, then drains like [`Workers::drain`].
    pub fn drain_wait(
        &self,
        sink: &mut dyn EventSink,
        timeout: std::time::Duration,
    ) -> io::Result<Vec<(usize, Value)>> {
        let mut stats = Vec::new();
        if let Ok(o) = self.output.recv_timeout(timeout) {
            write_output(o, sink, &mut stats)?;
        }
        stats.extend(self.drain(sink)?);
        Ok(stats)
    }

    /// Ends every flow in every worker, writes everything to `sink` and returns the
    /// workers' final `stats` records (by worker number).
    pub fn finish(mut self, sink: &mut dyn EventSink) -> io::Result<Vec<Value>> {
        self.backpressure = Backpressure::Wait; // the last frames are not dropped
        self.flush();
        let Workers { queues, threads, output, .. } = self;
        drop(queues); // workers finish their queue, end their flows and stop
        let mut stats = Vec::new();
        for o in output.iter() {
            write_output(o, sink, &mut stats)?;
        }
        for t in threads {
            match t.join() {
                Ok(r) => r?,
                Err(_) => return Err(io::Error::other("a worker thread panicked")),
            }
        }
        stats.sort_by_key(|(w, _)| *w);
        Ok(stats.into_iter().map(|(_, v)| v).collect())
    }
}

fn write_output(
    o: Output,
    sink: &mut dyn EventSink,
    stats: &mut Vec<(usize, Value)>,
) -> io::Result<()> {
    match o {
        Output::Alert(a) => sink.alert(&a),
        Output::Flow(f) => sink.flow(&f),
        Output::App(e) => sink.app(&e),
        Output::Stats(w, v) => {
            stats.push((w, v));
            Ok(())
        }
        Output::Failed(w, e) => Err(io::Error::other(format!("worker {w}: {e}"))),
    }
}

fn run_worker(mut sensor: Sensor, jobs: Receiver<Job>, mut sink: ChannelSink) -> io::Result<()> {
    let result = (|| {
        for job in jobs.iter() {
            match job {
                Job::Frames(frames) => {
                    for f in &frames {
                        sensor.process_numbered(&f.frame(), f.number, &mut sink)?;
                    }
                }
                Job::Tick(now) => sensor.tick(now, &mut sink)?,
                Job::Reload(d, g) => sensor.reload(*d, g),
                Job::Stats => sink.stats(&sensor.stats().to_json())?,
            }
        }
        sensor.finish_flows(&mut sink)?;
        sink.stats(&sensor.stats().to_json())
    })();
    if let Err(e) = &result {
        let _ = sink.tx.send(Output::Failed(sink.worker, e.to_string()));
    }
    result
}

/// A hash of the frame's flow that is the same for both directions: addresses and
/// ports are put in order before hashing. Fragments and non-IP frames hash by what
/// they have (addresses, or nothing).
pub fn flow_hash(state: &impl BuildHasher, frame: &Frame<'_>) -> u64 {
    let mut h = state.build_hasher();
    let Ok((_, Decoded::Ip(l3))) = decode::decode_l3(frame.link, frame.data) else {
        return 0;
    };
    let ports = match (l3.proto, l3.fragment) {
        (6 | 17 | 132, None) if l3.payload.len() >= 4 => Some((
            u16::from_be_bytes([l3.payload[0], l3.payload[1]]),
            u16::from_be_bytes([l3.payload[2], l3.payload[3]]),
        )),
        _ => None,
    };
    let a = (l3.src, ports.map_or(0, |p| p.0));
    let b = (l3.dst, ports.map_or(0, |p| p.1));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    hash_end(&mut h, lo);
    hash_end(&mut h, hi);
    if l3.fragment.is_none() {
        h.write_u8(l3.proto);
    }
    h.write_u16(l3.vlan[0]);
    h.finish()
}

fn hash_end(h: &mut impl Hasher, (ip, port): (IpAddr, u16)) {
    match ip {
        IpAddr::V4(a) => h.write(&a.octets()),
        IpAddr::V6(a) => h.write(&a.octets()),
    }
    h.write_u16(port);
}

/// Keys of the `stats` record that are not summed over workers: times, rule counts
/// and generations are the same in every worker, so the largest is kept.
const NOT_SUMMED: [&str; 6] =
    ["uptime", "rules_loaded", "rules_skipped", "rules_generation", "reloads", "rules"];

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
