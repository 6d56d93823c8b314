//! runs.parquet: a columnar copy of runs.jsonl (feature `parquet`), for
//! pandas, polars, DuckDB and Arrow readers: one row per run, zstd
//! compressed, written from the same stream of records as the summary files
//! ([`super::summary_file::Summing`] feeds it) and put in place with them.
//!
//! Columns, named as `pandas.json_normalize` names runs.jsonl's fields:
//! `run`, `point`, `seed_index`, `seed` (unsigned 64-bit, exact in every
//! Arrow reader), one `params.<axis>` column per grid axis (float64 when
//! every value of the axis is a number, else text), `converged`,
//! `epochs_to_converge`, `converged_at_end`, `diverged`, `diverged_epoch`,
//! `outcome`, the `final_*` and `best_test_metric` figures (float32, null
//! where runs.jsonl has null), and the curves as list columns
//! (`curves.train_loss`, … of float32, at the epochs in the file's
//! `record_epochs` metadata and summary.json), then `weights` (list, null
//! for runs whose weights are not kept).
//!
//! Memory: rows are buffered up to [`ROWS_PER_GROUP`] runs or
//! [`VALUES_PER_GROUP`] curve values, then handed as one row group to a
//! thread of its own that encodes and compresses it (at most one group
//! wait), so the encoding overlaps training and the summary files. Without
//! dictionaries (float curves gain nothing from them: on the shipped grid
//! the file is 13% smaller and written 25% faster without).

use super::error::SweepError;
use super::output::{AtomicFile, RUNS_PARQUET};
use super::plan::Plan;
use super::record::{RunRecord, CURVE_NAMES, FINAL_NAMES};
use arrow_array::builder::{BooleanBuilder, Float32Builder, Float64Builder, ListBuilder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;

/// Most runs in one row group.
pub const ROWS_PER_GROUP: usize = 8192;
/// Most curve and weight values buffered before a row group is written.
pub const VALUES_PER_GROUP: usize = 1 << 20;

/// runs.parquet being written (under a temporary name until the summary
/// files are committed: [`super::summary_file::Written::commit`]).
pub struct RunsParquet {
    groups: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    encoder: Option<std::thread::JoinHandle<Result<AtomicFile, SweepError>>>,
    schema: SchemaRef,
    rows: Rows,
    path: std::path::PathBuf,
}

/// The column builders of the rows not yet written.
struct Rows {
    ids: [UInt64Builder; 4],
    /// Per grid axis: its name and its column.
    params: Vec<(String, ParamColumn)>,
    flags: [BooleanBuilder; 3],
    epochs: [UInt64Builder; 2],
    outcome: StringBuilder,
    finals: [Float32Builder; 6],
    curves: [ListBuilder<Float32Builder>; 4],
    weights: ListBuilder<Float32Builder>,
    count: usize,
    values: usize,
}

enum ParamColumn {
    Number(Float64Builder),
    Text(StringBuilder),
}

const IDS: [&str; 4] = ["run", "point", "seed_index", "seed"];
const FLAGS: [&str; 3] = ["converged", "converged_at_end", "diverged"];
const EPOCHS: [&str; 2] = ["epochs_to_converge", "diverged_epoch"];

impl RunsParquet {
    /// Starts `dir/runs.parquet` for `plan`'s runs.
    pub fn create(plan: &Plan, dir: &Path) -> Result<Self, SweepError> {
        let path = dir.join(RUNS_PARQUET);
        let axes: Vec<(String, bool)> = plan
            .grid
            .axes()
            .iter()
            .map(|a| (a.name.clone(), (0..a.values.len()).all(|i| a.values.json(i).is_number())))
            .collect();
        let schema = Arc::new(schema(&axes));
        let meta = |k: &str, v: String| KeyValue::new(k.to_string(), v);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("1 is a valid zstd level")))
            .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
            .set_dictionary_enabled(false)
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
            .set_key_value_metadata(Some(vec![
                meta("record_epochs", serde_json::to_string(&plan.record_epochs).expect("numbers serialise")),
                meta("experiment_hash", plan.hash.clone()),
                meta("written_by", format!("netsweep {}", env!("CARGO_PKG_VERSION"))),
            ]))
            .build();
        let file = AtomicFile::create(&path)?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| problem(&path, e))?;
        let (groups, incoming) = std::sync::mpsc::sync_channel(1);
        let at = path.clone();
        let encoder = std::thread::Builder::new()
            .name("runs.parquet".into())
            .spawn(move || encode(writer, incoming, &at))
            .map_err(|e| SweepError::io(&path, e))?;
        let rows = Rows::new(&axes);
        Ok(RunsParquet { groups: Some(groups), encoder: Some(encoder), schema, rows, path })
    }

    /// Adds one run; writes a row group when enough are buffered.
    pub fn push(&mut self, r: &RunRecord) -> Result<(), SweepError> {
        self.rows.push(r);
        if self.rows.count >= ROWS_PER_GROUP || self.rows.values >= VALUES_PER_GROUP {
            self.write_group()?;
        }
        Ok(())
    }

    fn write_group(&mut self) -> Result<(), SweepError> {
        if self.rows.count == 0 {
            return Ok(());
        }
        let batch =
            RecordBatch::try_new(self.schema.clone(), self.rows.finish()).map_err(|e| problem(&self.path, e))?;
        let sent = self.groups.as_ref().is_some_and(|g| g.send(batch).is_ok());
        if sent {
            Ok(())
        } else {
            // The encoder stopped: its error says why.
            self.finish_encoder().map(drop)
        }
    }

    /// Writes the last rows and the footer, leaving the file under its
    /// temporary name until [`AtomicFile::commit`].
    pub fn written(mut self) -> Result<AtomicFile, SweepError> {
        self.write_group()?;
        self.finish_encoder()
    }

    fn finish_encoder(&mut self) -> Result<AtomicFile, SweepError> {
        self.groups = None;
        match self.encoder.take().map(|h| h.join()) {
            Some(Ok(result)) => result,
            _ => Err(problem(&self.path, "the encoding thread failed")),
        }
    }
}

