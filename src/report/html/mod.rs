//! The reviewer's page: one self-contained HTML file (figures inlined as SVG data URIs, no
//! script, no network) with every table beside the published numbers and each verdict marked,
//! every figure, per experiment its provenance and what is recorded, the latest verification
//! and what `make reproduce` would still train. `content` is what the page says (built from
//! the records by the same code as `mcdrop table` and `plot`); `page` lays it out.

pub mod content;
pub mod page;

pub use content::{Coverage, ExperimentSection, FigureBlock, PlanLine, ReportContent, VerifySummary};
pub use page::page;
