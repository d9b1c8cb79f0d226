//! A table of ready-made text cells in markdown, CSV or LaTeX: what the MNIST and CO2 tables
//! need (the UCI tables format mean +- std-error pairs themselves).

use crate::cli::TableFormat;

/// Renders `rows` under `header`; `title` becomes a caption line (markdown) or a comment.
pub fn render(title: &str, header: &[&str], rows: &[Vec<String>], format: TableFormat) -> String {
    let mut out = String::new();
    match format {
        TableFormat::Markdown => {
            out.push_str(&format!("{title}\n\n| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len())));
            for row in rows {
                out.push_str(&format!("| {} |\n", row.join(" | ")));
            }
        }
        TableFormat::Latex => {
            out.push_str(&format!(
                "% {title}\n\\begin{{tabular}}{{l{}}}\n\\hline\n{} \\\\\n\\hline\n",
                "r".repeat(header.len() - 1),
                header.join(" & ")
            ));
            for row in rows {
                out.push_str(&format!("{} \\\\\n", row.join(" & ").replace('%', "\\%")));
            }
            out.push_str("\\hline\n\\end{tabular}\n");
        }
        TableFormat::Csv => {
            let quote = |c: &str| {
                if c.contains([',', '"']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.to_string()
                }
            };
            out.push_str(&format!("# {title}\n{}\n", header.iter().map(|h| quote(h)).collect::<Vec<_>>().join(",")));
            for row in rows {
                out.push_str(&format!("{}\n", row.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_format() {
        let rows = vec![vec!["a".to_string(), "1,5".to_string()]];
        assert_eq!(render("t", &["x", "y"], &rows, TableFormat::Markdown), "t\n\n| x | y |\n|---|---|\n| a | 1,5 |\n");
        assert_eq!(render("t", &["x", "y"], &rows, TableFormat::Csv), "# t\nx,y\na,\"1,5\"\n");
        assert!(render("t", &["x", "y"], &rows, TableFormat::Latex).contains("a & 1,5 \\\\"));
    }
}
