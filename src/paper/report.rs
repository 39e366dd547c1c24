//! REPORT.md: one section per claim, a table row per check (paper / spec value, samsde's measurement, the
//! criterion, "yes" / "no"), the figures and the model file each section was run from.

use super::{Options, Section};
use std::fmt::Write;

/// Escapes `|` for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown text of the report.
pub fn markdown(opt: &Options, sections: &[Section]) -> String {
    let mut s = String::new();
    let rows: usize = sections.iter().map(|x| x.rows.len()).sum();
    let yes: usize = sections.iter().map(|x| x.rows.iter().filter(|r| r.agree).count()).sum();
    let total: f64 = sections.iter().map(|x| x.seconds).sum();
    let _ = writeln!(s, "# samsde paper: SAM near saddle points — reproduction report\n");
    let _ = writeln!(
        s,
        "Mode: **{}** ({}). samsde {}. {yes}/{rows} checks agree. Total time {total:.1} s.\n",
        if opt.quick { "quick" } else { "full" },
        if opt.quick {
            "fewer paths, coarser grids; statistical criteria use the standard errors of these smaller runs"
        } else {
            "full path counts and grids"
        },
        env!("CARGO_PKG_VERSION"),
    );
    let _ = writeln!(
        s,
        "Paper: Kim, Park, Choi, Lee, *Stability Analysis of Sharpness-Aware Minimization* (arXiv 2301.06308). \
         Reference values are from the project's math spec; its provenance tags are kept: [P] primary source, \
         [S] secondary summary, [D] derived for the project. Model files are in `models/` next to this report \
         (embedded copies of `models/paper/*.toml`).\n"
    );
    let _ = writeln!(s, "| section | checks | agree | time |\n|---|---|---|---|");
    for x in sections {
        let _ = writeln!(
            s,
            "| {} — {} | {} | {} | {:.1} s |",
            x.id,
            cell(&x.title),
            x.rows.len(),
            x.rows.iter().filter(|r| r.agree).count(),
            x.seconds
        );
    }
    for x in sections {
        let _ = writeln!(s, "\n## {} — {}\n", x.id, x.title);
        let _ = writeln!(s, "Model file: `models/{}`.\n", x.model);
        for n in &x.notes {
            let _ = writeln!(s, "{n}\n");
        }
        let _ = writeln!(
            s,
            "| claim | paper / spec | samsde | criterion | agree |\n|---|---|---|---|---|"
        );
        for r in &x.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&r.claim),
                cell(&r.paper),
                cell(&r.measured),
                cell(&r.criterion),
                if r.agree { "yes" } else { "no" }
            );
        }
        if !x.figures.is_empty() {
            let _ = writeln!(s);
            for f in &x.figures {
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let _ = writeln!(s, "![{name}](figures/{name})");
            }
        }
    }
    s
}
