//! Drawing a person into a scene: pose, body, clothes, carried things, background,
//! light and camera degradations.
use std::f32::consts::{PI, TAU};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::*;
use super::person::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundKind {
    Street,
    Park,
    Indoor,
    Road,
    Wall,
    Plaza,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occluder {
    /// A vertical pole in front of the person.
    Pole,
    /// Part of another pedestrian at the image edge.
    Passerby,
    /// A short post in the foreground.
    Bollard,
}

/// Everything about one image except the person: view, pose, placement, background,
/// light and degradations. [`Scene::sample`] draws it from a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub view: View,
    /// Walking phase, radians.
    pub phase: f32,
    /// Leg swing amplitude, radians (small: standing).
    pub stride: f32,
    /// Person height as a fraction of the image height.
    pub person_height: f32,
    /// Placement jitter in [-1, 1]².
    pub offset: (f32, f32),
    pub background: BackgroundKind,
    pub brightness: f32,
    pub contrast: f32,
    /// Per-channel gain (colour cast).
    pub cast: [f32; 3],
    /// Gaussian blur sigma in pixels (0: none).
    pub blur: f32,
    /// Standard deviation of pixel noise (0–1 scale).
    pub noise: f32,
    /// In-memory JPEG round trip at this quality.
    pub jpeg_quality: Option<u8>,
    /// Render at this fraction of the size and upscale (low-resolution camera).
    pub low_res: Option<f32>,
    pub occluder: Option<Occluder>,
    /// Seed of the background and noise.
    pub seed: u64,
}

impl Scene {
    pub fn sample(view_seed: u64) -> Scene {
        let mut r = ChaCha8Rng::seed_from_u64(view_seed);
        let view = View::ALL[weighted(&mut r, &[0.36, 0.34, 0.15, 0.15])];
        let phase = r.gen_range(0.0..TAU);
        let stride = if r.gen_bool(0.15) {
            r.gen_range(0.04..0.12)
        } else {
            r.gen_range(0.2..0.42)
        };
        let person_height = r.gen_range(0.8..0.95);
        let offset = (r.gen_range(-1.0..1.0), r.gen_range(-1.0..1.0));
        let background = [
            BackgroundKind::Street,
            BackgroundKind::Park,
            BackgroundKind::Indoor,
            BackgroundKind::Road,
            BackgroundKind::Wall,
            BackgroundKind::Plaza,
        ][r.gen_range(0..6)];
        let brightness = r.gen_range(-0.12..0.1);
        let contrast = r.gen_range(0.8..1.12);
        let cast = [
            r.gen_range(0.93..1.07),
            r.gen_range(0.95..1.05),
            r.gen_range(0.93..1.07),
        ];
        let blur = if r.gen_bool(0.35) {
            r.gen_range(0.4..1.1)
        } else {
            0.0
        };
        let noise = r.gen_range(0.0..0.03);
        let jpeg_quality = if r.gen_bool(0.5) {
            Some(r.gen_range(35..92))
        } else {
            None
        };
        let low_res = if r.gen_bool(0.2) {
            Some(r.gen_range(0.45..0.75))
        } else {
            None
        };
        let occluder = if r.gen_bool(0.12) {
            Some([Occluder::Pole, Occluder::Passerby, Occluder::Bollard][r.gen_range(0..3)])
        } else {
            None
        };
        Scene {
            view,
            phase,
            stride,
            person_height,
            offset,
            background,
            brightness,
            contrast,
            cast,
            blur,
            noise,
            jpeg_quality,
            low_res,
            occluder,
            seed: r.gen(),
        }
    }
}

/// Renders `attrs` in the scene drawn from `view_seed` (see [`Scene::sample`]).
pub fn render_person(
    attrs: &PersonAttributes,
    view_seed: u64,
    width: u32,
    height: u32,
) -> image::RgbImage {
    render_scene(attrs, &Scene::sample(view_seed), width, height)
}

/// Renders `attrs` in `scene` as a `width`×`height` crop.
pub fn render_scene(
    attrs: &PersonAttributes,
    scene: &Scene,
    width: u32,
    height: u32,
) -> image::RgbImage {
    let (width, height) = (width.max(8), height.max(16));
    let f = scene.low_res.unwrap_or(1.0);
    let rw = ((width as f32 * f).round() as usize).max(8);
    let rh = ((height as f32 * f).round() as usize).max(16);
    let mut rng = ChaCha8Rng::seed_from_u64(scene.seed);
    let mut canvas = Canvas::new(rw, rh);
    background(&mut canvas, scene.background, &mut rng);
    draw_person(&mut canvas, attrs, scene);
    occlude(&mut canvas, scene, attrs, &mut rng);
    post(&mut canvas, scene, &mut rng);
    let mut img = image::RgbImage::from_fn(rw as u32, rh as u32, |x, y| {
        let c = canvas.px[y as usize * rw + x as usize];
        image::Rgb([to8(c[0]), to8(c[1]), to8(c[2])])
    });
    if rw as u32 != width || rh as u32 != height {
        img = image::imageops::resize(&img, width, height, image::imageops::FilterType::Triangle);
    }
    if let Some(q) = scene.jpeg_quality {
        if let Some(j) = jpeg_round_trip(&img, q) {
            img = j;
        }
    }
    img
}

fn to8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

pub(crate) fn jpeg_round_trip(img: &image::RgbImage, quality: u8) -> Option<image::RgbImage> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .ok()?;
    image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .ok()
        .map(|i| i.to_rgb8())
}

// ---------------------------------------------------------------- colours, details

const SKIN: [[u8; 3]; 6] = [
    [250, 222, 198],
    [238, 194, 164],
    [222, 170, 130],
    [194, 136, 98],
    [142, 92, 62],
    [98, 64, 44],
];

fn jitter(r: &mut ChaCha8Rng, c: [u8; 3]) -> Rgb {
    let l = r.gen_range(0.9..1.08);
    let mut o = rgb8(c);
    for v in &mut o {
        *v = (*v * l + r.gen_range(-0.025..0.025)).clamp(0.0, 1.0);
    }
    o
}

fn jeans_rgb(c: Colour) -> [u8; 3] {
    match c {
        Colour::Blue => [74, 106, 160],
        Colour::Navy => [38, 50, 92],
        Colour::Black => [40, 40, 46],
        Colour::Grey => [112, 112, 118],
        other => other.rgb(),
    }
}

/// Identity-consistent colours and details (from `detail_seed`).
struct Look {
    skin: Rgb,
    hair: Rgb,
    top: Rgb,
    top2: Rgb,
    inner: Rgb,
    bottom: Rgb,
    shoe: Rgb,
    bag: Rgb,
    hat: Rgb,
    stripe_period: f32,
    check_period: f32,
    logo_shape: u8,
    coat_len: f32,
    dress_len: f32,
    skirt_len: f32,
    shorts_frac: f32,
    hair_len: f32,
    collar_white: bool,
    belt: bool,
    band: Rgb,
    bag_size: f32,
}

impl Look {
    fn new(a: &PersonAttributes) -> Look {
        let mut r = ChaCha8Rng::seed_from_u64(a.detail_seed);
        let skin = jitter(&mut r, SKIN[a.skin_tone.min(5) as usize]);
        let hair = jitter(&mut r, a.hair.colour.rgb());
        let top = jitter(&mut r, a.top.colour.rgb());
        let top2 = jitter(&mut r, a.top.pattern_colour.rgb());
        let inner = jitter(&mut r, a.top.inner.unwrap_or(Colour::White).rgb());
        let bottom = match a.bottom {
            Some(b) if b.kind == BottomKind::Jeans => jitter(&mut r, jeans_rgb(b.colour)),
            Some(b) => jitter(&mut r, b.colour.rgb()),
            None => jitter(&mut r, [0, 0, 0]),
        };
        let shoe = jitter(&mut r, a.shoes.colour.rgb());
        let bag = jitter(&mut r, a.carry.map_or(Colour::Black, |c| c.colour).rgb());
        let hat = jitter(&mut r, a.headwear.map_or(Colour::Black, |h| h.colour).rgb());
        Look {
            skin,
            hair,
            top,
            top2,
            inner,
            bottom,
            shoe,
            bag,
            hat,
            stripe_period: r.gen_range(0.026..0.042),
            check_period: r.gen_range(0.035..0.055),
            logo_shape: r.gen_range(0..4),
            coat_len: r.gen_range(-0.04..0.05),
            dress_len: r.gen_range(-0.06..0.04),
            skirt_len: r.gen_range(-0.1..0.0),
            shorts_frac: r.gen_range(0.5..0.8),
            hair_len: r.gen_range(0.22..0.32),
            collar_white: r.gen_bool(0.3),
            belt: r.gen_bool(0.4),
            band: {
                let k = r.gen_range(0..14);
                jitter(&mut r, Colour::ALL[k].rgb())
            },
            bag_size: r.gen_range(0.85..1.15),
        }
    }
}

