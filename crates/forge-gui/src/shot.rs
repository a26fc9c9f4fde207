//! Screenshots of widgets without a compositor: `WidgetPaintable` ->
//! snapshot -> render node -> texture -> PNG, plus a blank check (pixel
//! variance) so a test can tell a real screen from an empty one.

use gtk::prelude::*;
use gtk::{gdk, glib, graphene};

/// Renders `widget` (realized, in a window) to a texture.
pub fn texture_of(widget: &impl IsA<gtk::Widget>) -> Option<gdk::Texture> {
    let widget = widget.as_ref();
    let w = widget.width();
    let h = widget.height();
    if w <= 0 || h <= 0 {
        return None;
    }
    let paintable = gtk::WidgetPaintable::new(Some(widget));
    let snapshot = gtk::Snapshot::new();
    // Opaque window background under the widget, as on screen.
    let bg = gdk::RGBA::parse("#fafafa").unwrap_or(gdk::RGBA::WHITE);
    snapshot.append_color(&bg, &graphene::Rect::new(0.0, 0.0, w as f32, h as f32));
    paintable.snapshot(&snapshot, f64::from(w), f64::from(h));
    let node = snapshot.to_node()?;
    let renderer = widget.native()?.renderer()?;
    Some(renderer.render_texture(
        &node,
        Some(&graphene::Rect::new(0.0, 0.0, w as f32, h as f32)),
    ))
}

/// Variance of the grey level over all pixels (0 for a blank image).
pub fn pixel_variance(texture: &gdk::Texture) -> f64 {
    let w = texture.width() as usize;
    let h = texture.height() as usize;
    let stride = w * 4;
    let mut data = vec![0u8; stride * h];
    texture.download(&mut data, stride);
    let n = (w * h) as f64;
    if n == 0.0 {
        return 0.0;
    }
    let grey = |p: &[u8]| (f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2])) / 3.0;
    let mean: f64 = data.chunks_exact(4).map(grey).sum::<f64>() / n;
    data.chunks_exact(4)
        .map(|p| (grey(p) - mean).powi(2))
        .sum::<f64>()
        / n
}

/// Saves a PNG of `widget` at `path`; returns its pixel variance.
pub fn save_png(widget: &impl IsA<gtk::Widget>, path: &std::path::Path) -> Result<f64, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tex = texture_of(widget).ok_or_else(|| "widget not realized or empty".to_string())?;
    tex.save_to_png(path)
        .map_err(|e: glib::BoolError| format!("{}: {e}", path.display()))?;
    Ok(pixel_variance(&tex))
}
