//! Plotting end to end: a small sweep is run through the library, plotted
//! as PNG and SVG, and every picture is decoded and checked (size, not
//! blank, listed in index.html); degenerate grids plot without panicking;
//! bad folders are rejected by `sweep plot` with exit code 2.

use netsweep::plot::{plot_dir, plot_path, Format, PlotOptions};
use netsweep::sweep::{self, RunOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the XOR experiment with `sets` into `out`.
fn sweep_into(out: &Path, sets: &[&str]) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/xor_grid.toml");
    let plan = sweep::load_plan(&file, &sets).unwrap();
    let opts = RunOptions {
        out: out.to_path_buf(),
        threads: 1,
        force: false,
        quiet: true,
        experiment_file: "experiments/xor_grid.toml".into(),
    };
    sweep::run(&plan, &opts).unwrap();
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Decodes a PNG; returns (width, height, number of distinct colours).
fn decode(path: &Path) -> (u32, u32, usize) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks_exact(px).collect();
    (info.width, info.height, colours.len())
}

/// Checks every picture of a plotted folder and its index; returns the PNG names.
fn check_pngs(dir: &Path, written: usize) -> Vec<String> {
    let plots = dir.join("plots");
    let pngs = files(&plots, "png");
    assert_eq!(pngs.len(), written, "plot_dir's count matches the files");
    let index = std::fs::read_to_string(plots.join("index.html")).unwrap();
    for p in &pngs {
        let (w, h, colours) = decode(p);
        assert!(w >= 1000 && h >= 200, "{} is {w}×{h}", p.display());
        assert!(colours >= 8, "{} looks blank ({colours} colours)", p.display());
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(index.contains(&format!("src=\"{name}\"")), "index.html misses {name}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    pngs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

#[test]
fn a_small_sweep_gets_every_picture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xor");
    sweep_into(&out, &["seeds=4", "training.epochs=60", "grid.lr=[0.1,1.0]", "grid.l2=[0.0,0.01]", "grid.l1=[0.0]"]);
    let n = plot_dir(&out, &PlotOptions::default()).unwrap();
    let names = check_pngs(&out, n);
    for want in [
        "rate_heatmap_2-2-1.png",
        "rate_heatmap_concat.png",
        "rate_vs_lr.png",
        "learning_curves.png",
        "time_to_converge.png",
        "decision_boundaries.png",
    ] {
        assert!(names.iter().any(|n| n == want), "missing {want} in {names:?}");
    }

    // A user's own file in plots/, even one named like a figure, is never deleted.
    std::fs::write(out.join("plots/rate_vs_lr_paper.png"), b"mine").unwrap();
    std::fs::write(out.join("plots/notes.txt"), b"mine").unwrap();

    // The same figures as SVG, listed by the index instead of the PNGs, which go.
    let m = plot_dir(&out, &PlotOptions { format: Format::Svg, ..Default::default() }).unwrap();
    assert_eq!(m, n);
    let svgs = files(&out.join("plots"), "svg");
    assert_eq!(svgs.len(), n);
    assert_eq!(files(&out.join("plots"), "png").len(), 1, "only the user's PNG is left");
    assert_eq!(std::fs::read(out.join("plots/rate_vs_lr_paper.png")).unwrap(), b"mine");
    assert_eq!(std::fs::read(out.join("plots/notes.txt")).unwrap(), b"mine");
    let index = std::fs::read_to_string(out.join("plots/index.html")).unwrap();
    for s in &svgs {
        let text = std::fs::read_to_string(s).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"), "{} is not an SVG", s.display());
        assert!(text.contains("<text"), "{} has no text", s.display());
        assert!(index.contains(s.file_name().unwrap().to_str().unwrap()));
    }

    // Replotting is deterministic, and leaves only this format's figures and the user's files.
    plot_dir(&out, &PlotOptions::default()).unwrap();
    let before = std::fs::read(out.join("plots/rate_vs_lr.png")).unwrap();
    plot_dir(&out, &PlotOptions::default()).unwrap();
    assert_eq!(before, std::fs::read(out.join("plots/rate_vs_lr.png")).unwrap());
    assert!(files(&out.join("plots"), "svg").is_empty());
    assert_eq!(std::fs::read(out.join("plots/rate_vs_lr_paper.png")).unwrap(), b"mine");
}

/// A figure is written through a temporary file created afresh: a link a
/// user (or anyone) left at a name a figure's temporary once had
/// (`.<figure>.<pid>.tmp.png`, this process's id) is not written through,
/// and what it points at stays as it was.
#[test]
fn figures_are_not_written_through_links_at_temporary_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xor");
    sweep_into(&out, &["seeds=2", "training.epochs=20", "grid.lr=[0.1,1.0]", "grid.l2=[0.0]", "grid.l1=[0.0]"]);
    let theirs = dir.path().join("theirs.png");
    std::fs::write(&theirs, b"their picture").unwrap();
    // Every figure's name, from a first plot; then a link at each one's
    // former temporary name, with the figures gone.
    let n = plot_dir(&out, &PlotOptions::default()).unwrap();
    let plots = out.join("plots");
    let figures = files(&plots, "png");
    assert_eq!(figures.len(), n);
    let links: Vec<PathBuf> = figures
        .iter()
        .map(|f| {
            std::fs::remove_file(f).unwrap();
            let stem = f.file_stem().unwrap().to_str().unwrap();
            plots.join(format!(".{stem}.{}.tmp.png", std::process::id()))
        })
        .collect();
    for link in &links {
        std::os::unix::fs::symlink(&theirs, link).unwrap();
    }
    let n = plot_dir(&out, &PlotOptions::default()).unwrap();
    assert!(std::fs::read(&theirs).unwrap() == b"their picture", "a figure was written through a link");
    for link in &links {
        assert_eq!(std::fs::read_link(link).unwrap(), theirs, "the link is left as it was");
        std::fs::remove_file(link).unwrap();
    }
    check_pngs(&out, n);
}

/// The temporaries a killed plotting left (`.<figure>.<pid>.<n>.tmp`, of a
/// figure or of the list of written figures) go at the next plotting; a
/// user's look-alikes stay.
#[test]
fn a_killed_plottings_temporaries_go_and_look_alikes_stay() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xor");
    sweep_into(&out, &["seeds=2", "training.epochs=20", "grid.lr=[0.1,1.0]", "grid.l2=[0.0]", "grid.l1=[0.0]"]);
    let plots = out.join("plots");
    std::fs::create_dir(&plots).unwrap();
    // The list's temporary: "." + ".netsweep-plots.json" + ".<pid>.<n>.tmp".
    let stale = [".rate_vs_lr.png.4194304.0.tmp", ".index.html.77.12.tmp", "..netsweep-plots.json.5.1.tmp"];
    let theirs =
        [".rate_vs_lr.png.old.tmp", ".notes.txt.1.2.tmp", ".rate_vs_lr.png.1.2.tmp.bak", "rate_vs_lr.png.1.2.tmp"];
    for name in stale.iter().chain(&theirs) {
        std::fs::write(plots.join(name), b"half").unwrap();
    }
    let n = plot_dir(&out, &PlotOptions::default()).unwrap();
    for name in stale {
        assert!(!plots.join(name).exists(), "{name} was left");
    }
    for name in theirs {
        assert_eq!(std::fs::read(plots.join(name)).unwrap(), b"half", "{name} is the user's");
        std::fs::remove_file(plots.join(name)).unwrap();
    }
    check_pngs(&out, n);
}