// ---------------------------------------------------------------- geometry

type P = (f32, f32);

fn add(a: P, b: P) -> P {
    (a.0 + b.0, a.1 + b.1)
}
fn lerp(a: P, b: P, t: f32) -> P {
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// Body measurements in body units (height 1, y down, 0 = top of the head).
struct Geo {
    bf: f32,
    sw: f32,
    ww: f32,
    hw: f32,
    depth: f32,
    thigh: f32,
    calf: f32,
    ankle_r: f32,
    uarm: f32,
    farm: f32,
    hand_r: f32,
    neck_r: f32,
    hc: P,
    hr: P,
    ub: f32,
    sh_y: f32,
    waist_y: f32,
    hip_y: f32,
    crotch_y: f32,
    knee_y: f32,
    ankle_y: f32,
}

impl Geo {
    fn new(a: &PersonAttributes) -> Geo {
        let female = a.gender == Gender::Female;
        let bf = match a.build {
            Build::Slim => 0.9,
            Build::Average => 1.0,
            Build::Heavy => 1.17,
        };
        let hip_y = 1.0 - 0.5 * a.height.clamp(0.9, 1.1);
        let ub = hip_y / 0.5;
        let sw = 0.1 * a.shoulders * if female { 0.9 } else { 1.0 } * (1.0 + (bf - 1.0) * 0.5);
        let ww = sw * if female { 0.74 } else { 0.86 } * bf;
        let hw = 0.088 * if female { 1.08 } else { 1.0 } * (1.0 + (bf - 1.0) * 0.8);
        let ankle_y = 0.955;
        Geo {
            bf,
            sw,
            ww,
            hw,
            depth: 0.058 * bf * if female { 0.95 } else { 1.0 },
            thigh: 0.043 * (1.0 + (bf - 1.0) * 0.8),
            calf: 0.032 * (1.0 + (bf - 1.0) * 0.5),
            ankle_r: 0.02,
            uarm: 0.026 * bf,
            farm: 0.021 * (1.0 + (bf - 1.0) * 0.6),
            hand_r: 0.019,
            neck_r: 0.021 * bf,
            hc: (0.0, 0.064 * ub),
            hr: (0.046, 0.061 * ub),
            ub,
            sh_y: 0.175 * ub,
            waist_y: 0.40 * ub,
            hip_y,
            crotch_y: hip_y + 0.055,
            knee_y: hip_y + (ankle_y - hip_y) * 0.52,
            ankle_y,
        }
    }
}

#[derive(Clone, Copy)]
struct Limb {
    a: P,
    b: P,
    c: P,
    end: P,
}

/// Limbs: index 0 is image-left (front/back) or the far side (side views).
struct Pose {
    legs: [Limb; 2],
    arms: [Limb; 2],
}

fn pose(g: &Geo, a: &PersonAttributes, s: &Scene) -> Pose {
    let carry = a.carry.map(|c| c.kind);
    let hwf = g.hw / 0.088;
    if !s.view.is_side() {
        let mut legs = [Limb {
            a: (0.0, 0.0),
            b: (0.0, 0.0),
            c: (0.0, 0.0),
            end: (0.0, 0.0),
        }; 2];
        let mut arms = legs;
        for (i, side) in [-1.0f32, 1.0].into_iter().enumerate() {
            let swing = s.phase.sin() * side * s.stride / 0.35;
            let hip = (side * 0.046 * hwf, g.hip_y + 0.015);
            let knee = (side * 0.049 * hwf, g.knee_y + 0.004 * swing);
            let ankle = (side * 0.05 * hwf.sqrt(), g.ankle_y + 0.012 * swing);
            legs[i] = Limb {
                a: hip,
                b: knee,
                c: ankle,
                end: add(ankle, (0.0, 0.022)),
            };
            let sh = (side * (g.sw - 0.013), g.sh_y + 0.02);
            let mut el = (side * (g.sw + 0.01 * g.bf), g.sh_y + 0.16 * g.ub);
            let mut wr = (side * (g.sw + 0.006 * g.bf + 0.002), g.sh_y + 0.29 * g.ub);
            wr.1 -= 0.012 * swing.abs();
            wr.0 -= side * 0.006 * swing;
            if i == 1 && carry == Some(CarryKind::Suitcase) {
                el = (g.sw + 0.03, g.sh_y + 0.15 * g.ub);
                wr = (g.sw + 0.055, g.sh_y + 0.28 * g.ub);
            }
            if i == 1 && carry == Some(CarryKind::Handbag) {
                wr = (g.sw + 0.018, g.sh_y + 0.27 * g.ub);
            }
            arms[i] = Limb {
                a: sh,
                b: el,
                c: wr,
                end: add(wr, (0.0, g.hand_r * 0.9)),
            };
        }
        Pose { legs, arms }
    } else {
        let mk = |phase: f32, near: bool| -> (Limb, Limb) {
            let th = s.stride * phase.sin();
            let hip = (0.004, g.hip_y + 0.015);
            let l1 = g.knee_y - hip.1;
            let l2 = g.ankle_y - g.knee_y;
            let knee = add(hip, (l1 * th.sin(), l1 * th.cos()));
            let bend = 1.3 * s.stride * phase.cos().max(0.0);
            let ts = th - bend;
            let ankle = add(knee, (l2 * ts.sin(), l2 * ts.cos()));
            let leg = Limb {
                a: hip,
                b: knee,
                c: ankle,
                end: add(ankle, (0.028, 0.022)),
            };
            let mut al = -0.8 * s.stride * phase.sin();
            if near && carry == Some(CarryKind::Suitcase) {
                al = -0.32;
            }
            let be = al + 0.12 + 0.4 * al.max(0.0);
            let sh = (-0.004, g.sh_y + 0.022);
            let el = add(sh, (0.15 * g.ub * al.sin(), 0.15 * g.ub * al.cos()));
            let wr = add(el, (0.13 * g.ub * be.sin(), 0.13 * g.ub * be.cos()));
            let arm = Limb {
                a: sh,
                b: el,
                c: wr,
                end: add(wr, (0.016 * be.sin(), 0.016 * be.cos())),
            };
            (leg, arm)
        };
        let (lf, af) = mk(s.phase + PI, false);
        let (ln, an) = mk(s.phase, true);
        Pose {
            legs: [lf, ln],
            arms: [af, an],
        }
    }
}

// ---------------------------------------------------------------- the person

struct Painter<'a> {
    c: &'a mut Canvas,
    xf: Xf,
}

impl Painter<'_> {
    fn f(&mut self, s: Shape, m: Mat) {
        self.c.fill(&self.xf, &s, &m);
    }
}

fn top_mat(a: &PersonAttributes, l: &Look) -> Mat {
    let mut m = Mat::solid(l.top);
    m.pat = match a.top.pattern {
        Pattern::Striped => Pat::Stripes {
            c2: l.top2,
            period: l.stripe_period,
        },
        Pattern::Checked => Pat::Check {
            c2: l.top2,
            period: l.check_period,
        },
        _ => Pat::Plain,
    };
    if a.top.kind == TopKind::Hoodie {
        m.tex = 0.03;
    }
    if a.top.kind == TopKind::Coat {
        m.shade = 0.6;
    }
    m
}

