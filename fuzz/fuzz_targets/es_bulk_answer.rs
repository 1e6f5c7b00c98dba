//! Answers of an Elasticsearch `_bulk` request (the cluster is outside the correlator):
//! any status and body is read without a panic, and an item-by-item reading has one
//! outcome per document sent.
#![no_main]
use gatewatch_correlator::elastic::bulk::{answer, Answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else { return };
    let status = [200u16, 400, 413, 429, 500, 503][head as usize % 6];
    let n = (head as usize / 6) % 8;
    if let Answer::Items(items) = answer(status, body, n) {
        assert_eq!(items.len(), n);
    }
});
