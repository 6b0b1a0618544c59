//! 2-D rasterisation: signed-distance shapes with analytic anti-aliasing, simple
//! materials (stripes, checks, denim, cylindrical shading) and value noise.
//!
//! Shapes live in "body space" (person height = 1, y down, x = 0 the body axis);
//! an [`Xf`] maps body space to pixels, mirrored for people facing left.
pub type Rgb = [f32; 3];

pub fn rgb8(c: [u8; 3]) -> Rgb {
    [
        c[0] as f32 / 255.0,
        c[1] as f32 / 255.0,
        c[2] as f32 / 255.0,
    ]
}

pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

pub fn scale(a: Rgb, f: f32) -> Rgb {
    [a[0] * f, a[1] * f, a[2] * f]
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Integer hash → [-1, 1].
pub fn hash2(x: i32, y: i32, salt: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x8da6_b343)
        ^ (y as u32).wrapping_mul(0xd816_3841)
        ^ salt.wrapping_mul(0xcb1a_b31f);
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    (h & 0xffff) as f32 / 32767.5 - 1.0
}

type P = (f32, f32);

fn dot(a: P, b: P) -> f32 {
    a.0 * b.0 + a.1 * b.1
}

#[derive(Debug, Clone)]
pub enum Shape {
    Ellipse {
        c: P,
        r: P,
    },
    /// A segment with radius `ra` at `a` and `rb` at `b` (tapered limb).
    Capsule {
        a: P,
        b: P,
        ra: f32,
        rb: f32,
    },
    Poly(Vec<P>),
    RRect {
        c: P,
        h: P,
        r: f32,
    },
    /// The half plane y < `0` (`above: true`) or y > `0`.
    Half {
        y: f32,
        above: bool,
    },
    Inter(Box<Shape>, Box<Shape>),
    Sub(Box<Shape>, Box<Shape>),
}

pub fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32) -> Shape {
    Shape::Ellipse {
        c: (cx, cy),
        r: (rx, ry),
    }
}
pub fn capsule(a: P, b: P, ra: f32, rb: f32) -> Shape {
    Shape::Capsule { a, b, ra, rb }
}
pub fn rrect(cx: f32, cy: f32, hx: f32, hy: f32, r: f32) -> Shape {
    Shape::RRect {
        c: (cx, cy),
        h: (hx, hy),
        r: r.min(hx).min(hy),
    }
}
pub fn poly(p: &[P]) -> Shape {
    Shape::Poly(p.to_vec())
}
pub fn inter(a: Shape, b: Shape) -> Shape {
    Shape::Inter(Box::new(a), Box::new(b))
}
pub fn sub(a: Shape, b: Shape) -> Shape {
    Shape::Sub(Box::new(a), Box::new(b))
}
pub fn above(y: f32) -> Shape {
    Shape::Half { y, above: true }
}
pub fn below(y: f32) -> Shape {
    Shape::Half { y, above: false }
}

const INF: f32 = 1e6;

impl Shape {
    /// Signed distance (negative inside), in body units.
    pub fn sdf(&self, x: f32, y: f32) -> f32 {
        match self {
            Shape::Ellipse { c, r } => {
                let (px, py) = (x - c.0, y - c.1);
                let k0 = ((px / r.0).powi(2) + (py / r.1).powi(2)).sqrt();
                let k1 = ((px / (r.0 * r.0)).powi(2) + (py / (r.1 * r.1)).powi(2)).sqrt();
                if k1 < 1e-9 {
                    -r.0.min(r.1)
                } else {
                    k0 * (k0 - 1.0) / k1
                }
            }
            Shape::Capsule { a, b, ra, rb } => {
                let pa = (x - a.0, y - a.1);
                let ba = (b.0 - a.0, b.1 - a.1);
                let bb = dot(ba, ba).max(1e-12);
                let t = (dot(pa, ba) / bb).clamp(0.0, 1.0);
                let r = ra + (rb - ra) * t;
                let d = (pa.0 - ba.0 * t, pa.1 - ba.1 * t);
                dot(d, d).sqrt() - r
            }
            Shape::Poly(v) => {
                let n = v.len();
                let p = (x, y);
                let w0 = (p.0 - v[0].0, p.1 - v[0].1);
                let mut d = dot(w0, w0);
                let mut s = 1.0f32;
                let mut j = n - 1;
                for i in 0..n {
                    let e = (v[j].0 - v[i].0, v[j].1 - v[i].1);
                    let w = (p.0 - v[i].0, p.1 - v[i].1);
                    let t = (dot(w, e) / dot(e, e).max(1e-12)).clamp(0.0, 1.0);
                    let b = (w.0 - e.0 * t, w.1 - e.1 * t);
                    d = d.min(dot(b, b));
                    let c1 = p.1 >= v[i].1;
                    let c2 = p.1 < v[j].1;
                    let c3 = e.0 * w.1 > e.1 * w.0;
                    if (c1 && c2 && c3) || (!c1 && !c2 && !c3) {
                        s = -s;
                    }
                    j = i;
                }
                s * d.sqrt()
            }
            Shape::RRect { c, h, r } => {
                let qx = (x - c.0).abs() - h.0 + r;
                let qy = (y - c.1).abs() - h.1 + r;
                let out = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
                out + qx.max(qy).min(0.0) - r
            }
            Shape::Half { y: y0, above } => {
                if *above {
                    y - y0
                } else {
                    y0 - y
                }
            }
            Shape::Inter(a, b) => a.sdf(x, y).max(b.sdf(x, y)),
            Shape::Sub(a, b) => a.sdf(x, y).max(-b.sdf(x, y)),
        }
    }