fn bottom_mat(a: &PersonAttributes, l: &Look) -> Option<Mat> {
    let b = a.bottom?;
    let mut m = Mat::solid(l.bottom);
    if b.kind == BottomKind::Jeans {
        m.pat = Pat::Denim;
        m.tex = 0.02;
    }
    Some(m)
}

fn draw_person(canvas: &mut Canvas, a: &PersonAttributes, s: &Scene) {
    let g = Geo::new(a);
    let l = Look::new(a);
    let p = pose(&g, a, s);
    let foot = p.legs[0].c.1.max(p.legs[1].c.1) + 0.043;
    let (w, h) = (canvas.w as f32, canvas.h as f32);
    let ph = h * s.person_height;
    let sc = ph / foot;
    let top = (h - ph) * (0.5 + 0.45 * s.offset.1);
    let cx = w * 0.5 + s.offset.0 * w * 0.07;
    let xf = Xf {
        s: sc,
        ox: cx,
        oy: top,
        flip: s.view == View::Left,
    };
    let mut pt = Painter { c: canvas, xf };
    // shadow
    pt.f(
        ellipse(
            0.0,
            foot - 0.006,
            if s.view.is_side() { 0.17 } else { 0.14 },
            0.02,
        ),
        Mat::flat([0.0; 3]).with_alpha(0.25),
    );
    match s.view {
        View::Front => front(&mut pt, a, &g, &l, &p),
        View::Back => back(&mut pt, a, &g, &l, &p),
        View::Left | View::Right => side(&mut pt, a, &g, &l, &p),
    }
}

fn skin_mat(l: &Look) -> Mat {
    let mut m = Mat::solid(l.skin);
    m.shade = 0.4;
    m.tex = 0.008;
    m
}

fn draw_leg(
    pt: &mut Painter,
    a: &PersonAttributes,
    g: &Geo,
    l: &Look,
    leg: &Limb,
    dark: f32,
    side: bool,
) {
    let skin = skin_mat(l).darker(dark);
    let bm = bottom_mat(a, l).map(|m| m.darker(dark));
    let kind = a.bottom.map(|b| b.kind);
    let full = matches!(
        kind,
        Some(BottomKind::Trousers | BottomKind::Jeans | BottomKind::Leggings)
    );
    let extra = match kind {
        Some(BottomKind::Trousers) => 0.006,
        Some(BottomKind::Jeans) => 0.003,
        Some(BottomKind::Leggings) => -0.003,
        _ => 0.0,
    };
    let lm = if full { bm.unwrap() } else { skin };
    let lk = |r: f32| r + if full { extra } else { -0.004 };
    pt.f(capsule(leg.a, leg.b, lk(g.thigh), lk(g.calf * 1.08)), lm);
    pt.f(capsule(leg.b, leg.c, lk(g.calf * 1.08), lk(g.ankle_r)), lm);
    if kind == Some(BottomKind::Shorts) {
        let e = lerp(leg.a, leg.b, l.shorts_frac);
        pt.f(
            capsule(leg.a, e, g.thigh + 0.008, g.thigh * 0.9 + 0.008),
            bm.unwrap(),
        );
    }
    // shoe
    let sm = Mat::solid(l.shoe).darker(dark);
    let (fc, fr) = if side {
        (add(leg.c, (0.026, 0.022)), (0.047, 0.021))
    } else {
        (add(leg.c, (0.0, 0.022)), (0.029, 0.022))
    };
    match a.shoes.kind {
        ShoeKind::Sneakers => {
            pt.f(ellipse(fc.0, fc.1, fr.0, fr.1), sm);
            let sole = if a.shoes.colour == Colour::White {
                [0.62, 0.62, 0.64]
            } else {
                [0.9, 0.9, 0.88]
            };
            pt.f(
                inter(ellipse(fc.0, fc.1, fr.0, fr.1), below(fc.1 + fr.1 * 0.45)),
                Mat::solid(scale(sole, dark)),
            );
        }
        ShoeKind::Boots => {
            let top = lerp(leg.c, leg.b, 0.38);
            pt.f(capsule(leg.c, top, g.ankle_r * 1.5, g.calf * 1.2), sm);
            pt.f(ellipse(fc.0, fc.1, fr.0, fr.1), sm);
        }
        ShoeKind::Sandals => {
            pt.f(ellipse(fc.0, fc.1 - 0.002, fr.0 * 0.9, fr.1 * 0.9), skin);
            pt.f(
                inter(ellipse(fc.0, fc.1, fr.0, fr.1), below(fc.1 + fr.1 * 0.5)),
                sm,
            );
            pt.f(rrect(fc.0, fc.1 - 0.004, fr.0 * 0.8, 0.004, 0.003), sm);
        }
    }
}

fn draw_arm(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, arm: &Limb, dark: f32) {
    let skin = skin_mat(l).darker(dark);
    pt.f(capsule(arm.a, arm.b, g.uarm, g.farm * 1.05), skin);
    pt.f(capsule(arm.b, arm.c, g.farm * 1.05, g.farm * 0.8), skin);
    pt.f(
        ellipse(arm.end.0, arm.end.1, g.hand_r * 0.85, g.hand_r),
        skin,
    );
    let tm = top_mat(a, l).darker(dark);
    let thick = match a.top.kind {
        TopKind::Coat | TopKind::Jacket => 0.009,
        TopKind::Hoodie => 0.007,
        _ => 0.005,
    };
    match a.top.sleeves {
        Sleeves::Long => {
            pt.f(
                capsule(arm.a, arm.b, g.uarm + thick, g.farm * 1.05 + thick),
                tm,
            );
            pt.f(
                capsule(arm.b, arm.c, g.farm * 1.05 + thick, g.farm * 0.8 + thick),
                tm,
            );
        }
        Sleeves::Short => {
            let e = lerp(arm.a, arm.b, 0.55);
            pt.f(
                capsule(arm.a, e, g.uarm + thick + 0.002, g.uarm + thick),
                tm,
            );
        }
    }
}

fn hem_y(a: &PersonAttributes, g: &Geo, l: &Look) -> f32 {
    match a.top.kind {
        TopKind::TShirt => g.hip_y + 0.03,
        TopKind::Shirt => g.hip_y + 0.04,
        TopKind::Hoodie => g.hip_y + 0.035,
        TopKind::Jacket => g.hip_y + 0.025,
        TopKind::Coat => g.knee_y + l.coat_len,
        TopKind::Dress => g.knee_y + l.dress_len,
    }
}

/// Pelvis part of the bottom, and the skirt.
fn draw_bottom_top(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, side: bool) {
    let Some(b) = a.bottom else { return };
    let m = bottom_mat(a, l).unwrap();
    if b.kind == BottomKind::Skirt {
        let hem = g.knee_y + l.skirt_len;
        let sh = if side {
            poly(&[
                (-g.depth, g.waist_y + 0.02),
                (g.depth * 0.95, g.waist_y + 0.02),
                (g.depth + 0.04, hem),
                (-g.depth - 0.05, hem),
            ])
        } else {
            poly(&[
                (-g.ww * 1.05, g.waist_y + 0.02),
                (g.ww * 1.05, g.waist_y + 0.02),
                (g.hw + 0.045, hem),
                (-g.hw - 0.045, hem),
            ])
        };
        pt.f(sh, m);
        return;
    }
    if b.kind == BottomKind::Leggings {
        return;
    }
    let sh = if side {
        poly(&[
            (-g.depth * 0.95, g.waist_y + 0.03),
            (g.depth * 0.9, g.waist_y + 0.03),
            (g.depth * 0.9, g.crotch_y),
            (-g.depth * 1.02, g.crotch_y),
        ])
    } else {
        poly(&[
            (-g.hw * 0.96, g.waist_y + 0.03),
            (g.hw * 0.96, g.waist_y + 0.03),
            (g.hw * 1.03, g.hip_y + 0.03),
            (g.hw * 0.3, g.crotch_y + 0.01),
            (0.0, g.crotch_y),
            (-g.hw * 0.3, g.crotch_y + 0.01),
            (-g.hw * 1.03, g.hip_y + 0.03),
        ])
    };
    pt.f(sh, m);
}

