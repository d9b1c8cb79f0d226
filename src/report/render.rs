//! The one table model of every report (title, typed columns, rows of typed cells) and the one
//! renderer that writes it as markdown, CSV, LaTeX or an HTML fragment, with one quoting rule
//! for CSV.
//!
//! A statistic cell is `mean ± standard error`: in markdown and LaTeX one formatted cell, in
//! CSV two full-precision fields `<name>_mean,<name>_se`, so analysis code reads the numbers
//! and not their rounding.

use super::format::TableFormat;
use super::stat::{format_stat, Stat, Verdict};

/// One column: its header, its CSV name, and whether it holds statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    /// The CSV field name (a statistic column expands to `<csv>_mean,<csv>_se`).
    pub csv: String,
    pub stats: bool,
}

impl Column {
    /// A column of text cells whose CSV field is named `csv`.
    pub fn text(label: impl Into<String>, csv: impl Into<String>) -> Column {
        Column { label: label.into(), csv: csv.into(), stats: false }
    }

    /// A text column whose CSV field is its header.
    pub fn plain(label: impl Into<String>) -> Column {
        let label = label.into();
        Column { csv: label.clone(), label, stats: false }
    }

    /// A column of statistics; its CSV fields are named after a slug of its header.
    pub fn stats(label: impl Into<String>) -> Column {
        let label = label.into();
        Column { csv: slug(&label), label, stats: true }
    }
}

/// `RMSE (ref. code)` -> `rmse_ref_code`.
fn slug(label: &str) -> String {
    label.to_lowercase().replace(['(', ')', '.'], "").split_whitespace().collect::<Vec<_>>().join("_")
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A mean and standard error; published numbers keep the two decimals they were printed
    /// with; `bold` marks the best of a row; `mark` is our number's verdict against the
    /// published one it is held to (shown by the HTML page; the text formats carry it in a
    /// verdict column of their own where they have one).
    Stat {
        stat: Stat,
        published: bool,
        bold: bool,
        mark: Option<Verdict>,
    },
    /// No value: `-` in markdown and LaTeX, empty in CSV.
    Missing,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// Ours (`published = false`) or a published number, or `Missing`.
    pub fn stat(stat: Option<Stat>, published: bool) -> Cell {
        stat.map_or(Cell::Missing, |stat| Cell::Stat { stat, published, bold: false, mark: None })
    }

    /// This cell with `verdict` as its mark (statistics only; other cells are returned as
    /// they are).
    pub fn marked(self, verdict: Option<Verdict>) -> Cell {
        match self {
            Cell::Stat { stat, published, bold, .. } => Cell::Stat { stat, published, bold, mark: verdict },
            other => other,
        }
    }
}

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table of ready-made text cells whose CSV fields are named by their headers (the
    /// MNIST and CO2 tables).
    pub fn of_text(title: &str, header: &[impl AsRef<str>], rows: Vec<Vec<String>>) -> Table {
        Table {
            title: title.to_string(),
            columns: header.iter().map(|h| Column::plain(h.as_ref())).collect(),
            rows: rows.into_iter().map(|row| row.into_iter().map(Cell::Text).collect()).collect(),
        }
    }

    /// Renders the table; the title becomes a caption line (markdown) or a comment (CSV, LaTeX).
    pub fn render(&self, format: TableFormat) -> String {
        match format {
            TableFormat::Markdown => self.markdown(),
            TableFormat::Latex => self.latex(),
            TableFormat::Csv => self.csv(),
            TableFormat::Html => self.html(),
        }
    }

    /// A `<table>` with the title as its caption. A statistic cell carries its class
    /// (`published`, `best`) and our numbers their verdict's symbol (`VERDICT_SYMBOLS`), so
    /// the marks read without colour.
    fn html(&self) -> String {
        let mut out = format!("<table>\n<caption>{}</caption>\n<thead><tr>", escape_html(&self.title));
        for c in &self.columns {
            out.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(&c.label)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let (tag, end) = if i == 0 { ("<th scope=\"row\"", "</th>") } else { ("<td", "</td>") };
                match cell {
                    Cell::Text(t) => out.push_str(&format!("{tag}>{}{end}", escape_html(t))),
                    Cell::Missing => out.push_str(&format!("{tag} class=\"missing\">-{end}")),
                    Cell::Stat { stat, published, bold, mark } => {
                        let mut classes = vec!["stat"];
                        classes.extend(published.then_some("published"));
                        classes.extend(bold.then_some("best"));
                        let text = escape_html(&format_stat(*stat, " ± ", *published));
                        let text = if *bold { format!("<strong>{text}</strong>") } else { text };
                        let symbol = mark.map_or(String::new(), |v| {
                            classes.push(verdict_class(v));
                            format!(" <span class=\"mark\" title=\"{}\">{}</span>", v.as_str(), verdict_symbol(v))
                        });
                        out.push_str(&format!("{tag} class=\"{}\">{text}{symbol}{end}", classes.join(" ")));
                    }
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }

    fn markdown(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|c| c.label.as_str()).collect();
        let mut out = format!("{}\n\n| {} |\n|{}\n", self.title, header.join(" | "), "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| display(c, " ± ", |t| format!("**{t}**"))).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    fn latex(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|c| c.label.as_str()).collect();
        let mut out = format!(
            "% {}\n\\begin{{tabular}}{{l{}}}\n\\hline\n{} \\\\\n\\hline\n",
            self.title,
            "r".repeat(self.columns.len() - 1),
            header.join(" & ")
        );
        for row in &self.rows {
            let cells: Vec<String> =
                row.iter().map(|c| display(c, " $\\pm$ ", |t| format!("\\textbf{{{t}}}"))).collect();
            out.push_str(&format!("{} \\\\\n", cells.join(" & ").replace('%', "\\%")));
        }
        out.push_str("\\hline\n\\end{tabular}\n");
        out
    }

    fn csv(&self) -> String {
        let mut names = Vec::new();
        for c in &self.columns {
            if c.stats {
                names.extend([format!("{}_mean", c.csv), format!("{}_se", c.csv)]);
            } else {
                names.push(c.csv.clone());
            }
        }
        let mut out = format!("# {}\n{}\n", self.title, join_csv(&names));
        for row in &self.rows {
            let mut fields = Vec::new();
            for (cell, column) in row.iter().zip(&self.columns) {
                match cell {
                    Cell::Stat { stat: (m, s), .. } => fields.extend([m.to_string(), s.to_string()]),
                    Cell::Missing if column.stats => fields.extend([String::new(), String::new()]),
                    Cell::Missing => fields.push(String::new()),
                    Cell::Text(t) => fields.push(t.clone()),
                }
            }
            out.push_str(&join_csv(&fields));
            out.push('\n');
        }
        out
    }
}

/// A markdown or LaTeX cell: `plus_minus` between mean and standard error, `bold` for the best.
fn display(cell: &Cell, plus_minus: &str, bold: fn(&str) -> String) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Missing => "-".into(),
        Cell::Stat { stat, published, bold: true, .. } => bold(&format_stat(*stat, plus_minus, *published)),
        Cell::Stat { stat, published, bold: false, .. } => format_stat(*stat, plus_minus, *published),
    }
}

