//! A time-aware constant-velocity Kalman filter for one box.
//!
//! The state is SORT / DeepSORT / ByteTrack's `(cx, cy, a, h, vcx, vcy, va, vh)`: box centre,
//! aspect ratio `a = w / h`, height, and their velocities. The measurement is `(cx, cy, a, h)`.
//! Noise is proportional to the box height with `STD_WEIGHT_POSITION = 1/20` and
//! `STD_WEIGHT_VELOCITY = 1/160`, as in those trackers.
//!
//! Time: velocities are in pixels per *nominal step* (`nominal_frame_interval_s`, 0.1 s by
//! default), so the familiar per-step constants keep their meaning. Predicting over `dt`
//! seconds uses `k = dt / nominal` steps: the transition adds `k * velocity` to each position
//! (`F = [[I, k I], [0, I]]`), and the process noise covariance is `k * Q` (a random walk: the
//! variance of position and velocity noise grows linearly with elapsed time, as for
//! continuous white noise). One prediction over `k` steps gives exactly the mean of `k`
//! unit steps; the covariance differs only in the cross terms of the noise. With `k = 1` this
//! is the frame-based filter. A 1 s motion-gating gap therefore moves the box by 1 s of
//! velocity and widens the uncertainty by 1 s of noise, whatever the frame rate.
//!
//! The algebra is done by hand on fixed-size arrays (8x8 state, 4x4 innovation): it is a few
//! dozen lines, allocation-free, and saves the workspace a large dependency (nalgebra) for
//! two matrix shapes.

// Index loops read like the matrix formulas they implement; iterator chains would not.
#![allow(clippy::needless_range_loop)]

use hallwatch_core::BBox;

const STD_WEIGHT_POSITION: f64 = 1.0 / 20.0;
const STD_WEIGHT_VELOCITY: f64 = 1.0 / 160.0;

type Vec8 = [f64; 8];
type Mat8 = [[f64; 8]; 8];
type Mat4 = [[f64; 4]; 4];

/// The filter's mean and covariance for one box.
#[derive(Clone, Debug)]
pub(crate) struct BoxKalman {
    mean: Vec8,
    cov: Mat8,
}

/// `(cx, cy, a, h)` of a box with positive width and height.
fn measurement(b: &BBox) -> [f64; 4] {
    let (cx, cy) = b.centre();
    let h = f64::from(b.height());
    let w = f64::from(b.width());
    [f64::from(cx), f64::from(cy), w / h, h]
}

fn diag8(d: &Vec8) -> Mat8 {
    let mut m = [[0.0; 8]; 8];
    for i in 0..8 {
        m[i][i] = d[i];
    }
    m
}

fn mul8(a: &Mat8, b: &Mat8) -> Mat8 {
    let mut out = [[0.0; 8]; 8];
    for i in 0..8 {
        for k in 0..8 {
            let aik = a[i][k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..8 {
                out[i][j] += aik * b[k][j];
            }
        }
    }
    out
}

fn transpose8(a: &Mat8) -> Mat8 {
    let mut out = [[0.0; 8]; 8];
    for i in 0..8 {
        for j in 0..8 {
            out[j][i] = a[i][j];
        }
    }
    out
}

/// Inverse of a symmetric positive-definite 4x4 matrix by Cholesky, `None` when not SPD.
fn spd_inverse4(s: &Mat4) -> Option<Mat4> {
    let mut l = [[0.0f64; 4]; 4];
    for i in 0..4 {
        for j in 0..=i {
            let mut sum = s[i][j];
            for k in 0..j {
                sum -= l[i][k] * l[j][k];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i][i] = sum.sqrt();
            } else {
                l[i][j] = sum / l[j][j];
            }
        }
    }
    // L^-1 by forward substitution (lower triangular).
    let mut li = [[0.0f64; 4]; 4];
    for c in 0..4 {
        for i in c..4 {
            let mut sum = if i == c { 1.0 } else { 0.0 };
            for k in c..i {
                sum -= l[i][k] * li[k][c];
            }
            li[i][c] = sum / l[i][i];
        }
    }
    // S^-1 = L^-T L^-1.
    let mut inv = [[0.0f64; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            let mut sum = 0.0;
            for k in i.max(j)..4 {
                sum += li[k][i] * li[k][j];
            }
            inv[i][j] = sum;
        }
    }
    Some(inv)
}