fn torso_shape(a: &PersonAttributes, g: &Geo, l: &Look, side: bool) -> Shape {
    let hem = hem_y(a, g, l);
    let k = a.top.kind;
    let layer = if matches!(k, TopKind::Jacket | TopKind::Coat) {
        0.008
    } else {
        0.0
    };
    let sh_y = g.sh_y;
    if side {
        let d = g.depth + layer;
        let belly = if a.build == Build::Heavy { 1.15 } else { 0.88 };
        let chest = if a.gender == Gender::Female {
            1.12
        } else {
            1.0
        };
        let mut v = vec![
            (-0.022, sh_y - 0.024),
            (-d * 0.85, sh_y + 0.004),
            (-d * 0.95, sh_y + 0.1),
            (-d * 0.9, g.waist_y),
            (-d * 1.0, g.hip_y),
        ];
        let flare = matches!(k, TopKind::Coat | TopKind::Dress);
        if flare {
            v.push((-d - 0.035, hem));
            v.push((d + 0.03, hem));
            v.push((d * 0.95, g.hip_y));
        } else {
            v.push((-d * 1.0, hem));
            v.push((d * 0.95, hem));
        }
        v.extend_from_slice(&[
            (d * belly, g.waist_y),
            (d * chest, sh_y + 0.09),
            (d * 0.72, sh_y),
            (0.026, sh_y - 0.024),
        ]);
        poly(&v)
    } else {
        let sw = g.sw + layer;
        let mut left = vec![
            (-0.034, sh_y - 0.022),
            (-(sw - 0.012), sh_y - 0.003),
            (-sw, sh_y + 0.03),
            (-sw * 0.95, sh_y + 0.09),
            (-(g.ww + layer), g.waist_y),
        ];
        match k {
            TopKind::Coat => {
                left.push((-(g.hw + 0.012), g.hip_y));
                left.push((-(g.hw + 0.035), hem));
            }
            TopKind::Dress => {
                left.push((-(g.hw + 0.008), g.hip_y));
                left.push((-(g.hw + 0.06), hem));
            }
            _ => left.push((-(g.hw + 0.004 + layer), hem)),
        }
        let mut v = left.clone();
        v.extend(left.iter().rev().map(|p| (-p.0, p.1)));
        poly(&v)
    }
}

fn draw_neck(pt: &mut Painter, g: &Geo, l: &Look, x: f32) {
    pt.f(
        capsule((x, g.hc.1 + 0.03), (x, g.sh_y + 0.002), g.neck_r, g.neck_r),
        skin_mat(l).darker(0.92),
    );
}

fn logo(pt: &mut Painter, g: &Geo, l: &Look) {
    let (x, y) = (0.0, g.sh_y + 0.11 * g.ub);
    let m = Mat::solid(l.top2);
    let r = 0.042 * g.sw / 0.1;
    match l.logo_shape {
        0 => pt.f(ellipse(x, y, r, r), m),
        1 => pt.f(rrect(x, y, r * 1.3, r * 0.85, 0.006), m),
        2 => pt.f(
            poly(&[(x, y - r * 1.1), (x + r, y), (x, y + r * 1.1), (x - r, y)]),
            m,
        ),
        _ => {
            for i in 0..3 {
                pt.f(
                    rrect(x, y - r * 0.6 + i as f32 * r * 0.6, r * 1.3, r * 0.2, 0.002),
                    m,
                );
            }
        }
    }
}

fn hair_mat(l: &Look) -> Mat {
    let mut m = Mat::solid(l.hair);
    m.tex = 0.04;
    m.shade = 0.4;
    m
}

fn headwear(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, side: bool, front: bool) {
    let Some(hw) = a.headwear else { return };
    let (hx, hy) = g.hc;
    let (rx, ry) = g.hr;
    let m = Mat::solid(l.hat);
    match hw.kind {
        HeadwearKind::Cap => {
            pt.f(
                inter(
                    ellipse(hx, hy - 0.01, rx + 0.007, ry * 0.88),
                    above(hy - 0.018),
                ),
                m,
            );
            if side {
                pt.f(
                    ellipse(hx + rx + 0.012, hy - 0.022, 0.034, 0.008),
                    m.darker(0.8),
                );
            } else if front {
                pt.f(ellipse(hx, hy - 0.021, rx + 0.004, 0.012), m.darker(0.8));
            }
        }
        HeadwearKind::Beanie => {
            pt.f(
                inter(
                    ellipse(hx, hy - 0.006, rx + 0.008, ry + 0.006),
                    above(hy - 0.012),
                ),
                m,
            );
            pt.f(
                rrect(hx, hy - 0.019, rx + 0.007, 0.011, 0.005),
                m.darker(0.85),
            );
        }
    }
}

