//! Person attributes (what a person wears and carries) and their sampling.
//!
//! Everything a caption may mention is an attribute here; the renderer adds only
//! identity-consistent micro variation (exact shades, stripe widths, hem lengths),
//! drawn from [`PersonAttributes::detail_seed`], so every image of one identity shows
//! the same clothes.
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The named colour palette of clothes, shoes, bags and hats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Black,
    White,
    Grey,
    Red,
    Blue,
    Navy,
    Green,
    Yellow,
    Orange,
    Pink,
    Purple,
    Brown,
    Beige,
    Khaki,
}

impl Colour {
    pub const ALL: [Colour; 14] = [
        Colour::Black,
        Colour::White,
        Colour::Grey,
        Colour::Red,
        Colour::Blue,
        Colour::Navy,
        Colour::Green,
        Colour::Yellow,
        Colour::Orange,
        Colour::Pink,
        Colour::Purple,
        Colour::Brown,
        Colour::Beige,
        Colour::Khaki,
    ];

    /// The canonical English name.
    pub fn name(self) -> &'static str {
        match self {
            Colour::Black => "black",
            Colour::White => "white",
            Colour::Grey => "grey",
            Colour::Red => "red",
            Colour::Blue => "blue",
            Colour::Navy => "navy",
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Orange => "orange",
            Colour::Pink => "pink",
            Colour::Purple => "purple",
            Colour::Brown => "brown",
            Colour::Beige => "beige",
            Colour::Khaki => "khaki",
        }
    }

    /// Typical sRGB value (the renderer jitters it per identity).
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Black => [28, 28, 32],
            Colour::White => [236, 236, 232],
            Colour::Grey => [130, 130, 134],
            Colour::Red => [196, 30, 36],
            Colour::Blue => [38, 92, 200],
            Colour::Navy => [26, 36, 84],
            Colour::Green => [36, 132, 58],
            Colour::Yellow => [240, 204, 36],
            Colour::Orange => [240, 122, 26],
            Colour::Pink => [240, 140, 180],
            Colour::Purple => [112, 48, 146],
            Colour::Brown => [112, 70, 38],
            Colour::Beige => [218, 198, 160],
            Colour::Khaki => [168, 152, 100],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Age {
    Young,
    Adult,
    Elderly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Build {
    Slim,
    Average,
    Heavy,
}

/// Which side of the person the camera sees. `Left`/`Right`: side views, the person
/// facing (walking towards) the left / right edge of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Front,
    Back,
    Left,
    Right,
}