impl BoxKalman {
    /// A filter at `bbox` (positive width and height) with zero velocity and ByteTrack's
    /// initial uncertainty.
    pub(crate) fn new(bbox: &BBox) -> Self {
        let z = measurement(bbox);
        let h = z[3];
        let p = STD_WEIGHT_POSITION * h;
        let v = STD_WEIGHT_VELOCITY * h;
        let std = [
            2.0 * p,
            2.0 * p,
            1e-2,
            2.0 * p,
            10.0 * v,
            10.0 * v,
            1e-5,
            10.0 * v,
        ];
        let var = std.map(|s| s * s);
        Self {
            mean: [z[0], z[1], z[2], z[3], 0.0, 0.0, 0.0, 0.0],
            cov: diag8(&var),
        }
    }

    /// Moves the state forward by `k` nominal frame intervals (`dt / nominal`). Non-positive
    /// or non-finite `k` leaves the state alone.
    pub(crate) fn predict(&mut self, k: f64) {
        if !(k > 0.0 && k.is_finite()) {
            return;
        }
        let h = self.mean[3].abs();
        let p = STD_WEIGHT_POSITION * h;
        let v = STD_WEIGHT_VELOCITY * h;
        let std = [p, p, 1e-2, p, v, v, 1e-5, v];
        let q = std.map(|s| k * s * s);

        let mut f = diag8(&[1.0; 8]);
        for i in 0..4 {
            f[i][i + 4] = k;
        }
        for i in 0..4 {
            self.mean[i] += k * self.mean[i + 4];
        }
        let mut cov = mul8(&mul8(&f, &self.cov), &transpose8(&f));
        for i in 0..8 {
            cov[i][i] += q[i];
        }
        self.cov = cov;
    }

    /// Corrects the state with a measured box (positive width and height). Returns false, and
    /// restarts the filter at the box, if the innovation covariance was degenerate (never
    /// expected with finite inputs).
    pub(crate) fn update(&mut self, bbox: &BBox) -> bool {
        let z = measurement(bbox);
        let h = self.mean[3].abs();
        let p = STD_WEIGHT_POSITION * h;
        let r = [p * p, p * p, 1e-1 * 1e-1, p * p];

        let mut s = [[0.0f64; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                s[i][j] = self.cov[i][j];
            }
            s[i][i] += r[i];
        }
        let Some(s_inv) = spd_inverse4(&s) else {
            *self = Self::new(bbox);
            return false;
        };
        // Gain K = P H^T S^-1 (8x4); H selects the first four state components.
        let mut gain = [[0.0f64; 4]; 8];
        for i in 0..8 {
            for j in 0..4 {
                let mut sum = 0.0;
                for k in 0..4 {
                    sum += self.cov[i][k] * s_inv[k][j];
                }
                gain[i][j] = sum;
            }
        }
        let innovation = [
            z[0] - self.mean[0],
            z[1] - self.mean[1],
            z[2] - self.mean[2],
            z[3] - self.mean[3],
        ];
        for i in 0..8 {
            for j in 0..4 {
                self.mean[i] += gain[i][j] * innovation[j];
            }
        }
        // P' = P - K S K^T = P - K (H P).
        let mut cov = self.cov;
        for i in 0..8 {
            for j in 0..8 {
                let mut sum = 0.0;
                for k in 0..4 {
                    sum += gain[i][k] * self.cov[k][j];
                }
                cov[i][j] -= sum;
            }
        }
        // Keep it exactly symmetric against rounding drift.
        for i in 0..8 {
            for j in (i + 1)..8 {
                let m = 0.5 * (cov[i][j] + cov[j][i]);
                cov[i][j] = m;
                cov[j][i] = m;
            }
        }
        if self.mean.iter().any(|x| !x.is_finite()) || cov.iter().flatten().any(|x| !x.is_finite())
        {
            *self = Self::new(bbox);
            return false;
        }
        self.cov = cov;
        true
    }

