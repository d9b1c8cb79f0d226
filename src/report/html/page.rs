//! The layout of the report: a table of contents, the legend of the verdict marks, the
//! overview, one section per experiment, what is not run, the verification and the plan.
//! Plain and printable: one column, system fonts, tables that scroll sideways on a narrow
//! screen, marks that are symbols as well as colours.

use base64::Engine;

use super::content::{verdict_counts, ExperimentSection, FigureBlock, ReportContent};
use crate::report::render::{escape_html as esc, VERDICT_SYMBOLS};
use crate::report::TableFormat;

const STYLE: &str = include_str!("style.css");

/// The whole page.
pub fn page(content: &ReportContent) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
        esc(&content.title),
        esc(&content.title)
    ));
    out.push_str(&pairs(&content.generated));
    out.push_str(&contents(content));
    out.push_str(&legend());
    if !content.overview_tables.is_empty() || !content.overview_figures.is_empty() {
        out.push_str("<section id=\"overview\">\n<h2>UCI regression: the paper's Table 1</h2>\n");
        for t in &content.overview_tables {
            out.push_str(&table(t));
        }
        for f in &content.overview_figures {
            out.push_str(&figure(f));
        }
        out.push_str("</section>\n");
    }
    if !content.mnist_figures.is_empty() {
        out.push_str("<section id=\"mnist-together\">\n<h2>MNIST: the models together</h2>\n");
        for f in &content.mnist_figures {
            out.push_str(&figure(f));
        }
        out.push_str("</section>\n");
    }
    for e in &content.experiments {
        out.push_str(&experiment(e));
    }
    if !content.not_run.is_empty() {
        out.push_str("<section id=\"not-run\">\n<h2>Specs not run here</h2>\n<ul>\n");
        for (spec, why) in &content.not_run {
            out.push_str(&format!("<li><code>{}</code>: {}</li>\n", esc(spec), esc(why)));
        }
        out.push_str("</ul>\n</section>\n");
    }
    out.push_str(&verification(content));
    out.push_str(&plan(content));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn contents(content: &ReportContent) -> String {
    let mut items = Vec::new();
    if !content.overview_tables.is_empty() {
        items.push(("overview".to_string(), "UCI regression: the paper's Table 1".to_string()));
    }
    if !content.mnist_figures.is_empty() {
        items.push(("mnist-together".to_string(), "MNIST: the models together".to_string()));
    }
    items.extend(content.experiments.iter().map(|e| (anchor(&e.name), e.name.clone())));
    if !content.not_run.is_empty() {
        items.push(("not-run".into(), "Specs not run here".into()));
    }
    items.push(("verification".into(), "Verification".into()));
    items.push(("plan".into(), "What make reproduce would still train".into()));
    let links: Vec<String> =
        items.iter().map(|(id, label)| format!("<li><a href=\"#{}\">{}</a></li>", esc(id), esc(label))).collect();
    format!("<nav aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n{}\n</ol>\n</nav>\n", links.join("\n"))
}

fn legend() -> String {
    let items: Vec<String> = VERDICT_SYMBOLS
        .iter()
        .map(|(v, symbol, meaning)| {
            format!(
                "<li><span class=\"mark {}\">{symbol}</span> {}</li>",
                crate::report::render::verdict_class(*v),
                esc(meaning)
            )
        })
        .collect();
    format!(
        "<aside class=\"legend\">\n<h2>How to read the tables</h2>\n<p>Ours: mean ± standard error over splits. Published numbers in <span class=\"published\">italics</span>, the best of a row in <strong>bold</strong>. Each of our numbers that has a published number to be held to carries a mark:</p>\n<ul>\n{}\n</ul>\n</aside>\n",
        items.join("\n")
    )
}

