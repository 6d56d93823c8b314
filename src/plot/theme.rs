//! The figures' constants: the embedded font, text sizes, the ink colours,
//! and the drawing result type. A leaf: it imports nothing from `plot`.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// DejaVu Sans, embedded so plots never depend on the fonts of the machine.
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family every text style names.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font could not be loaded".into())
    }
}

/// A drawing error, as text (plotters' errors are generic over the backend).
#[derive(Debug)]
pub struct PlotError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError(e.to_string())
    }
}

/// Result of drawing.
pub type PResult<T = ()> = Result<T, PlotError>;
/// A drawing area in pixels.
pub type Area<DB> = DrawingArea<DB, Shift>;

/// Font sizes in pixels.
pub mod size {
    /// Figure title.
    pub const TITLE: u32 = 26;
    /// Line under the title.
    pub const SUBTITLE: u32 = 16;
    /// Panel caption.
    pub const PANEL: u32 = 16;
    /// Axis description.
    pub const DESC: u32 = 16;
    /// Tick labels.
    pub const TICK: u32 = 14;
    /// Legend entries.
    pub const LEGEND: u32 = 16;
}

/// Near-black text.
pub const INK: RGBColor = RGBColor(34, 34, 34);
/// Secondary text.
pub const MUTED: RGBColor = RGBColor(96, 96, 96);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(226, 226, 226);
/// Axis lines.
pub const AXIS: RGBColor = RGBColor(120, 120, 120);
