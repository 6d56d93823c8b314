//! Work items trained in parallel and received in order: rayon's workers
//! take items in index order from a shared counter, and the calling thread
//! hands each result to a sink in increasing index as soon as the next one
//! is ready (results that arrive early wait in a small map). The channel
//! holds a few results per thread, so memory is bounded by the work in
//! flight. Output therefore does not depend on the number of threads.

use super::error::SweepError;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Where work runs.
#[derive(Clone, Copy)]
pub struct Workers<'a> {
    /// The pool.
    pub pool: &'a rayon::ThreadPool,
    /// Its threads.
    pub threads: usize,
    /// Stop handing out work once this becomes true (a signal).
    pub stop: Option<&'a AtomicBool>,
}

/// Runs `work(i)` for each i in `items` and calls `sink` with the results in
/// increasing i. Stops handing out work when `stop` is set, a work item
/// fails or the sink fails; returns the end of the items sunk (`items.end`
/// when all were).
pub fn in_order<T: Send>(
    w: Workers,
    items: Range<usize>,
    work: impl Fn(usize) -> Result<T, crate::Error> + Sync,
    mut sink: impl FnMut(T) -> Result<(), SweepError>,
) -> Result<usize, SweepError> {
    let next = AtomicUsize::new(items.start);
    let failed = AtomicBool::new(false);
    let stopping = || failed.load(Ordering::Relaxed) || w.stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<T, crate::Error>)>(4 * w.threads);
    let end = items.end;
    std::thread::scope(|s| {
        s.spawn(|| {
            w.pool.broadcast(|_| loop {
                if stopping() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end || tx.send((i, work(i))).is_err() {
                    break;
                }
            });
            drop(tx);
        });
        let mut waiting = BTreeMap::new();
        let mut expected = items.start;
        let received = (|| {
            for (i, result) in rx.iter() {
                waiting.insert(i, result?);
                while let Some(t) = waiting.remove(&expected) {
                    sink(t)?;
                    expected += 1;
                }
            }
            Ok(expected)
        })();
        if received.is_err() {
            failed.store(true, Ordering::Relaxed);
            // Let the workers finish their items and see the flag.
            rx.iter().for_each(drop);
        }
        received
    })
}