    /// Stops the height from changing (ByteTrack zeroes `vh` of tracks that are not tracked
    /// before predicting, so a lost box does not grow or shrink without evidence).
    pub(crate) fn freeze_height(&mut self) {
        self.mean[7] = 0.0;
    }

    /// The box of the current mean (height at least 1 px, aspect at least 0.01).
    pub(crate) fn bbox(&self) -> BBox {
        let h = self.mean[3].max(1.0);
        let w = self.mean[2].max(0.01) * h;
        BBox::from_cxcywh(self.mean[0] as f32, self.mean[1] as f32, w as f32, h as f32)
    }

    /// A loose bound on the centre's speed, x and y, in pixels per nominal frame interval: the
    /// estimated speed plus one standard deviation of it. Near zero for a person standing
    /// still; large for a track just born (its velocity is unknown).
    pub(crate) fn speed_bound(&self) -> (f64, f64) {
        (
            self.mean[4].abs() + self.cov[4][4].max(0.0).sqrt(),
            self.mean[5].abs() + self.cov[5][5].max(0.0).sqrt(),
        )
    }

    /// Velocity of the centre in pixels per nominal frame interval.
    #[cfg(test)]
    pub(crate) fn centre_velocity(&self) -> (f64, f64) {
        (self.mean[4], self.mean[5])
    }

    /// Variance of the centre's x coordinate.
    #[cfg(test)]
    pub(crate) fn var_cx(&self) -> f64 {
        self.cov[0][0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn cholesky_inverse_is_an_inverse() {
        let s = [
            [4.0, 1.0, 0.5, 0.0],
            [1.0, 3.0, 0.2, 0.1],
            [0.5, 0.2, 2.0, 0.3],
            [0.0, 0.1, 0.3, 1.0],
        ];
        let inv = spd_inverse4(&s).unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let v: f64 = (0..4).map(|k| s[i][k] * inv[k][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(spd_inverse4(&[[0.0; 4]; 4]).is_none());
    }

    #[test]
    fn learns_constant_velocity_and_scales_with_dt() {
        // 10 px per nominal frame to the right.
        let mut kf = BoxKalman::new(&BBox::from_cxcywh(100.0, 200.0, 40.0, 100.0));
        for i in 1..=20 {
            kf.predict(1.0);
            kf.update(&BBox::from_cxcywh(
                100.0 + 10.0 * i as f32,
                200.0,
                40.0,
                100.0,
            ));
        }
        let (vx, vy) = kf.centre_velocity();
        assert!((vx - 10.0).abs() < 0.5, "vx {vx}");
        assert!(vy.abs() < 0.5, "vy {vy}");

        let mut one = kf.clone();
        one.predict(1.0);
        let mut five = kf.clone();
        five.predict(5.0);
        let mut steps = kf.clone();
        for _ in 0..5 {
            steps.predict(1.0);
        }
        let (c1, c5, cs) = (
            one.bbox().centre().0,
            five.bbox().centre().0,
            steps.bbox().centre().0,
        );
        assert!(close(c1, 310.0, 1.0), "{c1}");
        assert!(close(c5, 350.0, 3.0), "{c5}");
        // One long step lands where five short ones do.
        assert!(close(c5, cs, 1e-3), "{c5} vs {cs}");
        // Uncertainty grows with the elapsed time.
        assert!(five.var_cx() > one.var_cx() * 2.0);
        assert!(one.var_cx() > kf.var_cx());
        // Non-positive steps change nothing.
        let mut zero = kf.clone();
        zero.predict(0.0);
        zero.predict(-1.0);
        zero.predict(f64::NAN);
        assert_eq!(zero.bbox(), kf.bbox());
        // The box keeps its size.
        assert!(close(five.bbox().width(), 40.0, 0.5));
        assert!(close(five.bbox().height(), 100.0, 0.5));
    }
}