    /// Bounding box (min x, min y, max x, max y) in body units.
    pub fn bbox(&self) -> (f32, f32, f32, f32) {
        match self {
            Shape::Ellipse { c, r } => (c.0 - r.0, c.1 - r.1, c.0 + r.0, c.1 + r.1),
            Shape::Capsule { a, b, ra, rb } => {
                let r = ra.max(*rb);
                (
                    a.0.min(b.0) - r,
                    a.1.min(b.1) - r,
                    a.0.max(b.0) + r,
                    a.1.max(b.1) + r,
                )
            }
            Shape::Poly(v) => v.iter().fold((INF, INF, -INF, -INF), |b, p| {
                (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
            }),
            Shape::RRect { c, h, .. } => (c.0 - h.0, c.1 - h.1, c.0 + h.0, c.1 + h.1),
            Shape::Half { y, above } => {
                if *above {
                    (-INF, -INF, INF, *y)
                } else {
                    (-INF, *y, INF, INF)
                }
            }
            Shape::Inter(a, b) => {
                let (a, b) = (a.bbox(), b.bbox());
                (a.0.max(b.0), a.1.max(b.1), a.2.min(b.2), a.3.min(b.3))
            }
            Shape::Sub(a, _) => a.bbox(),
        }
    }

    /// Position across the shape's width in [-1, 1] (for cylindrical shading).
    fn across(&self, x: f32, y: f32, bb: (f32, f32, f32, f32)) -> f32 {
        match self {
            Shape::Capsule { a, b, ra, rb } => {
                let ba = (b.0 - a.0, b.1 - a.1);
                let len = dot(ba, ba).sqrt().max(1e-9);
                let pa = (x - a.0, y - a.1);
                let t = (dot(pa, ba) / (len * len)).clamp(0.0, 1.0);
                let r = ra + (rb - ra) * t;
                ((ba.0 * pa.1 - ba.1 * pa.0) / len / r).clamp(-1.0, 1.0)
            }
            _ => {
                let cx = 0.5 * (bb.0 + bb.2);
                let hw = (0.5 * (bb.2 - bb.0)).max(1e-6);
                ((x - cx) / hw).clamp(-1.0, 1.0)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Pat {
    Plain,
    /// Horizontal stripes.
    Stripes {
        c2: Rgb,
        period: f32,
    },
    /// Plaid: crossing bands of `c2`.
    Check {
        c2: Rgb,
        period: f32,
    },
    Denim,
}

#[derive(Debug, Clone, Copy)]
pub struct Mat {
    pub base: Rgb,
    pub pat: Pat,
    /// Strength of the cylindrical shading (0 = flat).
    pub shade: f32,
    /// Amplitude of per-pixel fabric noise.
    pub tex: f32,
    pub alpha: f32,
}

impl Mat {
    pub fn solid(base: Rgb) -> Mat {
        Mat {
            base,
            pat: Pat::Plain,
            shade: 0.5,
            tex: 0.015,
            alpha: 1.0,
        }
    }
    pub fn flat(base: Rgb) -> Mat {
        Mat {
            base,
            pat: Pat::Plain,
            shade: 0.0,
            tex: 0.0,
            alpha: 1.0,
        }
    }
    pub fn with_alpha(mut self, a: f32) -> Mat {
        self.alpha = a;
        self
    }
    pub fn darker(mut self, f: f32) -> Mat {
        self.base = scale(self.base, f);
        if let Pat::Stripes { c2, .. } | Pat::Check { c2, .. } = &mut self.pat {
            *c2 = scale(*c2, f);
        }
        self
    }

    fn paint(&self, x: f32, y: f32, u: f32, px: f32, ix: i32, iy: i32) -> Rgb {
        let tau = std::f32::consts::TAU;
        let mut c = self.base;
        match self.pat {
            Pat::Plain => {}
            Pat::Stripes { c2, period } => {
                let w = (px / period * tau).min(2.0);
                c = mix(c, c2, smoothstep(-w, w, (y / period * tau).sin()));
            }
            Pat::Check { c2, period } => {
                let w = (px / period * tau * 0.5).min(2.0);
                let mx = smoothstep(0.5 - w, 0.5 + w, (x / period * tau).sin());
                let my = smoothstep(0.5 - w, 0.5 + w, (y / period * tau).sin());
                c = mix(c, c2, 0.55 * (mx + my).min(1.6));
            }
            Pat::Denim => {
                let twill = ((x + y) / 0.007 * tau).sin() * 0.03;
                let fade = 0.12 * (1.0 - u * u);
                c = mix(c, [0.85, 0.9, 1.0], fade);
                c = scale(c, 1.0 + twill + 0.05 * hash2(ix, iy, 7));
            }
        }
        let f =
            1.0 - self.shade * 0.45 * u * u - self.shade * 0.1 * u + self.tex * hash2(ix, iy, 3);
        scale(c, f)
    }
}

/// Body space → pixels: X = ox ± x·s, Y = oy + y·s.
#[derive(Debug, Clone, Copy)]
pub struct Xf {
    pub s: f32,
    pub ox: f32,
    pub oy: f32,
    pub flip: bool,
}

pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<Rgb>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![[0.0; 3]; w * h],
        }
    }

    pub fn fill(&mut self, xf: &Xf, shape: &Shape, mat: &Mat) {
        let bb = shape.bbox();
        if bb.0 >= bb.2 || bb.1 >= bb.3 {
            return;
        }
        let (xa, xb) = if xf.flip {
            (xf.ox - bb.2 * xf.s, xf.ox - bb.0 * xf.s)
        } else {
            (xf.ox + bb.0 * xf.s, xf.ox + bb.2 * xf.s)
        };
        let x0 = (xa - 1.0).floor().max(0.0) as usize;
        let x1 = ((xb + 1.0).ceil().max(0.0) as usize).min(self.w);
        let y0 = ((xf.oy + bb.1 * xf.s) - 1.0).floor().max(0.0) as usize;
        let y1 = (((xf.oy + bb.3 * xf.s) + 1.0).ceil().max(0.0) as usize).min(self.h);
        let inv = 1.0 / xf.s;
        let sign = if xf.flip { -1.0 } else { 1.0 };
        for iy in y0..y1 {
            let by = (iy as f32 + 0.5 - xf.oy) * inv;
            for ix in x0..x1 {
                let bx = (ix as f32 + 0.5 - xf.ox) * inv * sign;
                let d = shape.sdf(bx, by) * xf.s;
                let cov = (0.5 - d).clamp(0.0, 1.0) * mat.alpha;
                if cov <= 0.0 {
                    continue;
                }
                let u = shape.across(bx, by, bb) * sign;
                let c = mat.paint(bx, by, u, inv, ix as i32, iy as i32);
                let p = &mut self.px[iy * self.w + ix];
                *p = mix(*p, c, cov);
            }
        }
    }
}

/// Bilinear value noise on a periodic grid, values in [0, 1].
pub struct Noise {
    n: usize,
    g: Vec<f32>,
}

impl Noise {
    pub fn new<R: rand::Rng + ?Sized>(rng: &mut R, n: usize) -> Noise {
        Noise {
            n,
            g: (0..n * n).map(|_| rng.gen::<f32>()).collect(),
        }
    }
    /// `u`, `v` in grid cells.
    pub fn at(&self, u: f32, v: f32) -> f32 {
        let n = self.n as i64;
        let (fu, fv) = (u.floor(), v.floor());
        let (tu, tv) = (u - fu, v - fv);
        let (tu, tv) = (tu * tu * (3.0 - 2.0 * tu), tv * tv * (3.0 - 2.0 * tv));
        let (iu, iv) = (fu as i64, fv as i64);
        let g = |a: i64, b: i64| self.g[(a.rem_euclid(n) * n + b.rem_euclid(n)) as usize];
        let a = g(iu, iv) + (g(iu + 1, iv) - g(iu, iv)) * tu;
        let b = g(iu, iv + 1) + (g(iu + 1, iv + 1) - g(iu, iv + 1)) * tu;
        a + (b - a) * tv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdf_signs() {
        let s = [
            ellipse(0.0, 0.0, 0.2, 0.1),
            capsule((0.0, -0.1), (0.0, 0.1), 0.05, 0.03),
            poly(&[(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)]),
            rrect(0.0, 0.0, 0.1, 0.1, 0.02),
        ];
        for sh in &s {
            assert!(sh.sdf(0.0, 0.0) < 0.0, "{sh:?}");
            assert!(sh.sdf(0.5, 0.5) > 0.0, "{sh:?}");
        }
        let p = poly(&[(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)]);
        assert!((p.sdf(0.3, 0.0) - 0.2).abs() < 1e-5);
        assert!((p.sdf(0.0, 0.0) + 0.1).abs() < 1e-5);
    }
}