fn front(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, p: &Pose) {
    let (hx, hy) = g.hc;
    let (rx, ry) = g.hr;
    let carry = a.carry.map(|c| c.kind);
    let hm = hair_mat(l);
    if carry == Some(CarryKind::Suitcase) {
        suitcase(pt, l, p.arms[1].end, false);
    }
    if a.hair.style == HairStyle::Long {
        let bot = l.hair_len;
        let top = hy - ry - 0.006;
        pt.f(
            rrect(hx, 0.5 * (top + bot), rx + 0.014, 0.5 * (bot - top), 0.04),
            hm.darker(0.85),
        );
    }
    if carry == Some(CarryKind::Backpack) {
        pt.f(
            rrect(0.0, g.sh_y + 0.12, g.sw * 0.8, 0.12, 0.03),
            Mat::solid(l.bag).darker(0.8),
        );
    }
    for leg in &p.legs {
        draw_leg(pt, a, g, l, leg, 1.0, false);
    }
    draw_bottom_top(pt, a, g, l, false);
    let tm = top_mat(a, l);
    let hem = hem_y(a, g, l);
    pt.f(torso_shape(a, g, l, false), tm);
    let sh_y = g.sh_y;
    // front details
    match a.top.kind {
        TopKind::Shirt => {
            pt.f(
                capsule((0.0, sh_y + 0.02), (0.0, hem - 0.01), 0.004, 0.004),
                tm.darker(0.85),
            );
            for i in 0..4 {
                pt.f(
                    ellipse(0.0, sh_y + 0.05 + i as f32 * 0.07, 0.004, 0.004),
                    Mat::solid(scale(l.top, 0.7)),
                );
            }
        }
        TopKind::Jacket => {
            let inner = Mat::solid(l.inner);
            pt.f(
                poly(&[
                    (-0.036, sh_y - 0.02),
                    (0.036, sh_y - 0.02),
                    (0.014, hem - 0.005),
                    (-0.014, hem - 0.005),
                ]),
                inner,
            );
            pt.f(
                capsule((-0.03, sh_y), (-0.013, hem), 0.004, 0.004),
                tm.darker(0.75),
            );
            pt.f(
                capsule((0.03, sh_y), (0.013, hem), 0.004, 0.004),
                tm.darker(0.75),
            );
        }
        TopKind::Coat => {
            pt.f(
                poly(&[
                    (-0.036, sh_y - 0.02),
                    (0.036, sh_y - 0.02),
                    (0.0, sh_y + 0.11),
                ]),
                Mat::solid(l.inner),
            );
            pt.f(
                poly(&[
                    (-0.04, sh_y - 0.02),
                    (-0.004, sh_y + 0.11),
                    (-0.055, sh_y + 0.05),
                ]),
                tm.darker(0.85),
            );
            pt.f(
                poly(&[
                    (0.04, sh_y - 0.02),
                    (0.004, sh_y + 0.11),
                    (0.055, sh_y + 0.05),
                ]),
                tm.darker(0.85),
            );
            for i in 0..3 {
                let y = sh_y + 0.14 + i as f32 * 0.06;
                pt.f(ellipse(-0.025, y, 0.005, 0.005), tm.darker(0.6));
                pt.f(ellipse(0.025, y, 0.005, 0.005), tm.darker(0.6));
            }
            if l.belt {
                pt.f(
                    rrect(0.0, g.waist_y + 0.01, g.ww + 0.012, 0.01, 0.003),
                    tm.darker(0.75),
                );
            }
            pt.f(
                capsule((0.0, sh_y + 0.12), (0.0, hem), 0.003, 0.003),
                tm.darker(0.8),
            );
        }
        TopKind::Hoodie => {
            pt.f(ellipse(0.0, sh_y - 0.004, 0.064, 0.03), tm.darker(0.82));
            pt.f(
                rrect(0.0, g.waist_y + 0.03, g.ww * 0.72, 0.038, 0.012),
                tm.darker(0.9),
            );
        }
        TopKind::Dress if l.belt => {
            pt.f(
                rrect(0.0, g.waist_y, g.ww + 0.004, 0.009, 0.003),
                Mat::solid(l.band),
            );
        }
        _ => {}
    }
    if a.top.pattern == Pattern::Logo {
        logo(pt, g, l);
    }
    draw_neck(pt, g, l, 0.0);
    match a.top.kind {
        TopKind::Shirt => {
            let cm = if l.collar_white {
                Mat::solid([0.93, 0.93, 0.92])
            } else {
                tm.darker(1.12)
            };
            pt.f(
                poly(&[
                    (-0.036, sh_y - 0.022),
                    (-0.003, sh_y + 0.028),
                    (-0.045, sh_y + 0.018),
                ]),
                cm,
            );
            pt.f(
                poly(&[
                    (0.036, sh_y - 0.022),
                    (0.003, sh_y + 0.028),
                    (0.045, sh_y + 0.018),
                ]),
                cm,
            );
        }
        TopKind::Hoodie => {
            let sm = Mat::solid([0.9, 0.9, 0.88]);
            pt.f(
                capsule((-0.016, sh_y + 0.008), (-0.019, sh_y + 0.08), 0.003, 0.003),
                sm,
            );
            pt.f(
                capsule((0.016, sh_y + 0.008), (0.019, sh_y + 0.08), 0.003, 0.003),
                sm,
            );
        }
        _ => {}
    }
    for arm in &p.arms {
        draw_arm(pt, a, g, l, arm, 1.0);
    }
    let bag = Mat::solid(l.bag);
    match carry {
        Some(CarryKind::Backpack) => {
            for s in [-1.0f32, 1.0] {
                pt.f(
                    capsule(
                        (s * 0.062, sh_y - 0.008),
                        (s * 0.068, sh_y + 0.17),
                        0.011,
                        0.011,
                    ),
                    bag.darker(0.85),
                );
                pt.f(
                    rrect(s * 0.067, sh_y + 0.1, 0.013, 0.008, 0.002),
                    Mat::solid([0.15, 0.15, 0.15]),
                );
            }
        }
        Some(CarryKind::ShoulderBag) => {
            pt.f(
                capsule(
                    (-g.sw * 0.55, sh_y - 0.004),
                    (g.hw + 0.02, g.hip_y - 0.02),
                    0.006,
                    0.006,
                ),
                bag.darker(0.85),
            );
            pt.f(
                rrect(
                    g.hw + 0.03,
                    g.hip_y + 0.01,
                    0.042 * l.bag_size,
                    0.045 * l.bag_size,
                    0.012,
                ),
                bag,
            );
        }
        Some(CarryKind::Handbag) => handbag(pt, g, l, p.arms[1].end),
        _ => {}
    }
    // head
    let skin = skin_mat(l);
    for s in [-1.0f32, 1.0] {
        pt.f(
            ellipse(s * rx * 0.98, hy + 0.006, 0.009, 0.015),
            skin.darker(0.93),
        );
    }
    pt.f(ellipse(hx, hy, rx, ry), skin);
    let eye = Mat::flat([0.1, 0.08, 0.08]);
    for s in [-1.0f32, 1.0] {
        pt.f(ellipse(s * 0.017, hy + 0.004, 0.0055, 0.0045), eye);
        pt.f(
            rrect(s * 0.017, hy - 0.008, 0.008, 0.0022, 0.001),
            Mat::flat(scale(l.hair, 0.9)).with_alpha(0.8),
        );
    }
    pt.f(ellipse(0.0, hy + 0.019, 0.006, 0.009), skin.darker(0.9));
    pt.f(ellipse(0.0, hy + 0.036, 0.011, 0.0035), skin.darker(0.72));
    match a.hair.style {
        HairStyle::Bald => {}
        style => {
            let big = if style == HairStyle::Short {
                0.0
            } else {
                0.004
            };
            pt.f(
                sub(
                    ellipse(hx, hy - 0.006, rx + 0.006 + big, ry + 0.004),
                    ellipse(hx, hy + 0.024, rx * 0.95, ry * 0.92),
                ),
                hm,
            );
            if style == HairStyle::Long {
                let bot = l.hair_len.min(g.sh_y + 0.09);
                for s in [-1.0f32, 1.0] {
                    pt.f(
                        capsule((s * rx * 0.92, hy), (s * (rx + 0.012), bot), 0.014, 0.011),
                        hm,
                    );
                }
            }
        }
    }
    headwear(pt, a, g, l, false, true);
}

