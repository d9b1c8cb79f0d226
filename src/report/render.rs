//! The one table model of every report (title, typed columns, rows of typed cells) and the one
//! renderer that writes it as markdown, CSV or LaTeX, with one quoting rule for CSV.
//!
//! A statistic cell is `mean ± standard error`: in markdown and LaTeX one formatted cell, in
//! CSV two full-precision fields `<name>_mean,<name>_se`, so analysis code reads the numbers
//! and not their rounding.

use super::format::TableFormat;
use super::stat::{format_stat, Stat};

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
    /// with; `bold` marks the best of a row.
    Stat {
        stat: Stat,
        published: bool,
        bold: bool,
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
        stat.map_or(Cell::Missing, |stat| Cell::Stat { stat, published, bold: false })
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
        }
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
        Cell::Stat { stat, published, bold: true } => bold(&format_stat(*stat, plus_minus, *published)),
        Cell::Stat { stat, published, bold: false } => format_stat(*stat, plus_minus, *published),
    }
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
                    Cell::Stat { stat: (2.5, 0.1), published: false, bold: true },
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
