//! `plots/index.html`, the report page: the run's metadata, links to its
//! files, a sortable table of every grid point, every figure with a line on
//! how to read it, and the paired comparisons `sweep compare` wrote. Static
//! and self-contained: it works from `file://` with no network, and its
//! only script (a table sort, about forty lines, shipped in the binary) is
//! inline. `index.html#selftest` makes the page check itself (images
//! loaded, the sort works, no script error) and write the verdict into the
//! page, which `scripts/report-browser-test.sh` reads in headless Chromium.

use super::load::Results;
use super::{Figure, Format};
use crate::sweep::aggregate::{rank_order, PointSummary};
use std::fmt::Write;
use std::path::Path;

/// Most rows of the table (the rest are in summary.csv).
const MAX_ROWS: usize = 2000;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1600px;margin:2em auto;padding:0 1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin:2em 0 .3em}
.meta{color:#555;margin:0}nav ul{columns:2;padding-left:1.2em}
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.8em 0}dt{color:#555}dd{margin:0}
figure{margin:0 0 1em;overflow-x:auto}figcaption{color:#444;margin:.2em 0 .6em;max-width:70em}
img{max-width:none;height:auto;border:1px solid #ddd}
.scroll{max-height:32em;overflow:auto;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}th,td{padding:.2em .6em;text-align:right;white-space:nowrap}
th{position:sticky;top:0;background:#f3f3f3;cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:' ▲'}th[aria-sort=descending]::after{content:' ▼'}
td.t,th.t{text-align:left}tbody tr:nth-child(even){background:#fafafa}";

/// Sorts the table by a clicked header (numbers by `data-v`), and runs the
/// page's self-test when the address ends in `#selftest`.
const SCRIPT: &str = r#"(function(){
var errors=[];window.addEventListener('error',function(e){errors.push(String(e.message||e));});
function value(td){var v=td.getAttribute('data-v');return v===null?td.textContent:(v===''?NaN:parseFloat(v));}
function sortBy(th){var table=th.closest('table'),body=table.tBodies[0],col=th.cellIndex;
 var dir=th.getAttribute('aria-sort')==='descending'?1:-1;
 table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
 th.setAttribute('aria-sort',dir===1?'ascending':'descending');
 var rows=Array.prototype.slice.call(body.rows);
 rows.sort(function(a,b){var x=value(a.cells[col]),y=value(b.cells[col]);
  if(typeof x==='number'&&typeof y==='number'){if(isNaN(x))return 1;if(isNaN(y))return -1;return dir*(x-y);}
  return dir*String(x).localeCompare(String(y));});
 rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('th').forEach(function(th){th.addEventListener('click',function(){sortBy(th);});});
function selftest(){var out=[];
 document.querySelectorAll('img').forEach(function(i){if(!i.complete||i.naturalWidth===0)out.push('image not loaded: '+i.getAttribute('src'));});
 var th=document.querySelector('th[data-key=rate]');
 if(!th){out.push('no rate column');}else{
  th.click();var a=Array.prototype.map.call(document.querySelectorAll('#points tbody tr'),function(r){return value(r.cells[th.cellIndex]);});
  for(var i=1;i<a.length;i++){if(a[i-1]<a[i])out.push('not sorted descending at row '+i);}
  th.click();var b=Array.prototype.map.call(document.querySelectorAll('#points tbody tr'),function(r){return value(r.cells[th.cellIndex]);});
  for(var j=1;j<b.length;j++){if(b[j-1]>b[j])out.push('not sorted ascending at row '+j);}}
 out=out.concat(errors.map(function(e){return 'script error: '+e;}));
 var p=document.getElementById('selftest');p.textContent=out.length?'SELFTEST FAIL: '+out.join('; '):'SELFTEST PASS';}
if(location.hash==='#selftest'){window.addEventListener('load',function(){setTimeout(selftest,0);});}
})();"#;

/// The page.
pub fn html(r: &Results, figures: &[Figure], format: Format) -> String {
    let s = &r.summary;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{} — netsweep report</title>", esc(&s.name));
    let _ = writeln!(out, "<style>\n{STYLE}\n</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&s.name));
    if let Some(d) = r.manifest.as_ref().and_then(|m| m.experiment.description.as_deref()) {
        let _ = writeln!(out, "<p>{}</p>", esc(d));
    }
    metadata(&mut out, r);
    links(&mut out, &r.dir);
    out.push_str("<nav><ul>\n<li><a href=\"#points\">Every grid point, ranked</a></li>\n");
    for f in figures {
        let _ = writeln!(out, "<li><a href=\"#{}\">{}</a></li>", esc(&f.stem), esc(&f.heading));
    }
    let comparisons = comparison_files(&r.dir, &s.experiment_hash);
    for (axis, _) in &comparisons {
        let _ = writeln!(out, "<li><a href=\"#compare-{a}\">Paired comparison along {a}</a></li>", a = esc(axis));
    }
    out.push_str("</ul></nav>\n");
    table(&mut out, r);
    for f in figures {
        let file = format!("{}.{}", f.stem, format.ext());
        let _ = writeln!(
            out,
            "<h2 id=\"{id}\">{h}</h2>\n<figure>\n<figcaption>{c}</figcaption>\n<a href=\"{file}\"><img src=\"{file}\" width=\"{w}\" height=\"{hgt}\" alt=\"{h}\"></a>\n</figure>",
            id = esc(&f.stem),
            h = esc(&f.heading),
            c = esc(&f.caption),
            file = esc(&file),
            w = f.size.0,
            hgt = f.size.1,
        );
    }
    for (axis, image) in &comparisons {
        let a = esc(axis);
        let _ = writeln!(
            out,
            "<h2 id=\"compare-{a}\">Paired comparison along {a}</h2>\n<figure>\n<figcaption>Each value of {a} against the baseline, seed by seed (seed s starts from the same weights at both points): the difference of rates with its 95% paired interval; coloured rows differ after Holm's adjustment. The numbers: <a href=\"../compare-{a}.csv\">compare-{a}.csv</a>, <a href=\"../compare-{a}.json\">compare-{a}.json</a>.</figcaption>"
        );
        if let Some(img) = image {
            let _ = writeln!(
                out,
                "<a href=\"../{i}\"><img src=\"../{i}\" alt=\"Paired comparison along {a}\"></a>",
                i = esc(img)
            );
        }
        out.push_str("</figure>\n");
    }
    let _ = writeln!(out, "<p id=\"selftest\" class=\"meta\"></p>\n<script>\n{SCRIPT}\n</script>\n</body>\n</html>");
    out
}

/// What was run, by which build, when and how fast.
fn metadata(out: &mut String, r: &Results) {
    let s = &r.summary;
    let varying = if s.varying_axes.is_empty() { "none".to_string() } else { s.varying_axes.join(", ") };
    let mut rows: Vec<(&str, String)> = vec![
        (
            "grid",
            format!("{} points × {} seeds, {} epochs each; varying: {varying}", s.points.len(), s.seeds, s.epochs),
        ),
        (
            "converged when",
            format!(
                "{} (the table and figures lead with the {})",
                r.criterion(),
                s.criterion.count.title().to_lowercase()
            ),
        ),
        ("experiment", format!("{} (hash {})", s.name, crate::sweep::manifest::short_hash(&s.experiment_hash))),
    ];
    if let Some(m) = &r.manifest {
        rows.push(("finished", m.finished_at.clone().unwrap_or_else(|| format!("not finished (status {})", m.status))));
        rows.push(("started", m.started_at.clone()));
        let build = match &m.git_commit {
            Some(c) => format!("netsweep {} (commit {})", m.netsweep_version, c.get(..12).unwrap_or(c)),
            None => format!("netsweep {}", m.netsweep_version),
        };
        rows.push(("build", build));
        if let (Some(wall), Some(rate)) = (m.wall_seconds, m.network_epochs_per_second) {
            rows.push((
                "wall time",
                format!(
                    "{wall:.2} s for {} runs on {}: {} network-epochs/s",
                    m.runs,
                    crate::sweep::report::threads(m.threads),
                    crate::sweep::report::human_rate(rate)
                ),
            ));
        }
    }
    out.push_str("<dl>\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    out.push_str("</dl>\n");
}

/// Links to the folder's data files.
fn links(out: &mut String, dir: &Path) {
    let files = ["summary.csv", "summary.json", "manifest.json", "runs.jsonl"];
    let present: Vec<String> =
        files.iter().filter(|f| dir.join(f).is_file()).map(|f| format!("<a href=\"../{f}\">{f}</a>")).collect();
    let _ = writeln!(out, "<p class=\"meta\">Data: {}</p>", present.join(" · "));
}

/// The comparison files in the folder computed from this experiment (a
/// file left from another, before a `--force` or a growth, is not shown):
/// (axis, its figure when there is one).
fn comparison_files(dir: &Path, hash: &str) -> Vec<(String, Option<String>)> {
    #[derive(serde::Deserialize)]
    struct Head {
        experiment_hash: String,
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<(String, Option<String>)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let axis = name.strip_prefix("compare-")?.strip_suffix(".json")?.to_string();
            let head: Head = crate::sweep::output::read_json_if_any(&e.path())?;
            if head.experiment_hash != hash {
                return None;
            }
            let image = ["png", "svg"].iter().map(|x| format!("compare-{axis}.{x}")).find(|f| dir.join(f).is_file());
            Some((axis, image))
        })
        .collect();
    v.sort();
    v
}

/// The ranked table of every grid point (best first by the leading rate).
fn table(out: &mut String, r: &Results) {
    let s = &r.summary;
    let g = &s.axes;
    let count = s.criterion.count;
    let axes: Vec<usize> = (0..g.axes().len()).filter(|&i| g.axes()[i].values.len() > 1).collect();
    let test = s.points.iter().any(|p| p.final_test_metric.is_some());
    let mut order: Vec<&PointSummary> = s.points.iter().collect();
    // The terminal's order.
    order.sort_by(|a, b| rank_order(a.rank_key(count), b.rank_key(count)));
    let shown = order.len().min(MAX_ROWS);
    let _ = writeln!(
        out,
        "<h2 id=\"points\">Every grid point, ranked</h2>\n<p class=\"meta\">{}; click a column to sort. Rates with their 95% Wilson intervals; median epochs to converge among the runs that converged, and over all runs (&gt;E: fewer than half converged within the E epochs).</p>\n<div class=\"scroll\"><table id=\"points\">\n<thead><tr>",
        if shown < order.len() {
            format!("The best {shown} of {} points (all of them are in summary.csv)", order.len())
        } else {
            format!("{} points", order.len())
        }
    );
    out.push_str("<th>#</th>");
    for &i in &axes {
        let _ = write!(out, "<th class=\"t\">{}</th>", esc(&g.axes()[i].name));
    }
    let _ = write!(
        out,
        "<th data-key=\"rate\">{}</th><th>95% interval</th><th>{}</th><th>median among converged</th><th>median all runs</th><th>transient</th><th>plateau</th><th>slow</th><th>diverged</th>",
        esc(&count.title().to_lowercase()),
        esc(&count.other().title().to_lowercase())
    );
    if test {
        let _ = write!(out, "<th>test {} (mean)</th>", esc(s.criterion.metric.name()));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let num = |v: Option<f64>, digits: usize| match v {
        Some(x) => format!("<td data-v=\"{x}\">{x:.digits$}</td>"),
        None => "<td data-v=\"\">–</td>".to_string(),
    };
    for (rank, p) in order.iter().take(shown).enumerate() {
        let coords = g.coords(p.point);
        let (rate, lo, hi) = p.rate(count);
        let _ = write!(out, "<tr><td data-v=\"{}\">{}</td>", rank + 1, rank + 1);
        for &i in &axes {
            let a = &g.axes()[i];
            let v = a.values.number(coords[i]).map_or(String::new(), |x| format!(" data-v=\"{x}\""));
            let _ = write!(out, "<td class=\"t\"{v}>{}</td>", esc(&a.values.short(coords[i])));
        }
        out.push_str(&num(Some(rate), 3));
        let _ = write!(out, "<td data-v=\"{lo}\">{lo:.3}–{hi:.3}</td>");
        out.push_str(&num(Some(p.rate(count.other()).0), 3));
        out.push_str(&num(p.epochs_to_converge.as_ref().map(|q| q.median), 0));
        match p.median_epochs_all {
            Some(m) => out.push_str(&num(Some(m), 0)),
            None => {
                let _ = write!(out, "<td data-v=\"{}\">&gt;{}</td>", s.epochs + 1, s.epochs);
            }
        }
        let o = &p.outcomes;
        for c in [o.transient, o.plateau, o.slow, o.diverged] {
            let _ = write!(out, "<td data-v=\"{c}\">{c}</td>");
        }
        if test {
            out.push_str(&num(p.final_test_metric.as_ref().map(|q| q.mean), 4));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}