fn back(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, p: &Pose) {
    let (hx, hy) = g.hc;
    let (rx, ry) = g.hr;
    let carry = a.carry.map(|c| c.kind);
    let hm = hair_mat(l);
    // image-left in the back view is the person's left; the suitcase hand is image-right
    if carry == Some(CarryKind::Suitcase) {
        suitcase(pt, l, p.arms[1].end, false);
    }
    for leg in &p.legs {
        draw_leg(pt, a, g, l, leg, 1.0, false);
    }
    draw_bottom_top(pt, a, g, l, false);
    let tm = top_mat(a, l);
    let hem = hem_y(a, g, l);
    pt.f(torso_shape(a, g, l, false), tm);
    let sh_y = g.sh_y;
    match a.top.kind {
        TopKind::Coat => {
            pt.f(
                capsule((0.0, g.hip_y + 0.06), (0.0, hem), 0.003, 0.003),
                tm.darker(0.75),
            );
            if l.belt {
                pt.f(
                    rrect(0.0, g.waist_y + 0.01, g.ww + 0.012, 0.01, 0.003),
                    tm.darker(0.75),
                );
            }
        }
        TopKind::Jacket => {
            pt.f(
                rrect(0.0, hem - 0.012, g.hw + 0.012, 0.012, 0.004),
                tm.darker(0.85),
            );
        }
        TopKind::Dress if l.belt => {
            pt.f(
                rrect(0.0, g.waist_y, g.ww + 0.004, 0.009, 0.003),
                Mat::solid(l.band),
            );
        }
        _ => {}
    }
    draw_neck(pt, g, l, 0.0);
    match a.top.kind {
        TopKind::Shirt => {
            let cm = if l.collar_white {
                Mat::solid([0.93, 0.93, 0.92])
            } else {
                tm.darker(1.12)
            };
            pt.f(rrect(0.0, sh_y - 0.01, 0.04, 0.012, 0.004), cm);
        }
        TopKind::Coat | TopKind::Jacket => {
            pt.f(
                rrect(0.0, sh_y - 0.01, 0.045, 0.014, 0.005),
                tm.darker(0.85),
            );
        }
        _ => {}
    }
    for arm in &p.arms {
        draw_arm(pt, a, g, l, arm, 1.0);
    }
    if a.top.kind == TopKind::Hoodie {
        pt.f(ellipse(0.0, sh_y + 0.035, 0.062, 0.056), tm.darker(0.86));
        pt.f(ellipse(0.0, sh_y + 0.012, 0.04, 0.026), tm.darker(0.6));
    }
    let skin = skin_mat(l);
    for s in [-1.0f32, 1.0] {
        pt.f(
            ellipse(s * rx * 0.98, hy + 0.006, 0.009, 0.015),
            skin.darker(0.93),
        );
    }
    pt.f(ellipse(hx, hy, rx, ry), skin);
    let bag = Mat::solid(l.bag);
    match carry {
        Some(CarryKind::Backpack) => {
            let bs = l.bag_size;
            for s in [-1.0f32, 1.0] {
                pt.f(
                    capsule(
                        (s * 0.06, sh_y - 0.006),
                        (s * 0.066, sh_y + 0.04),
                        0.011,
                        0.011,
                    ),
                    bag.darker(0.8),
                );
            }
            pt.f(
                rrect(
                    0.0,
                    sh_y + 0.135 * g.ub,
                    g.sw * 0.72 * bs,
                    0.125 * g.ub * bs,
                    0.035,
                ),
                bag,
            );
            pt.f(
                rrect(0.0, sh_y + 0.2 * g.ub, g.sw * 0.5 * bs, 0.05 * bs, 0.02),
                bag.darker(0.85),
            );
            pt.f(
                capsule((-0.045, sh_y + 0.095), (0.045, sh_y + 0.095), 0.003, 0.003),
                Mat::solid([0.15; 3]),
            );
        }
        Some(CarryKind::ShoulderBag) => {
            pt.f(
                capsule(
                    (g.sw * 0.55, sh_y - 0.004),
                    (-(g.hw + 0.02), g.hip_y - 0.02),
                    0.006,
                    0.006,
                ),
                bag.darker(0.85),
            );
            pt.f(
                rrect(
                    -(g.hw + 0.03),
                    g.hip_y + 0.01,
                    0.042 * l.bag_size,
                    0.045 * l.bag_size,
                    0.012,
                ),
                bag,
            );
        }
        Some(CarryKind::Handbag) => handbag(pt, g, l, p.arms[1].end),
        _ => {}
    }
    match a.hair.style {
        HairStyle::Bald => {}
        HairStyle::Long => {
            let top = hy - ry - 0.007;
            let bot = l.hair_len;
            pt.f(
                rrect(hx, 0.5 * (top + bot), rx + 0.012, 0.5 * (bot - top), 0.045),
                hm,
            );
        }
        style => {
            pt.f(
                inter(
                    ellipse(hx, hy - 0.004, rx + 0.005, ry + 0.004),
                    above(hy + 0.045),
                ),
                hm,
            );
            if style == HairStyle::Ponytail {
                pt.f(
                    capsule((0.0, hy + 0.015), (0.0, hy + 0.13), 0.019, 0.011),
                    hm,
                );
                pt.f(ellipse(0.0, hy + 0.02, 0.013, 0.007), Mat::solid(l.band));
            }
        }
    }
    headwear(pt, a, g, l, false, false);
}

/// Side view, facing +x (mirrored for `View::Left`).
fn side(pt: &mut Painter, a: &PersonAttributes, g: &Geo, l: &Look, p: &Pose) {
    let (hx, hy) = g.hc;
    let (rx, ry) = g.hr;
    let carry = a.carry.map(|c| c.kind);
    let hm = hair_mat(l);
    let far = 0.78;
    draw_arm(pt, a, g, l, &p.arms[0], far);
    draw_leg(pt, a, g, l, &p.legs[0], far, true);
    if carry == Some(CarryKind::Suitcase) {
        suitcase(pt, l, p.arms[1].end, true);
    }
    draw_leg(pt, a, g, l, &p.legs[1], 1.0, true);
    draw_bottom_top(pt, a, g, l, true);
    let tm = top_mat(a, l);
    pt.f(torso_shape(a, g, l, true), tm);
    let sh_y = g.sh_y;
    let d = g.depth;
    match a.top.kind {
        TopKind::Jacket | TopKind::Coat => {
            pt.f(
                capsule(
                    (d * 0.72, sh_y + 0.005),
                    (d * 0.95, g.waist_y - 0.05),
                    0.008,
                    0.006,
                ),
                Mat::solid(l.inner),
            );
        }
        TopKind::Dress if l.belt => {
            pt.f(
                rrect(0.0, g.waist_y, d + 0.004, 0.009, 0.003),
                Mat::solid(l.band),
            );
        }
        _ => {}
    }
    if a.hair.style == HairStyle::Long {
        pt.f(
            capsule((hx - 0.025, hy), (hx - 0.04, l.hair_len), 0.036, 0.024),
            hm.darker(0.92),
        );
    }
    draw_neck(pt, g, l, 0.004);
    if a.top.kind == TopKind::Hoodie {
        pt.f(ellipse(-0.032, sh_y + 0.012, 0.04, 0.045), tm.darker(0.86));
    }
    let bag = Mat::solid(l.bag);
    if carry == Some(CarryKind::Backpack) {
        let bs = l.bag_size;
        pt.f(
            rrect(
                -d - 0.036 * bs,
                sh_y + 0.13 * g.ub,
                0.042 * bs,
                0.125 * g.ub * bs,
                0.03,
            ),
            bag,
        );
        pt.f(
            rrect(-d - 0.07 * bs, sh_y + 0.17 * g.ub, 0.014, 0.06, 0.01),
            bag.darker(0.85),
        );
    }
    // head
    let skin = skin_mat(l);
    pt.f(ellipse(hx + 0.004, hy, rx + 0.004, ry), skin);
    pt.f(ellipse(hx + rx + 0.002, hy + 0.014, 0.009, 0.011), skin);
    pt.f(
        ellipse(hx + 0.03, hy + 0.003, 0.005, 0.0045),
        Mat::flat([0.1, 0.08, 0.08]),
    );
    pt.f(
        ellipse(hx + 0.036, hy + 0.037, 0.007, 0.003),
        skin.darker(0.75),
    );
    pt.f(
        ellipse(hx - 0.006, hy + 0.009, 0.01, 0.015),
        skin.darker(0.9),
    );
    match a.hair.style {
        HairStyle::Bald => {}
        style => {
            pt.f(
                sub(
                    ellipse(hx - 0.004, hy - 0.005, rx + 0.008, ry + 0.004),
                    ellipse(hx + 0.022, hy + 0.022, rx * 0.88, ry * 0.88),
                ),
                hm,
            );
            if style == HairStyle::Ponytail {
                pt.f(
                    capsule(
                        (hx - rx, hy - 0.008),
                        (hx - rx - 0.028, hy + 0.1),
                        0.016,
                        0.009,
                    ),
                    hm,
                );
                pt.f(
                    ellipse(hx - rx - 0.002, hy - 0.006, 0.008, 0.011),
                    Mat::solid(l.band),
                );
            }
        }
    }
    headwear(pt, a, g, l, true, false);
    if carry == Some(CarryKind::Backpack) {
        pt.f(
            capsule(
                (-d * 0.3, sh_y - 0.004),
                (d * 0.55, sh_y + 0.12),
                0.009,
                0.009,
            ),
            bag.darker(0.85),
        );
    }
    if carry == Some(CarryKind::ShoulderBag) {
        pt.f(
            capsule((0.0, sh_y - 0.004), (-0.01, g.hip_y - 0.01), 0.006, 0.006),
            bag.darker(0.85),
        );
        pt.f(
            rrect(
                -0.015,
                g.hip_y + 0.02,
                0.046 * l.bag_size,
                0.045 * l.bag_size,
                0.012,
            ),
            bag,
        );
    }
    draw_arm(pt, a, g, l, &p.arms[1], 1.0);
    if carry == Some(CarryKind::Handbag) {
        handbag(pt, g, l, p.arms[1].end);
    }
}