fn experiment(e: &ExperimentSection) -> String {
    let mut out = format!("<section id=\"{}\">\n<h2>{}</h2>\n", esc(&anchor(&e.name)), esc(&e.name));
    out.push_str(&format!(
        "<p class=\"description\">{} <span class=\"profile\">profile {}</span></p>\n",
        esc(&e.description),
        esc(&e.profile)
    ));
    let [within, better, worse] = verdict_counts(&e.tables);
    if within + better + worse > 0 {
        out.push_str(&format!(
            "<p class=\"verdicts\">Marked cells: {within} within 2 SE, {better} better, {worse} worse.</p>\n"
        ));
    }
    for t in &e.tables {
        out.push_str(&table(t));
    }
    for f in &e.figures {
        out.push_str(&figure(f));
    }
    out.push_str("<h3>Provenance</h3>\n");
    out.push_str(&pairs(&e.provenance));
    out.push_str("<h3>What is recorded</h3>\n");
    match &e.coverage {
        Ok(lines) => {
            out.push_str("<table class=\"coverage\">\n<thead><tr><th scope=\"col\">Part</th><th scope=\"col\">Units recorded</th><th scope=\"col\">Units not recorded</th></tr></thead>\n<tbody>\n");
            for l in lines {
                out.push_str(&format!(
                    "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>\n",
                    esc(&l.what),
                    l.recorded,
                    if l.to_train == 0 { "none".to_string() } else { format!("{} (not run yet)", l.to_train) }
                ));
            }
            out.push_str("</tbody>\n</table>\n");
        }
        Err(why) => out.push_str(&format!("<p>{}</p>\n", esc(why))),
    }
    out.push_str("</section>\n");
    out
}

fn verification(content: &ReportContent) -> String {
    let mut out = "<section id=\"verification\">\n<h2>Verification</h2>\n".to_string();
    match &content.verify {
        None => out.push_str("<p>No <code>mcdrop verify</code> report under <code>results/verify/</code> yet.</p>\n"),
        Some(v) => {
            out.push_str(&format!(
                "<p>The latest <code>mcdrop verify</code>, started {} by commit <code>{}</code> on {}: committed units rerun from scratch and compared (<a href=\"{}\">its report</a>).</p>\n",
                esc(&v.started),
                esc(&v.head_commit[..12.min(v.head_commit.len())]),
                esc(&v.machine),
                esc(&v.link)
            ));
            out.push_str("<table class=\"verify\">\n<thead><tr><th scope=\"col\">Experiment</th><th scope=\"col\">Identical</th><th scope=\"col\">Consistent</th><th scope=\"col\">Inconsistent</th></tr></thead>\n<tbody>\n");
            for (name, [same, close, off]) in &v.experiments {
                out.push_str(&format!(
                    "<tr><th scope=\"row\">{}</th><td>{same}</td><td>{close}</td><td class=\"{}\">{off}</td></tr>\n",
                    esc(name),
                    if *off > 0 { "v-worse" } else { "" }
                ));
            }
            out.push_str("</tbody>\n</table>\n");
            if v.not_run > 0 {
                out.push_str(&format!(
                    "<p>{} program(s) of its sample were left out by its time budget.</p>\n",
                    v.not_run
                ));
            }
            for s in &v.skipped {
                out.push_str(&format!("<p>Not rerun: {}</p>\n", esc(s)));
            }
        }
    }
    out.push_str("<p>A fresh rerun of everything (<code>make reproduce FRESH=1</code>) ends with <code>mcdrop compare</code>, set by set.</p>\n</section>\n");
    out
}

fn plan(content: &ReportContent) -> String {
    let mut out = "<section id=\"plan\">\n<h2>What make reproduce would still train</h2>\n".to_string();
    out.push_str("<table class=\"plan\">\n<thead><tr><th scope=\"col\">Spec</th><th scope=\"col\">Units recorded</th><th scope=\"col\">Units to train</th><th scope=\"col\">Estimate</th></tr></thead>\n<tbody>\n");
    for l in &content.plan {
        out.push_str(&format!(
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&l.spec),
            l.recorded,
            l.to_train,
            esc(&l.estimate)
        ));
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    out
}

fn table(t: &crate::report::render::Table) -> String {
    format!("<div class=\"table-wrap\">\n{}</div>\n", t.render(TableFormat::Html))
}

fn figure(f: &FigureBlock) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(&f.bytes);
    format!(
        "<figure>\n<img src=\"data:{};base64,{data}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
        f.mime,
        esc(&f.title),
        esc(&f.title)
    )
}

fn pairs(items: &[(String, String)]) -> String {
    let rows: Vec<String> = items.iter().map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v))).collect();
    format!("<dl class=\"facts\">\n{}\n</dl>\n", rows.join("\n"))
}

/// An id for an experiment's section: its name (names are file stems, so safe in a URL).
fn anchor(name: &str) -> String {
    format!("exp-{name}")
}