#[test]
fn degenerate_grids_still_plot() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 3] = [
        // One learning rate (error bars instead of bands), two architectures.
        ("one_lr", &["seeds=3", "training.epochs=40", "grid.lr=[0.3]", "grid.l2=[0.0]", "grid.l1=[0.0,0.01]"]),
        // A single grid point that never converges (all-zero rates, flat curves).
        (
            "single_point",
            &[
                "seeds=2",
                "training.epochs=1",
                "grid.architecture=[\"2-2-1\"]",
                "grid.lr=[0.01]",
                "grid.l2=[0.0]",
                "grid.l1=[0.0]",
            ],
        ),
        // Learning rates that blow up: diverged runs leave gaps (nulls) in the curves.
        ("diverged", &["seeds=3", "training.epochs=50", "grid.lr=[0.1,1000.0]", "grid.l2=[0.0]", "grid.l1=[0.0]"]),
    ];
    for (name, sets) in cases {
        let out = dir.path().join(name);
        sweep_into(&out, sets);
        let n = plot_dir(&out, &PlotOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(n >= 4, "{name}: only {n} plots");
        check_pngs(&out, n);
    }
    // A folder of results folders: each is plotted, in name order.
    let all = plot_path(dir.path(), &PlotOptions::default()).unwrap();
    let names: Vec<String> = all.iter().map(|(d, _)| d.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["diverged", "one_lr", "single_point"]);
    assert!(all.iter().all(|(_, n)| n.is_ok()));
    // A broken folder among them: every good one is plotted, every broken one reported, exit 1.
    std::fs::write(dir.path().join("one_lr/summary.json"), "{ truncated").unwrap();
    std::fs::remove_dir_all(dir.path().join("single_point/plots")).unwrap();
    let (code, err) = sweep_plot(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("one_lr") && err.contains("1 of 3 results folders"), "{err}");
    assert!(
        dir.path().join("single_point/plots/index.html").is_file(),
        "the good folder after the broken one was plotted"
    );
}

