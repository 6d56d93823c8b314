//! `plots/index.html`: one page listing every figure with a line on what it
//! shows and how to read it.

use super::load::Results;
use super::{Figure, Format};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page.
pub fn html(r: &Results, figures: &[Figure], format: Format) -> String {
    let s = &r.summary;
    let varying = if s.varying_axes.is_empty() { "none".to_string() } else { s.varying_axes.join(", ") };
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{} — netsweep plots</title>\n", esc(&s.name)));
    out.push_str(
        "<style>\nbody{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1600px;margin:2em auto;padding:0 1.5em;color:#222;line-height:1.45}\n\
         h1{font-size:1.6em;margin-bottom:.2em}\nh2{font-size:1.2em;margin:2em 0 .3em}\n\
         .meta{color:#555;margin:0}\nnav ul{columns:2;padding-left:1.2em}\n\
         figure{margin:0 0 1em}\nfigcaption{color:#444;margin:.2em 0 .6em;max-width:70em}\n\
         img{max-width:100%;height:auto;border:1px solid #ddd}\n</style>\n</head>\n<body>\n",
    );
    out.push_str(&format!("<h1>{}</h1>\n", esc(&s.name)));
    out.push_str(&format!(
        "<p class=\"meta\">{} grid points × {} seeds, {} epochs each · converged when {} · varying: {} · experiment {}</p>\n",
        s.points.len(),
        s.seeds,
        s.epochs,
        esc(&r.criterion()),
        esc(&varying),
        esc(crate::sweep::manifest::short_hash(&s.experiment_hash))
    ));
    out.push_str("<nav><ul>\n");
    for f in figures {
        out.push_str(&format!("<li><a href=\"#{}\">{}</a></li>\n", esc(&f.stem), esc(&f.heading)));
    }
    out.push_str("</ul></nav>\n");
    for f in figures {
        let file = format!("{}.{}", f.stem, format.ext());
        out.push_str(&format!(
            "<h2 id=\"{id}\">{h}</h2>\n<figure>\n<figcaption>{c}</figcaption>\n<a href=\"{file}\"><img src=\"{file}\" width=\"{w}\" height=\"{hgt}\" alt=\"{h}\"></a>\n</figure>\n",
            id = esc(&f.stem),
            h = esc(&f.heading),
            c = esc(&f.caption),
            file = esc(&file),
            w = f.size.0,
            hgt = f.size.1,
        ));
    }
    out.push_str("</body>\n</html>\n");
    out
}