fn handbag(pt: &mut Painter, g: &Geo, l: &Look, hand: P) {
    let bag = Mat::solid(l.bag);
    let s = l.bag_size;
    let top = hand.1 + 0.02;
    for dx in [-0.016f32, 0.016] {
        pt.f(
            capsule((hand.0 + dx, top + 0.004), hand, 0.0035, 0.0035),
            bag.darker(0.75),
        );
    }
    pt.f(
        rrect(hand.0, top + 0.036 * s, 0.04 * s, 0.036 * s, 0.01),
        bag,
    );
    pt.f(
        rrect(hand.0, top + 0.012 * s, 0.038 * s, 0.006, 0.003),
        bag.darker(0.85),
    );
    pt.f(
        ellipse(hand.0, hand.1, g.hand_r * 0.85, g.hand_r),
        skin_mat(l),
    );
}

fn suitcase(pt: &mut Painter, l: &Look, hand: P, side: bool) {
    let bag = Mat::solid(l.bag);
    let cx = if side { hand.0 - 0.085 } else { hand.0 + 0.035 };
    let (hx, hy) = (0.055, 0.1);
    let cy = 0.955 - hy;
    let handle = Mat::solid([0.25, 0.25, 0.27]);
    pt.f(
        capsule(
            (cx + if side { 0.04 } else { 0.0 }, cy - hy),
            hand,
            0.005,
            0.005,
        ),
        handle,
    );
    pt.f(rrect(cx, cy, hx, hy, 0.014), bag);
    for i in [-1.0f32, 0.0, 1.0] {
        pt.f(
            capsule(
                (cx + i * 0.025, cy - hy + 0.015),
                (cx + i * 0.025, cy + hy - 0.015),
                0.003,
                0.003,
            ),
            bag.darker(0.8),
        );
    }
    for i in [-1.0f32, 1.0] {
        pt.f(
            ellipse(cx + i * (hx - 0.012), cy + hy + 0.008, 0.01, 0.01),
            Mat::solid([0.1; 3]),
        );
    }
}

// ---------------------------------------------------------------- background

fn muted<R: Rng + ?Sized>(r: &mut R, lo: f32, hi: f32) -> Rgb {
    let base = r.gen_range(lo..hi);
    let t: Rgb = [
        r.gen_range(-0.06..0.06),
        r.gen_range(-0.05..0.05),
        r.gen_range(-0.06..0.06),
    ];
    [base + t[0], base + t[1], base + t[2]]
}

fn background(c: &mut Canvas, kind: BackgroundKind, r: &mut ChaCha8Rng) {
    let (w, h) = (c.w, c.h);
    let (wf, hf) = (w as f32, h as f32);
    let low = Noise::new(r, 8);
    let mid = Noise::new(r, 16);
    let salt: u32 = r.gen();
    let hz = hf
        * match kind {
            BackgroundKind::Wall => r.gen_range(0.7..0.9),
            BackgroundKind::Plaza => r.gen_range(0.05..0.3),
            _ => r.gen_range(0.3..0.62),
        };
    // upper part
    let up_a = muted(r, 0.3, 0.75);
    let up_b = muted(r, 0.15, 0.6);
    let sky = [
        r.gen_range(0.6..0.8),
        r.gen_range(0.7..0.85),
        r.gen_range(0.8..0.95),
    ];
    let tree_line = hz * r.gen_range(0.15..0.5);
    let win_w = wf * r.gen_range(0.12..0.3);
    let win_h = hf * r.gen_range(0.06..0.14);
    let brick = (hf * r.gen_range(0.02..0.04)).max(3.0);
    let brick_red = r.gen_bool(0.5);
    // ground
    let gr_a = muted(r, 0.35, 0.7);
    let tile = wf * r.gen_range(0.15..0.4);
    let grass = r.gen_bool(0.6);
    let lane = r.gen_bool(0.5);
    let lane_y = hz + (hf - hz) * r.gen_range(0.2..0.9);
    let yellow = r.gen_bool(0.3);
    let mut row = vec![[0.0f32; 3]; w];
    for y in 0..h {
        let yf = y as f32 + 0.5;
        for (x, px) in row.iter_mut().enumerate() {
            let xf = x as f32 + 0.5;
            let n = low.at(xf / wf * 3.0, yf / hf * 5.0);
            let m = mid.at(xf / 6.0, yf / 6.0);
            let pn = hash2(x as i32, y as i32, salt);
            let c: Rgb = if yf < hz {
                match kind {
                    BackgroundKind::Street => {
                        let wx = (xf / win_w).fract();
                        let wy = (yf / win_h).fract();
                        let cell = hash2((xf / win_w) as i32, (yf / win_h) as i32, salt ^ 1);
                        if wx > 0.2 && wx < 0.8 && wy > 0.25 && wy < 0.85 {
                            let lit = if cell > 0.5 { 0.7 } else { 0.25 };
                            mix([0.2, 0.25, 0.32], [lit, lit, lit * 0.9], 0.5 + 0.3 * n)
                        } else {
                            scale(up_a, 0.85 + 0.3 * n)
                        }
                    }
                    BackgroundKind::Park => {
                        let line = tree_line + (m - 0.5) * hf * 0.12;
                        if yf < line {
                            mix(sky, [0.9, 0.9, 0.9], n * 0.5)
                        } else {
                            let g = 0.35 + 0.5 * m + 0.15 * pn;
                            [0.12 * g, 0.32 * g + 0.05, 0.1 * g]
                        }
                    }
                    BackgroundKind::Indoor => {
                        let poster = hash2(
                            (xf / (wf * 0.5)) as i32,
                            (yf / (hf * 0.25)) as i32,
                            salt ^ 2,
                        );
                        let fx = (xf / (wf * 0.5)).fract();
                        let fy = (yf / (hf * 0.25)).fract();
                        if poster > 0.4 && fx > 0.15 && fx < 0.85 && fy > 0.2 && fy < 0.8 {
                            scale(up_b, 1.2 + 0.2 * poster)
                        } else {
                            scale(mix(up_a, [0.85, 0.83, 0.8], 0.5), 0.9 + 0.2 * n)
                        }
                    }
                    BackgroundKind::Road => {
                        let car = hash2((xf / (wf * 0.6)) as i32, 0, salt ^ 3);
                        if yf > hz - hf * 0.12 && car > 0.0 {
                            scale(mix(up_b, [0.3 + 0.5 * car, 0.1, 0.1], 0.4), 0.7 + 0.5 * n)
                        } else {
                            scale(up_a, 0.8 + 0.3 * n)
                        }
                    }
                    BackgroundKind::Wall | BackgroundKind::Plaza => {
                        let rowi = (yf / brick) as i32;
                        let off = if rowi % 2 == 0 { 0.0 } else { brick * 1.25 };
                        let bx = ((xf + off) / (brick * 2.5)).fract();
                        let by = (yf / brick).fract();
                        let base = if brick_red { [0.55, 0.27, 0.2] } else { up_a };
                        let bv = hash2(((xf + off) / (brick * 2.5)) as i32, rowi, salt ^ 4);
                        if bx < 0.06 || by < 0.1 {
                            [0.7, 0.68, 0.64]
                        } else {
                            scale(base, 0.9 + 0.12 * bv + 0.15 * n)
                        }
                    }
                }
            } else {
                let depth = ((yf - hz) / (hf - hz).max(1.0)).clamp(0.0, 1.0);
                match kind {
                    BackgroundKind::Park if grass => {
                        let g = 0.55 + 0.3 * m + 0.2 * pn;
                        [0.2 * g, 0.45 * g + 0.06, 0.15 * g]
                    }
                    BackgroundKind::Road => {
                        let a = 0.3 + 0.08 * m + 0.05 * pn;
                        if lane
                            && (yf - lane_y).abs() < hf * 0.012
                            && (xf / (wf * 0.5)).fract() < 0.6
                        {
                            if yellow {
                                [0.8, 0.7, 0.2]
                            } else {
                                [0.85, 0.85, 0.85]
                            }
                        } else {
                            [a, a, a * 1.03]
                        }
                    }
                    _ => {
                        let t = tile * (0.4 + 0.6 * depth);
                        let ty = hz + ((yf - hz) / t).floor() * t;
                        let tx = (xf / tile).fract();
                        let tyf = ((yf - hz) / t).fract();
                        let tv = hash2((xf / tile) as i32, ((ty - hz) / t) as i32, salt ^ 5);
                        let gloss = if kind == BackgroundKind::Indoor {
                            0.15 * (1.0 - depth)
                        } else {
                            0.0
                        };
                        if tx < 0.04 || tyf < 0.05 {
                            scale(gr_a, 0.7)
                        } else {
                            scale(gr_a, 0.92 + 0.08 * tv + 0.12 * n + gloss + 0.03 * pn)
                        }
                    }
                }
            };
            *px = c;
        }
        c.px[y * w..(y + 1) * w].copy_from_slice(&row);
    }
    // a few blocks: cars, benches, signs, other objects
    let xf0 = Xf {
        s: 1.0,
        ox: 0.0,
        oy: 0.0,
        flip: false,
    };
    for _ in 0..r.gen_range(0..4) {
        // at the sides, so that they do not read as something the person carries
        let bw = wf * r.gen_range(0.15..0.4);
        let bh = hf * r.gen_range(0.04..0.2);
        let bx = if r.gen_bool(0.5) {
            r.gen_range(-0.1..0.12)
        } else {
            r.gen_range(0.88..1.1)
        } * wf;
        let by = hz + r.gen_range(-0.15..0.05) * hf;
        let col = if r.gen_bool(0.3) {
            {
                let k = r.gen_range(0..14);
                jitter(r, Colour::ALL[k].rgb())
            }
        } else {
            muted(r, 0.1, 0.7)
        };
        let m = Mat {
            base: col,
            pat: Pat::Plain,
            shade: 0.4,
            tex: 0.02,
            alpha: r.gen_range(0.85..1.0),
        };
        c.fill(&xf0, &rrect(bx, by, bw * 0.5, bh * 0.5, bh * 0.2), &m);
    }
    // vertical light gradient
    let g0 = r.gen_range(0.85..1.15);
    let g1 = r.gen_range(0.85..1.15);
    for y in 0..h {
        let f = g0 + (g1 - g0) * y as f32 / hf;
        for p in &mut c.px[y * w..(y + 1) * w] {
            *p = scale(*p, f);
        }
    }
}

