//! summary.json and summary.csv (and runs.parquet, [`super::runs_parquet`]), written while the sweep runs. Runs are fed
//! in run order; each grid point's statistics ([`super::aggregate`]) are
//! written to both files the moment its last seed arrives and then dropped,
//! along with its runs. Points complete in point order, because a point's
//! runs are consecutive in run order. So memory holds only the points not
//! yet complete, as columns, and a bounded [`Ranking`] for the final table:
//! it does not grow with the grid, and a point with many seeds costs a few
//! bytes per seed and recorded value.
//!
//! Both files are written under temporary names and renamed into place by
//! [`Summing::finish`]; a reader sees the old files or the whole new ones,
//! and a sweep that stops early leaves no summary. `summary.json` is byte for
//! byte serde_json's pretty printing of the whole [`Summary`].

use super::aggregate::{Aggregator, PointSummary, Summary};
use super::error::SweepError;
use super::output::{self, AtomicFile};
use super::plan::Plan;
use super::record::RunRecord;
use super::report::Ranking;
use std::path::Path;

/// Rows kept at each end of the final table.
pub const TABLE_ROWS: usize = 10;

/// A sweep's aggregation, writing its summary files as points complete.
pub struct Summing<'p> {
    plan: &'p Plan,
    dir: &'p Path,
    agg: Aggregator<'p>,
    json: AtomicFile,
    csv: AtomicFile,
    next: usize,
    ranking: Ranking,
    /// Adaptive seeds: every point stays open until [`Summing::finish`].
    hold: bool,
    /// runs.parquet, fed the same records.
    #[cfg(feature = "parquet")]
    parquet: super::runs_parquet::RunsParquet,
}

impl<'p> Summing<'p> {
    /// Starts `dir`'s summary files for `plan`.
    pub fn create(plan: &'p Plan, dir: &'p Path) -> Result<Self, SweepError> {
        let head = serde_json::to_vec_pretty(&Summary::head(plan)).expect("plain data serialises");
        // `points` is the summary's last field, so its head ends with it, empty.
        let head = head.strip_suffix(b"\"points\": []\n}").expect("Summary.points is its last field");
        let mut json = AtomicFile::create(&dir.join(output::SUMMARY))?;
        json.write(head)?;
        json.write(b"\"points\": [")?;
        let mut csv = AtomicFile::create(&dir.join(output::SUMMARY_CSV))?;
        csv.write(&output::csv_header(&plan.grid))?;
        Ok(Summing {
            plan,
            dir,
            agg: Aggregator::new(plan),
            json,
            csv,
            next: 0,
            ranking: Ranking::new(&plan.grid, &plan.criterion, plan.epochs, TABLE_ROWS),
            hold: plan.adaptive.is_some(),
            #[cfg(feature = "parquet")]
            parquet: super::runs_parquet::RunsParquet::create(plan, dir)?,
        })
    }

    /// Adds a run (runs come in run order); writes its point if it completed it.
    pub fn push(&mut self, r: &RunRecord) -> Result<(), SweepError> {
        #[cfg(feature = "parquet")]
        self.parquet.push(r)?;
        if self.hold {
            return self.agg.push_hold(r).map_err(|msg| self.problem(msg));
        }
        match self.agg.push(r) {
            Ok(Some(p)) => self.write_point(&p),
            Ok(None) => Ok(()),
            Err(msg) => Err(self.problem(msg)),
        }
    }

    fn write_point(&mut self, p: &PointSummary) -> Result<(), SweepError> {
        if p.point != self.next {
            return Err(self.problem(format!("grid point {} completed before point {}", p.point, self.next)));
        }
        self.json.write(if p.point == 0 { b"\n    " } else { b",\n    " })?;
        self.json.write(&output::point_json(p))?;
        self.csv.write(&output::csv_row(&self.plan.grid, self.plan.epochs, p))?;
        self.ranking.offer(p);
        self.next += 1;
        Ok(())
    }

    fn problem(&self, msg: String) -> SweepError {
        SweepError::Results { path: self.dir.join(output::RUNS), msg }
    }

    /// Puts both files in place once every point is written; hands back the
    /// best and worst points for the final table.
    pub fn finish(self) -> Result<Ranking, SweepError> {
        let written = self.written()?;
        written.commit()
    }

    /// Writes the end of both files, leaving them under their temporary
    /// names until [`Written::commit`].
    pub fn written(mut self) -> Result<Written, SweepError> {
        if self.hold {
            for p in 0..self.plan.grid.points() {
                match self.agg.take(p) {
                    Some(s) => self.write_point(&s)?,
                    None => break,
                }
            }
        }
        if let Some(p) = self.agg.incomplete().or((self.next < self.plan.grid.points()).then_some(self.next)) {
            return Err(SweepError::Interrupted(format!("grid point {p} is missing runs; the sweep did not finish")));
        }
        self.json.write(if self.next == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
        // A build without runs.parquet must not leave one of an earlier
        // build next to summaries it no longer matches (netsweep's own file).
        #[cfg(not(feature = "parquet"))]
        let _ = std::fs::remove_file(self.dir.join(output::RUNS_PARQUET));
        Ok(Written {
            json: self.json,
            csv: self.csv,
            #[cfg(feature = "parquet")]
            parquet: self.parquet.written()?,
            ranking: self.ranking,
        })
    }
}

/// Both summary files written whole, not yet in place.
pub struct Written {
    json: AtomicFile,
    csv: AtomicFile,
    #[cfg(feature = "parquet")]
    parquet: AtomicFile,
    ranking: Ranking,
}

impl Written {
    /// Puts summary.json, then summary.csv, in place; hands back the ranking.
    pub fn commit(self) -> Result<Ranking, SweepError> {
        self.json.commit()?;
        self.csv.commit()?;
        #[cfg(feature = "parquet")]
        self.parquet.commit()?;
        Ok(self.ranking)
    }
}