impl View {
    pub const ALL: [View; 4] = [View::Front, View::Back, View::Left, View::Right];
    pub fn is_side(self) -> bool {
        matches!(self, View::Left | View::Right)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HairStyle {
    Short,
    Long,
    Ponytail,
    Bald,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HairColour {
    Black,
    Brown,
    Blonde,
    Grey,
    Red,
}

impl HairColour {
    pub fn rgb(self) -> [u8; 3] {
        match self {
            HairColour::Black => [24, 20, 18],
            HairColour::Brown => [92, 56, 30],
            HairColour::Blonde => [218, 182, 108],
            HairColour::Grey => [170, 166, 160],
            HairColour::Red => [156, 62, 28],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hair {
    pub style: HairStyle,
    pub colour: HairColour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadwearKind {
    /// Baseball cap with a brim.
    Cap,
    /// Knit hat / beanie.
    Beanie,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headwear {
    pub kind: HeadwearKind,
    pub colour: Colour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopKind {
    TShirt,
    Shirt,
    Jacket,
    /// Long coat (to the knees).
    Coat,
    Hoodie,
    /// Covers the legs partly; then the bottom is absent or leggings.
    Dress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sleeves {
    Short,
    Long,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Plain,
    Striped,
    Checked,
    /// A print on the chest, visible from the front only.
    Logo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Top {
    pub kind: TopKind,
    pub colour: Colour,
    pub sleeves: Sleeves,
    pub pattern: Pattern,
    /// Stripe / check / logo colour (unused when plain).
    pub pattern_colour: Colour,
    /// The layer under an open jacket or coat, visible from the front.
    pub inner: Option<Colour>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BottomKind {
    Trousers,
    Jeans,
    Shorts,
    Skirt,
    /// Only under a dress.
    Leggings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bottom {
    pub kind: BottomKind,
    pub colour: Colour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShoeKind {
    Sneakers,
    Boots,
    Sandals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shoes {
    pub kind: ShoeKind,
    pub colour: Colour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarryKind {
    Backpack,
    ShoulderBag,
    Handbag,
    Suitcase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carry {
    pub kind: CarryKind,
    pub colour: Colour,
}

/// Everything about one identity. Same attributes → same clothes in every image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonAttributes {
    pub gender: Gender,
    pub age: Age,
    pub build: Build,
    /// Relative leg length, 0.95–1.05.
    pub height: f32,
    /// Relative shoulder width, 0.9–1.1.
    pub shoulders: f32,
    /// Index into the skin-tone ramp, 0 (lightest) – 5 (darkest).
    pub skin_tone: u8,
    pub hair: Hair,
    pub headwear: Option<Headwear>,
    pub top: Top,
    /// `None` only under a dress (bare legs).
    pub bottom: Option<Bottom>,
    pub shoes: Shoes,
    pub carry: Option<Carry>,
    /// Seed of identity-consistent rendering details (exact shades, hem lengths...).
    pub detail_seed: u64,
}

/// Picks an index with probability proportional to `weights`.
pub(crate) fn weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[f32]) -> usize {
    let total: f32 = weights.iter().sum();
    let mut x = rng.gen::<f32>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, items: &[(T, f32)]) -> T {
    let w: Vec<f32> = items.iter().map(|i| i.1).collect();
    items[weighted(rng, &w)].0
}

/// A palette colour, weighted towards the common clothing colours.
fn clothing_colour<R: Rng + ?Sized>(rng: &mut R) -> Colour {
    use Colour::*;
    pick(
        rng,
        &[
            (Black, 3.0),
            (White, 2.5),
            (Grey, 2.0),
            (Red, 1.3),
            (Blue, 1.5),
            (Navy, 1.2),
            (Green, 1.0),
            (Yellow, 0.8),
            (Orange, 0.6),
            (Pink, 0.9),
            (Purple, 0.7),
            (Brown, 0.8),
            (Beige, 0.8),
            (Khaki, 0.6),
        ],
    )
}

fn colour_other_than<R: Rng + ?Sized>(rng: &mut R, not: Colour) -> Colour {
    loop {
        let c = clothing_colour(rng);
        if c != not {
            return c;
        }
    }
}

/// Samples a random person. All draws come from `rng`, so a seeded rng gives the
/// same person every time.
pub fn sample_person<R: Rng + ?Sized>(rng: &mut R) -> PersonAttributes {
    use Colour::*;
    let gender = if rng.gen_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let female = gender == Gender::Female;
    let age = pick(
        rng,
        &[(Age::Young, 0.3), (Age::Adult, 0.55), (Age::Elderly, 0.15)],
    );
    let build = pick(
        rng,
        &[
            (Build::Slim, 0.35),
            (Build::Average, 0.45),
            (Build::Heavy, 0.2),
        ],
    );
    let height = rng.gen_range(0.95..1.05);
    let shoulders = rng.gen_range(0.9..1.1);
    let skin_tone = weighted(rng, &[1.0, 1.2, 1.0, 0.8, 0.7, 0.5]) as u8;

    let style = if female {
        pick(
            rng,
            &[
                (HairStyle::Long, 0.55),
                (HairStyle::Ponytail, 0.25),
                (HairStyle::Short, 0.2),
            ],
        )
    } else {
        let bald = if age == Age::Elderly { 0.25 } else { 0.05 };
        pick(
            rng,
            &[
                (HairStyle::Short, 0.82),
                (HairStyle::Bald, bald),
                (HairStyle::Long, 0.07),
                (HairStyle::Ponytail, 0.03),
            ],
        )
    };
    let grey = if age == Age::Elderly { 2.0 } else { 0.03 };
    let hair_colour = pick(
        rng,
        &[
            (HairColour::Black, 0.45),
            (HairColour::Brown, 0.3),
            (HairColour::Blonde, 0.13),
            (HairColour::Red, 0.04),
            (HairColour::Grey, grey),
        ],
    );
    let hair = Hair {
        style,
        colour: hair_colour,
    };
    let headwear = if rng.gen_bool(0.2) {
        let kind = if rng.gen_bool(0.6) {
            HeadwearKind::Cap
        } else {
            HeadwearKind::Beanie
        };
        Some(Headwear {
            kind,
            colour: clothing_colour(rng),
        })
    } else {
        None
    };

    let kind = if female {
        pick(
            rng,
            &[
                (TopKind::TShirt, 0.22),
                (TopKind::Shirt, 0.16),
                (TopKind::Jacket, 0.16),
                (TopKind::Coat, 0.14),
                (TopKind::Hoodie, 0.12),
                (TopKind::Dress, 0.2),
            ],
        )
    } else {
        pick(
            rng,
            &[
                (TopKind::TShirt, 0.3),
                (TopKind::Shirt, 0.2),
                (TopKind::Jacket, 0.2),
                (TopKind::Coat, 0.1),
                (TopKind::Hoodie, 0.2),
            ],
        )
    };
    let colour = clothing_colour(rng);
    let sleeves = match kind {
        TopKind::TShirt => {
            if rng.gen_bool(0.88) {
                Sleeves::Short
            } else {
                Sleeves::Long
            }
        }
        TopKind::Shirt => {
            if rng.gen_bool(0.6) {
                Sleeves::Long
            } else {
                Sleeves::Short
            }
        }
        TopKind::Dress => {
            if rng.gen_bool(0.8) {
                Sleeves::Short
            } else {
                Sleeves::Long
            }
        }
        _ => Sleeves::Long,
    };
    let pattern = match kind {
        TopKind::TShirt | TopKind::Hoodie => pick(
            rng,
            &[
                (Pattern::Plain, 0.62),
                (Pattern::Striped, 0.13),
                (Pattern::Logo, 0.25),
            ],
        ),
        TopKind::Shirt => pick(
            rng,
            &[
                (Pattern::Plain, 0.5),
                (Pattern::Striped, 0.2),
                (Pattern::Checked, 0.3),
            ],
        ),
        TopKind::Dress => pick(
            rng,
            &[
                (Pattern::Plain, 0.75),
                (Pattern::Striped, 0.15),
                (Pattern::Checked, 0.1),
            ],
        ),
        TopKind::Jacket | TopKind::Coat => {
            pick(rng, &[(Pattern::Plain, 0.92), (Pattern::Checked, 0.08)])
        }
    };
    let pattern_colour = colour_other_than(rng, colour);
    let inner = match kind {
        TopKind::Jacket | TopKind::Coat => Some(colour_other_than(rng, colour)),
        _ => None,
    };
    let top = Top {
        kind,
        colour,
        sleeves,
        pattern,
        pattern_colour,
        inner,
    };

    let bottom = if kind == TopKind::Dress {
        if rng.gen_bool(0.4) {
            Some(Bottom {
                kind: BottomKind::Leggings,
                colour: pick(rng, &[(Black, 3.0), (Grey, 1.0), (Navy, 1.0), (Brown, 0.5)]),
            })
        } else {
            None
        }
    } else {
        let bk = if female {
            pick(
                rng,
                &[
                    (BottomKind::Trousers, 0.3),
                    (BottomKind::Jeans, 0.35),
                    (BottomKind::Shorts, 0.12),
                    (BottomKind::Skirt, 0.23),
                ],
            )
        } else {
            pick(
                rng,
                &[
                    (BottomKind::Trousers, 0.45),
                    (BottomKind::Jeans, 0.4),
                    (BottomKind::Shorts, 0.15),
                ],
            )
        };
        let c = match bk {
            BottomKind::Jeans => pick(
                rng,
                &[(Blue, 0.55), (Navy, 0.2), (Black, 0.18), (Grey, 0.07)],
            ),
            BottomKind::Trousers => pick(
                rng,
                &[
                    (Black, 3.0),
                    (Grey, 1.5),
                    (Navy, 1.2),
                    (Khaki, 1.0),
                    (Beige, 0.7),
                    (Brown, 0.7),
                    (Blue, 0.5),
                    (White, 0.4),
                    (Green, 0.3),
                ],
            ),
            _ => clothing_colour(rng),
        };
        Some(Bottom {
            kind: bk,
            colour: c,
        })
    };
    let bare_legs = matches!(
        bottom,
        None | Some(Bottom {
            kind: BottomKind::Shorts | BottomKind::Skirt,
            ..
        })
    );
    let shoe_kind = pick(
        rng,
        &[
            (ShoeKind::Sneakers, 0.55),
            (
                ShoeKind::Boots,
                if kind == TopKind::Coat { 0.45 } else { 0.18 },
            ),
            (ShoeKind::Sandals, if bare_legs { 0.3 } else { 0.05 }),
        ],
    );
    let shoe_colour = match shoe_kind {
        ShoeKind::Sneakers => pick(
            rng,
            &[
                (White, 0.4),
                (Black, 0.3),
                (Grey, 0.1),
                (Red, 0.05),
                (Blue, 0.07),
                (Pink, 0.04),
                (Beige, 0.04),
            ],
        ),
        ShoeKind::Boots => pick(rng, &[(Black, 0.5), (Brown, 0.35), (Beige, 0.15)]),
        ShoeKind::Sandals => pick(rng, &[(Black, 0.4), (Brown, 0.4), (White, 0.2)]),
    };
    let shoes = Shoes {
        kind: shoe_kind,
        colour: shoe_colour,
    };
    let carry_kind = pick(
        rng,
        &[
            (None, 0.3),
            (Some(CarryKind::Backpack), 0.3),
            (Some(CarryKind::ShoulderBag), 0.17),
            (Some(CarryKind::Handbag), if female { 0.17 } else { 0.06 }),
            (Some(CarryKind::Suitcase), 0.05),
        ],
    );
    let carry = carry_kind.map(|kind| Carry {
        kind,
        colour: match kind {
            CarryKind::Backpack | CarryKind::Suitcase => clothing_colour(rng),
            _ => pick(
                rng,
                &[
                    (Black, 3.0),
                    (Brown, 2.0),
                    (Beige, 0.8),
                    (Red, 0.6),
                    (White, 0.6),
                    (Grey, 0.6),
                    (Pink, 0.4),
                    (Blue, 0.4),
                ],
            ),
        },
    });
    PersonAttributes {
        gender,
        age,
        build,
        height,
        shoulders,
        skin_tone,
        hair,
        headwear,
        top,
        bottom,
        shoes,
        carry,
        detail_seed: rng.gen(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn sampling_is_deterministic_and_consistent() {
        let a: Vec<_> = (0..50)
            .map(|i| sample_person(&mut ChaCha8Rng::seed_from_u64(i)))
            .collect();
        let b: Vec<_> = (0..50)
            .map(|i| sample_person(&mut ChaCha8Rng::seed_from_u64(i)))
            .collect();
        assert_eq!(a, b);
        for p in &a {
            if p.top.kind == TopKind::Dress {
                assert!(matches!(
                    p.bottom,
                    None | Some(Bottom {
                        kind: BottomKind::Leggings,
                        ..
                    })
                ));
            } else {
                assert!(p.bottom.is_some());
                assert_ne!(p.bottom.unwrap().kind, BottomKind::Leggings);
            }
            assert_ne!(p.top.pattern_colour, p.top.colour);
        }
    }
}