/// Runs `sweep plot PATH`; returns (exit code, stderr).
fn sweep_plot(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sweep")).arg("plot").arg(path).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_folders_are_rejected_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();

    let (code, err) = sweep_plot(&dir.path().join("nope"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nope") && err.contains("no such folder"), "{err}");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, err) = sweep_plot(&empty);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no summary.json") && err.contains("sweep run"), "{err}");

    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("summary.json"), "{\n  \"name\": \"x\",\n  \"epochs\": oops\n}\n").unwrap();
    let (code, err) = sweep_plot(&broken);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("summary.json") && err.contains("line 3"), "{err}");
    assert!(!broken.join("plots").exists(), "nothing is written for a broken folder");

    let cut = dir.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    std::fs::write(cut.join("summary.json"), "{\"name\": \"x\", \"points\": [").unwrap();
    let (code, err) = sweep_plot(&cut);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("summary.json") && err.contains("truncated"), "{err}");

    // A file named plots/ in a results folder is refused and kept.
    let results = dir.path().join("results");
    sweep_into(&results, &["seeds=2", "training.epochs=20", "grid.lr=[0.1]", "grid.l2=[0.0]", "grid.l1=[0.0]"]);
    std::fs::write(results.join("plots"), "my notes").unwrap();
    let (code, err) = sweep_plot(&results);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plots is not a folder") && err.contains("move that file away"), "{err}");
    assert_eq!(std::fs::read_to_string(results.join("plots")).unwrap(), "my notes");
}

#[test]
fn the_report_page_ranks_every_point_and_links_the_data_and_the_slice_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    sweep_into(&out, &["seeds=6", "training.epochs=80", "grid.lr=[0.1,1.0]", "grid.l1=[0.0]"]);
    plot_dir(&out, &PlotOptions::default()).unwrap();
    let page = std::fs::read_to_string(out.join("plots/index.html")).unwrap();
    // 2 architectures × 2 lr × 4 l2 points, one table row each; links to the data files.
    assert_eq!(page.matches("<tr><td data-v=").count(), 16, "one row per point");
    for f in ["../summary.csv", "../summary.json", "../manifest.json", "../runs.jsonl"] {
        assert!(page.contains(&format!("href=\"{f}\"")), "{f}");
    }
    assert!(page.contains("wall time") && page.contains("build") && page.contains("<script>"));
    assert!(page.contains("data-key=\"rate\""));
    // A comparison is linked once `sweep compare` has drawn it (it redraws the page).
    let bin = env!("CARGO_BIN_EXE_sweep");
    let status = Command::new(bin).args(["compare", "--along", "l2"]).arg(&out).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let page = std::fs::read_to_string(out.join("plots/index.html")).unwrap();
    assert!(page.contains("src=\"../compare-l2.png\"") && page.contains("href=\"../compare-l2.csv\""));
    // --at picks the slice; a bad one is refused with exit code 2.
    let run = |args: &[&str]| Command::new(bin).arg("plot").arg(&out).args(args).output().unwrap();
    assert!(run(&["--at", "l2=0.1"]).status.success());
    let bad = run(&["--at", "lr=0.1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("drawn as the lines"));
    assert_eq!(run(&["--at", "l2=0.5"]).status.code(), Some(2));
    assert_eq!(run(&["--at", "l2"]).status.code(), Some(2));
    // Another experiment in the folder (--force): the old comparison is not shown as its own.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/xor_grid.toml");
    let again = Command::new(bin)
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--force", "--quiet", "--set", "seeds=3", "--set", "training.epochs=20"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let page = std::fs::read_to_string(out.join("plots/index.html")).unwrap();
    assert!(!page.contains("compare-l2"), "a stale comparison is left out of the page");
}
