//! The motion model that predicts where a tracked person is in the next frame: a
//! constant-velocity Kalman filter on the box centre, aspect ratio (width / height) and
//! height, as in SORT and ByteTrack.
//!
//! State: `[cx, cy, a, h, vcx, vcy, va, vh]`; measurement: `[cx, cy, a, h]`. One step is
//! one processed frame (not a fixed number of milliseconds): association happens per
//! frame, and a camera that drops frames under load drops them before the tracker sees
//! them, so "frames the tracker saw" is the unit the velocities are learnt in. The noise
//! of position and velocity scales with the box height (a person near the camera moves
//! more pixels per frame than one far away); the aspect ratio gets a small fixed noise
//! because a walking person's width / height changes little.
//!
//! Why a Kalman filter and not "last box + last displacement": the filter averages the
//! detector's jitter into the velocity, so that a person who is not detected for a
//! few frames is predicted along a smooth path and is found again when they reappear.
use crate::frame::BBox;

const STATE: usize = 8;
const MEASURE: usize = 4;

/// Position noise per unit of box height (ByteTrack's value).
const POSITION_NOISE_PER_HEIGHT: f64 = 1.0 / 20.0;
/// Velocity noise per unit of box height (ByteTrack's value).
const VELOCITY_NOISE_PER_HEIGHT: f64 = 1.0 / 160.0;
/// Smallest box side the model keeps, so that a prediction never turns into an empty or
/// inverted box (and the noise, proportional to the height, never vanishes).
const MIN_SIDE: f64 = 1.0;

type Matrix<const R: usize, const C: usize> = [[f64; C]; R];

/// A Kalman-filtered box with its velocity.
#[derive(Debug, Clone)]
pub struct BoxMotion {
    mean: [f64; STATE],
    covariance: Matrix<STATE, STATE>,
}

impl BoxMotion {
    /// A new filter at `bbox`, with zero velocity and a wide velocity uncertainty.
    pub fn new(bbox: &BBox) -> Self {
        let z = measurement(bbox);
        let h = z[3];
        let mut mean = [0.0; STATE];
        mean[..MEASURE].copy_from_slice(&z);
        let std = [
            2.0 * POSITION_NOISE_PER_HEIGHT * h,
            2.0 * POSITION_NOISE_PER_HEIGHT * h,
            1e-2,
            2.0 * POSITION_NOISE_PER_HEIGHT * h,
            10.0 * VELOCITY_NOISE_PER_HEIGHT * h,
            10.0 * VELOCITY_NOISE_PER_HEIGHT * h,
            1e-5,
            10.0 * VELOCITY_NOISE_PER_HEIGHT * h,
        ];
        BoxMotion {
            mean,
            covariance: diagonal_squared(&std),
        }
    }

    /// Advances the state by one frame. `hold_height` zeroes the height velocity first:
    /// a track that is not currently matched should keep moving but not keep growing or
    /// shrinking without evidence (ByteTrack does the same for lost tracks).
    pub fn predict(&mut self, hold_height: bool) {
        if hold_height {
            self.mean[7] = 0.0;
        }
        let h = self.mean[3].max(MIN_SIDE);
        let q = diagonal_squared(&[
            POSITION_NOISE_PER_HEIGHT * h,
            POSITION_NOISE_PER_HEIGHT * h,
            1e-2,
            POSITION_NOISE_PER_HEIGHT * h,
            VELOCITY_NOISE_PER_HEIGHT * h,
            VELOCITY_NOISE_PER_HEIGHT * h,
            1e-5,
            VELOCITY_NOISE_PER_HEIGHT * h,
        ]);
        let f = transition();
        self.mean = mat_vec(&f, &self.mean);
        let fp = mat_mul(&f, &self.covariance);
        let fpft = mat_mul(&fp, &transpose(&f));
        self.covariance = add(&fpft, &q);
        self.keep_box_valid();
    }

