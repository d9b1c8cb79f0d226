//! The plane geometry of the ConvNetJS rldemo world, ported as written (`demo/js/rldemo.js`
//! lines 4-58 of karpathy/convnetjs; the same lines of yaringal/DropoutUncertaintyDemos'
//! `convnetjs/rldemo_comparison.js`), including its quirks: open-interval hit tests, and an item
//! "hit" placed at the perpendicular foot from the item's centre rather than where the ray
//! enters the circle. The learned behaviour depends on what the eyes report, so the port keeps
//! them rather than fixing them.

use serde::{Deserialize, Serialize};

/// A point or direction in world coordinates (x right, y down, as on the demo's canvas).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vec2 {
    pub x: f64,
    pub y: f64,
}

impl Vec2 {
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    pub fn plus(self, v: Vec2) -> Vec2 {
        Vec2::new(self.x + v.x, self.y + v.y)
    }

    pub fn minus(self, v: Vec2) -> Vec2 {
        Vec2::new(self.x - v.x, self.y - v.y)
    }

    pub fn scale(self, s: f64) -> Vec2 {
        Vec2::new(self.x * s, self.y * s)
    }

    pub fn length(self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }

    pub fn dist_from(self, v: Vec2) -> f64 {
        self.minus(v).length()
    }

    /// Rotation by `a` radians, clockwise on the canvas (the demo's `rotate`).
    pub fn rotate(self, a: f64) -> Vec2 {
        let (sin, cos) = a.sin_cos();
        Vec2::new(self.x * cos + self.y * sin, -self.x * sin + self.y * cos)
    }
}

/// Where a segment from `p1` to `p2` meets something: the fraction `ua` along it (what the
/// closest-hit search compares) and the point reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub ua: f64,
    pub point: Vec2,
}

/// Segment p1-p2 against segment p3-p4 (`line_intersect`): parallel segments never meet, and
/// touching at an end point is no hit (both fractions strictly inside (0, 1)).
pub fn segment_hit(p1: Vec2, p2: Vec2, p3: Vec2, p4: Vec2) -> Option<Hit> {
    let denom = (p4.y - p3.y) * (p2.x - p1.x) - (p4.x - p3.x) * (p2.y - p1.y);
    if denom == 0.0 {
        return None;
    }
    let ua = ((p4.x - p3.x) * (p1.y - p3.y) - (p4.y - p3.y) * (p1.x - p3.x)) / denom;
    let ub = ((p2.x - p1.x) * (p1.y - p3.y) - (p2.y - p1.y) * (p1.x - p3.x)) / denom;
    (ua > 0.0 && ua < 1.0 && ub > 0.0 && ub < 1.0).then(|| Hit { ua, point: p1.plus(p2.minus(p1).scale(ua)) })
}

/// Segment p1-p2 against the circle of `radius` around `centre` (`line_point_intersect`): a
/// hit when the infinite line passes within `radius` and the point `centre + d n` (d the
/// line's distance, n the unit normal (dy, -dx)) projects strictly inside the segment. That
/// point is the perpendicular foot when n points from the centre toward the line, and its
/// mirror image otherwise, as in the demo.
pub fn item_hit(p1: Vec2, p2: Vec2, centre: Vec2, radius: f64) -> Option<Hit> {
    let normal = Vec2::new(p2.y - p1.y, -(p2.x - p1.x));
    let d = ((p2.x - p1.x) * (p1.y - centre.y) - (p1.x - centre.x) * (p2.y - p1.y)).abs() / normal.length();
    if d > radius {
        return None;
    }
    let point = centre.plus(normal.scale(d / normal.length()));
    let ua = if (p2.x - p1.x).abs() > (p2.y - p1.y).abs() {
        (point.x - p1.x) / (p2.x - p1.x)
    } else {
        (point.y - p1.y) / (p2.y - p1.y)
    };
    (ua > 0.0 && ua < 1.0).then_some(Hit { ua, point })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_segments_meet_where_expected() {
        let hit = segment_hit(Vec2::new(0.0, 0.0), Vec2::new(10.0, 0.0), Vec2::new(4.0, -1.0), Vec2::new(4.0, 1.0));
        let hit = hit.expect("they cross");
        assert!((hit.ua - 0.4).abs() < 1e-12);
        assert!((hit.point.x - 4.0).abs() < 1e-12 && hit.point.y.abs() < 1e-12);
    }

    #[test]
    fn parallel_or_touching_segments_do_not_meet() {
        let (a, b) = (Vec2::new(0.0, 0.0), Vec2::new(10.0, 0.0));
        assert!(segment_hit(a, b, Vec2::new(0.0, 1.0), Vec2::new(10.0, 1.0)).is_none());
        // Touching at an end point is outside the open interval.
        assert!(segment_hit(a, b, Vec2::new(10.0, -1.0), Vec2::new(10.0, 1.0)).is_none());
        assert!(segment_hit(a, b, Vec2::new(12.0, -1.0), Vec2::new(12.0, 1.0)).is_none());
    }

    #[test]
    fn an_item_is_seen_at_the_foot_of_the_perpendicular_from_its_centre() {
        // The ray runs along +x; an item centred 3 below it (y = +3) at x = 40.
        let hit = item_hit(Vec2::new(0.0, 0.0), Vec2::new(85.0, 0.0), Vec2::new(40.0, 3.0), 10.0).expect("seen");
        assert!((hit.point.x - 40.0).abs() < 1e-12);
        // n = (0, -85) points up, from the centre toward the ray: the true foot.
        assert!(hit.point.y.abs() < 1e-12);
        assert!((hit.ua - 40.0 / 85.0).abs() < 1e-12);
        // Centred above the ray, n still points up: the mirror point 3 above the centre.
        let mirrored = item_hit(Vec2::new(0.0, 0.0), Vec2::new(85.0, 0.0), Vec2::new(40.0, -3.0), 10.0).unwrap();
        assert!((mirrored.point.y + 6.0).abs() < 1e-12);
    }

    #[test]
    fn an_item_off_the_ray_or_beyond_it_is_not_seen() {
        let (a, b) = (Vec2::new(0.0, 0.0), Vec2::new(85.0, 0.0));
        assert!(item_hit(a, b, Vec2::new(40.0, 10.5), 10.0).is_none());
        assert!(item_hit(a, b, Vec2::new(90.0, 0.0), 10.0).is_none());
        assert!(item_hit(a, b, Vec2::new(-5.0, 0.0), 10.0).is_none());
    }

    #[test]
    fn rotation_is_clockwise_on_the_canvas() {
        let v = Vec2::new(1.0, 0.0).rotate(std::f64::consts::FRAC_PI_2);
        assert!(v.x.abs() < 1e-12 && (v.y + 1.0).abs() < 1e-12);
    }
}