/// The symbol of a verdict in an HTML table, and what each means (the report's legend).
pub const VERDICT_SYMBOLS: [(Verdict, &str, &str); 3] = [
    (Verdict::Within, "\u{2248}", "within 2 SE of the published number it is held to"),
    (Verdict::Better, "\u{25B2}", "better than the published number by more than 2 SE"),
    (Verdict::Worse, "\u{25BC}", "worse than the published number by more than 2 SE"),
];

pub fn verdict_symbol(v: Verdict) -> &'static str {
    VERDICT_SYMBOLS.iter().find(|(w, _, _)| *w == v).map_or("?", |(_, s, _)| s)
}

/// The CSS class of a marked cell: `v-within`, `v-better`, `v-worse`.
pub fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Within => "v-within",
        Verdict::Better => "v-better",
        Verdict::Worse => "v-worse",
    }
}

/// Text made safe inside HTML elements and double-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fields joined by commas; a field holding a comma or a quote is quoted, quotes doubled.
pub fn join_csv(fields: &[String]) -> String {
    let quote = |c: &String| if c.contains([',', '"']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() };
    fields.iter().map(quote).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "t".into(),
            columns: vec![
                Column::text("Data set", "dataset"),
                Column::stats("RMSE (ref. code)"),
                Column::plain("Note"),
            ],
            rows: vec![
                vec![
                    Cell::text("Boston"),
                    Cell::Stat { stat: (2.5, 0.1), published: false, bold: true, mark: None },
                    Cell::text("a, b"),
                ],
                vec![Cell::text("Yacht"), Cell::Missing, Cell::text("say \"hi\"")],
            ],
        }
    }

    #[test]
    fn renders_each_format_from_one_model() {
        let t = table();
        assert_eq!(
            t.render(TableFormat::Markdown),
            "t\n\n| Data set | RMSE (ref. code) | Note |\n|---|---|---|\n| Boston | **2.50 ± 0.10** | a, b |\n| Yacht | - | say \"hi\" |\n"
        );
        assert_eq!(
            t.render(TableFormat::Csv),
            "# t\ndataset,rmse_ref_code_mean,rmse_ref_code_se,Note\nBoston,2.5,0.1,\"a, b\"\nYacht,,,\"say \"\"hi\"\"\"\n"
        );
        let latex = t.render(TableFormat::Latex);
        assert!(latex.starts_with("% t\n\\begin{tabular}{lrr}\n"), "{latex}");
        assert!(latex.contains("Boston & \\textbf{2.50 $\\pm$ 0.10} & a, b \\\\"), "{latex}");
    }
}