    /// Corrects the state with an observed box.
    pub fn update(&mut self, bbox: &BBox) {
        let z = measurement(bbox);
        let h = self.mean[3].max(MIN_SIDE);
        let r = diagonal_squared(&[
            POSITION_NOISE_PER_HEIGHT * h,
            POSITION_NOISE_PER_HEIGHT * h,
            1e-1,
            POSITION_NOISE_PER_HEIGHT * h,
        ]);
        // H = [I | 0], so H P Hᵀ is the top-left block and P Hᵀ the left columns.
        let mut innovation_cov: Matrix<MEASURE, MEASURE> = [[0.0; MEASURE]; MEASURE];
        let mut p_ht: Matrix<STATE, MEASURE> = [[0.0; MEASURE]; STATE];
        for (i, row) in self.covariance.iter().enumerate() {
            p_ht[i].copy_from_slice(&row[..MEASURE]);
            if i < MEASURE {
                innovation_cov[i].copy_from_slice(&row[..MEASURE]);
            }
        }
        let innovation_cov = add(&innovation_cov, &r);
        let Some(s_inv) = invert4(&innovation_cov) else {
            // A degenerate covariance cannot weigh the evidence; trust the observation.
            *self = BoxMotion::new(bbox);
            return;
        };
        let gain = mat_mul(&p_ht, &s_inv);
        let residual: [f64; MEASURE] = std::array::from_fn(|i| z[i] - self.mean[i]);
        let correction = mat_vec(&gain, &residual);
        for (m, c) in self.mean.iter_mut().zip(correction) {
            *m += c;
        }
        let k_s = mat_mul(&gain, &innovation_cov);
        let k_s_kt = mat_mul(&k_s, &transpose(&gain));
        for (row, sub) in self.covariance.iter_mut().zip(k_s_kt.iter()) {
            for (p, s) in row.iter_mut().zip(sub) {
                *p -= s;
            }
        }
        self.keep_box_valid();
    }

    /// The current (predicted or corrected) box.
    pub fn bbox(&self) -> BBox {
        let [cx, cy, a, h] = [self.mean[0], self.mean[1], self.mean[2], self.mean[3]];
        let w = a * h;
        BBox::new(
            (cx - w / 2.0) as f32,
            (cy - h / 2.0) as f32,
            (cx + w / 2.0) as f32,
            (cy + h / 2.0) as f32,
        )
    }

    /// Velocity of the box centre, pixels per frame.
    pub fn velocity(&self) -> (f32, f32) {
        (self.mean[4] as f32, self.mean[5] as f32)
    }

    fn keep_box_valid(&mut self) {
        // The aspect ratio is bounded so that width = a·h stays at least MIN_SIDE.
        self.mean[3] = self.mean[3].max(MIN_SIDE);
        self.mean[2] = self.mean[2].max(MIN_SIDE / self.mean[3]);
    }
}

fn measurement(bbox: &BBox) -> [f64; MEASURE] {
    let (cx, cy) = bbox.center();
    let h = f64::from(bbox.height()).max(MIN_SIDE);
    let w = f64::from(bbox.width()).max(MIN_SIDE);
    [f64::from(cx), f64::from(cy), w / h, h]
}

/// F: position += velocity (one frame), velocity unchanged.
fn transition() -> Matrix<STATE, STATE> {
    let mut f = [[0.0; STATE]; STATE];
    for (i, row) in f.iter_mut().enumerate() {
        row[i] = 1.0;
        if i < MEASURE {
            row[i + MEASURE] = 1.0;
        }
    }
    f
}

fn diagonal_squared<const N: usize>(std: &[f64; N]) -> Matrix<N, N> {
    let mut m = [[0.0; N]; N];
    for (i, s) in std.iter().enumerate() {
        m[i][i] = s * s;
    }
    m
}

fn mat_mul<const R: usize, const K: usize, const C: usize>(
    a: &Matrix<R, K>,
    b: &Matrix<K, C>,
) -> Matrix<R, C> {
    let mut out = [[0.0; C]; R];
    for (out_row, a_row) in out.iter_mut().zip(a) {
        for (k, a_rk) in a_row.iter().enumerate() {
            for (o, b_kc) in out_row.iter_mut().zip(&b[k]) {
                *o += a_rk * b_kc;
            }
        }
    }
    out
}