fn occlude(c: &mut Canvas, s: &Scene, a: &PersonAttributes, r: &mut ChaCha8Rng) {
    let Some(o) = s.occluder else { return };
    let (wf, hf) = (c.w as f32, c.h as f32);
    let xf0 = Xf {
        s: 1.0,
        ox: 0.0,
        oy: 0.0,
        flip: false,
    };
    match o {
        Occluder::Pole => {
            let pw = wf * r.gen_range(0.04..0.08);
            let x = wf
                * if r.gen_bool(0.5) {
                    r.gen_range(0.05..0.3)
                } else {
                    r.gen_range(0.7..0.95)
                };
            let m = Mat::solid(muted(r, 0.25, 0.6));
            c.fill(&xf0, &rrect(x, hf * 0.5, pw * 0.5, hf, pw * 0.2), &m);
        }
        Occluder::Passerby => {
            let left = r.gen_bool(0.5);
            let ow = wf * r.gen_range(0.1..0.2);
            let x = if left { 0.0 } else { wf };
            let col = {
                let k = r.gen_range(0..14);
                jitter(r, Colour::ALL[k].rgb())
            };
            let m = Mat::solid(scale(col, 0.8));
            c.fill(
                &xf0,
                &ellipse(x, hf * r.gen_range(0.4..0.7), ow, hf * 0.45),
                &m,
            );
            let _ = a;
        }
        Occluder::Bollard => {
            let bw = wf * r.gen_range(0.06..0.12);
            let x = wf
                * if r.gen_bool(0.5) {
                    r.gen_range(0.05..0.25)
                } else {
                    r.gen_range(0.75..0.95)
                };
            let bh = hf * r.gen_range(0.08..0.16);
            let m = Mat::solid(muted(r, 0.2, 0.5));
            c.fill(
                &xf0,
                &rrect(x, hf - bh * 0.5, bw * 0.5, bh * 0.5, bw * 0.3),
                &m,
            );
        }
    }
}

// ---------------------------------------------------------------- camera

fn post(c: &mut Canvas, s: &Scene, r: &mut ChaCha8Rng) {
    for p in &mut c.px {
        for (v, g) in p.iter_mut().zip(s.cast) {
            *v = ((*v - 0.5) * s.contrast + 0.5 + s.brightness) * g;
        }
    }
    if s.blur > 0.0 {
        blur(c, s.blur);
    }
    if s.noise > 0.0 {
        let salt: u32 = r.gen();
        for (i, p) in c.px.iter_mut().enumerate() {
            let (x, y) = ((i % c.w) as i32, (i / c.w) as i32);
            let lum = hash2(x, y, salt) + hash2(x, y, salt ^ 0x55);
            for (k, v) in p.iter_mut().enumerate() {
                *v += s.noise * (0.8 * lum + 0.3 * hash2(x, y, salt.wrapping_add(k as u32 + 1)));
            }
        }
    }
}

fn blur(c: &mut Canvas, sigma: f32) {
    let rad = (sigma * 2.5).ceil() as i64;
    let k: Vec<f32> = (-rad..=rad)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
    let (w, h) = (c.w as i64, c.h as i64);
    let mut tmp = vec![[0.0f32; 3]; c.px.len()];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for (j, kv) in k.iter().enumerate() {
                let xx = (x + j as i64 - rad).clamp(0, w - 1);
                let p = c.px[(y * w + xx) as usize];
                for ch in 0..3 {
                    acc[ch] += p[ch] * kv;
                }
            }
            tmp[(y * w + x) as usize] = acc;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for (j, kv) in k.iter().enumerate() {
                let yy = (y + j as i64 - rad).clamp(0, h - 1);
                let p = tmp[(yy * w + x) as usize];
                for ch in 0..3 {
                    acc[ch] += p[ch] * kv;
                }
            }
            c.px[(y * w + x) as usize] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_deterministic_and_sized() {
        let a = sample_person(&mut ChaCha8Rng::seed_from_u64(3));
        let i1 = render_person(&a, 11, 100, 256);
        let i2 = render_person(&a, 11, 100, 256);
        assert_eq!(i1.dimensions(), (100, 256));
        assert_eq!(i1.as_raw(), i2.as_raw());
        let i3 = render_person(&a, 12, 100, 256);
        assert_ne!(i1.as_raw(), i3.as_raw());
    }

    #[test]
    fn top_colour_dominates_the_chest() {
        // A plain red t-shirt, front view, no degradations: the chest pixel is red.
        let mut a = sample_person(&mut ChaCha8Rng::seed_from_u64(5));
        a.top = Top {
            kind: TopKind::TShirt,
            colour: Colour::Red,
            sleeves: Sleeves::Short,
            pattern: Pattern::Plain,
            pattern_colour: Colour::White,
            inner: None,
        };
        a.carry = None;
        a.hair.style = HairStyle::Short;
        let mut s = Scene::sample(1);
        s.view = View::Front;
        s.offset = (0.0, 0.0);
        s.brightness = 0.0;
        s.contrast = 1.0;
        s.cast = [1.0; 3];
        s.blur = 0.0;
        s.noise = 0.0;
        s.jpeg_quality = None;
        s.low_res = None;
        s.occluder = None;
        let img = render_scene(&a, &s, 128, 384);
        // chest: about 30 % down the person, centre column
        let top = (384.0 - 384.0 * s.person_height) * 0.5;
        let y = (top + 384.0 * s.person_height * 0.3) as u32;
        let p = img.get_pixel(64 + 12, y).0;
        assert!(p[0] > 120 && p[1] < 80 && p[2] < 80, "chest pixel {p:?}");
    }
}