impl Drop for RunsParquet {
    fn drop(&mut self) {
        // Unfinished (a sweep that stopped): the encoder ends with the
        // channel and its file removes its temporary name.
        self.groups = None;
        if let Some(h) = self.encoder.take() {
            let _ = h.join();
        }
    }
}

/// The encoding thread: writes each row group as it comes, then the footer.
fn encode(
    mut writer: ArrowWriter<AtomicFile>,
    groups: std::sync::mpsc::Receiver<RecordBatch>,
    path: &Path,
) -> Result<AtomicFile, SweepError> {
    for batch in groups {
        writer.write(&batch).map_err(|e| problem(path, e))?;
        writer.flush().map_err(|e| problem(path, e))?;
    }
    writer.into_inner().map_err(|e| problem(path, e))
}

fn problem(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}

fn schema(axes: &[(String, bool)]) -> Schema {
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Float32, true)));
    let mut fields: Vec<Field> = IDS.iter().map(|n| Field::new(*n, DataType::UInt64, false)).collect();
    for (name, number) in axes {
        let t = if *number { DataType::Float64 } else { DataType::Utf8 };
        fields.push(Field::new(format!("params.{name}"), t, false));
    }
    fields.push(Field::new(FLAGS[0], DataType::Boolean, false));
    fields.push(Field::new(EPOCHS[0], DataType::UInt64, true));
    fields.push(Field::new(FLAGS[1], DataType::Boolean, false));
    fields.push(Field::new(FLAGS[2], DataType::Boolean, false));
    fields.push(Field::new(EPOCHS[1], DataType::UInt64, true));
    fields.push(Field::new("outcome", DataType::Utf8, false));
    fields.extend(FINAL_NAMES.iter().map(|n| Field::new(*n, DataType::Float32, true)));
    fields.extend(CURVE_NAMES.iter().enumerate().map(|(i, n)| Field::new(*n, list(), i >= 2)));
    fields.push(Field::new("weights", list(), true));
    Schema::new(fields)
}

impl Rows {
    fn new(axes: &[(String, bool)]) -> Self {
        let list = || ListBuilder::new(Float32Builder::new());
        Rows {
            ids: std::array::from_fn(|_| UInt64Builder::new()),
            params: axes
                .iter()
                .map(|(name, number)| {
                    let column = if *number {
                        ParamColumn::Number(Float64Builder::new())
                    } else {
                        ParamColumn::Text(StringBuilder::new())
                    };
                    (name.clone(), column)
                })
                .collect(),
            flags: std::array::from_fn(|_| BooleanBuilder::new()),
            epochs: std::array::from_fn(|_| UInt64Builder::new()),
            outcome: StringBuilder::new(),
            finals: std::array::from_fn(|_| Float32Builder::new()),
            curves: std::array::from_fn(|_| list()),
            weights: list(),
            count: 0,
            values: 0,
        }
    }

    fn push(&mut self, r: &RunRecord) {
        for (b, v) in self.ids.iter_mut().zip([r.run as u64, r.point as u64, r.seed_index as u64, r.seed]) {
            b.append_value(v);
        }
        for (name, col) in &mut self.params {
            let v = r.params.get(name);
            match col {
                ParamColumn::Number(b) => b.append_option(v.and_then(Json::as_f64)),
                ParamColumn::Text(b) => {
                    b.append_option(v.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                }
            }
        }
        for (b, v) in self.flags.iter_mut().zip([r.converged, r.converged_at_end, r.diverged]) {
            b.append_value(v);
        }
        for (b, v) in self.epochs.iter_mut().zip([r.epochs_to_converge, r.diverged_at]) {
            b.append_option(v.map(|e| e as u64));
        }
        self.outcome.append_value(r.outcome.name());
        for (b, v) in self.finals.iter_mut().zip(r.finals()) {
            b.append_option(v);
        }
        for (b, v) in self.curves.iter_mut().zip(r.curves()) {
            append_list(b, v.map(Vec::as_slice));
            self.values += v.map_or(0, Vec::len);
        }
        append_list(&mut self.weights, r.weights.as_deref());
        self.values += r.weights.as_ref().map_or(0, Vec::len);
        self.count += 1;
    }

    /// The buffered rows as columns, in schema order; the builders start over.
    fn finish(&mut self) -> Vec<ArrayRef> {
        let mut cols: Vec<ArrayRef> = self.ids.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        for (_, p) in &mut self.params {
            cols.push(match p {
                ParamColumn::Number(b) => Arc::new(b.finish()),
                ParamColumn::Text(b) => Arc::new(b.finish()),
            });
        }
        let [converged, at_end, diverged] = &mut self.flags;
        let [to_converge, diverged_epoch] = &mut self.epochs;
        cols.push(Arc::new(converged.finish()));
        cols.push(Arc::new(to_converge.finish()));
        cols.push(Arc::new(at_end.finish()));
        cols.push(Arc::new(diverged.finish()));
        cols.push(Arc::new(diverged_epoch.finish()));
        cols.push(Arc::new(self.outcome.finish()));
        cols.extend(self.finals.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.extend(self.curves.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(self.weights.finish()));
        self.count = 0;
        self.values = 0;
        cols
    }
}

fn append_list(b: &mut ListBuilder<Float32Builder>, values: Option<&[f32]>) {
    match values {
        Some(v) => {
            b.values().append_slice(v);
            b.append(true);
        }
        None => b.append(false),
    }
}