fn mat_vec<const R: usize, const C: usize>(a: &Matrix<R, C>, v: &[f64; C]) -> [f64; R] {
    std::array::from_fn(|r| a[r].iter().zip(v).map(|(x, y)| x * y).sum())
}

fn transpose<const R: usize, const C: usize>(a: &Matrix<R, C>) -> Matrix<C, R> {
    std::array::from_fn(|c| std::array::from_fn(|r| a[r][c]))
}

fn add<const R: usize, const C: usize>(a: &Matrix<R, C>, b: &Matrix<R, C>) -> Matrix<R, C> {
    std::array::from_fn(|r| std::array::from_fn(|c| a[r][c] + b[r][c]))
}

/// Gauss–Jordan inverse with partial pivoting; `None` for a (numerically) singular matrix.
fn invert4(m: &Matrix<MEASURE, MEASURE>) -> Option<Matrix<MEASURE, MEASURE>> {
    let mut work = *m;
    let mut inv = diagonal_squared(&[1.0; MEASURE]);
    for col in 0..MEASURE {
        let pivot =
            (col..MEASURE).max_by(|&a, &b| work[a][col].abs().total_cmp(&work[b][col].abs()))?;
        if work[pivot][col].abs() < 1e-12 {
            return None;
        }
        work.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = 1.0 / work[col][col];
        for c in 0..MEASURE {
            work[col][c] *= scale;
            inv[col][c] *= scale;
        }
        for row in 0..MEASURE {
            if row != col {
                let factor = work[row][col];
                if factor != 0.0 {
                    for c in 0..MEASURE {
                        work[row][c] -= factor * work[col][c];
                        inv[row][c] -= factor * inv[col][c];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_constant_velocity_and_extrapolates_it() {
        let mut motion = BoxMotion::new(&BBox::new(100.0, 100.0, 140.0, 220.0));
        for step in 1..=15 {
            motion.predict(false);
            let dx = 6.0 * step as f32;
            motion.update(&BBox::new(100.0 + dx, 100.0, 140.0 + dx, 220.0));
        }
        let (vx, vy) = motion.velocity();
        assert!((vx - 6.0).abs() < 0.5, "vx = {vx}");
        assert!(vy.abs() < 0.5, "vy = {vy}");
        // Three frames without a detection: the prediction keeps walking.
        for _ in 0..3 {
            motion.predict(true);
        }
        let predicted = motion.bbox();
        let truth = BBox::new(100.0 + 108.0, 100.0, 140.0 + 108.0, 220.0);
        assert!(predicted.iou(&truth) > 0.8, "{predicted:?} vs {truth:?}");
    }

    #[test]
    fn box_round_trips_through_the_state() {
        let bbox = BBox::new(10.0, 20.0, 60.0, 170.0);
        let restored = BoxMotion::new(&bbox).bbox();
        assert!(restored.iou(&bbox) > 0.999, "{restored:?}");
    }

    #[test]
    fn degenerate_boxes_stay_valid() {
        let mut motion = BoxMotion::new(&BBox::new(5.0, 5.0, 5.0, 5.0));
        for _ in 0..5 {
            motion.predict(false);
            motion.update(&BBox::new(5.0, 5.0, 5.0, 5.0));
        }
        let b = motion.bbox();
        assert!(b.width() >= 0.99 && b.height() >= 0.99, "{b:?}");
        assert!(b.x1.is_finite() && b.y2.is_finite());
    }

    #[test]
    fn inverse_of_a_spd_matrix() {
        let m = [
            [4.0, 1.0, 0.0, 0.5],
            [1.0, 3.0, 0.2, 0.0],
            [0.0, 0.2, 2.0, 0.1],
            [0.5, 0.0, 0.1, 1.0],
        ];
        let inv = invert4(&m).unwrap();
        let id = mat_mul(&m, &inv);
        for (r, row) in id.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let expected = if r == c { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-9);
            }
        }
        assert!(invert4(&[[0.0; 4]; 4]).is_none());
    }
}
