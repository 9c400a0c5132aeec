//! hallwatch-eval: scores hallwatch's detector and tracker against MOTChallenge-style ground
//! truth, offline, for `hallwatch eval-detections` and `hallwatch eval-tracks`.
//!
//! The main items:
//!
//! * [`MotRow`], [`read_mot`] and [`parse_mot`]: MOTChallenge text files
//!   (`frame,id,x,y,w,h,conf,...`, 6 to 10 columns, MOT15 and MOT16+ layouts); a malformed row
//!   is an [`EvalError::Parse`] naming file and line.
//! * [`evaluate_detections`] → [`DetectionScores`]: precision, recall and VOC all-point average
//!   precision of detections at an IoU threshold, with greedy score-ordered matching per frame
//!   and "don't care" ground-truth boxes (conf column 0) that neither reward nor penalise.
//! * [`evaluate_tracks`] → [`TrackScores`]: CLEAR-MOT (MOTA, MOTP, ID switches,
//!   fragmentations, MT/PT/ML) and ID measures (IDF1, IDP, IDR), computed as py-motmetrics
//!   computes them with an IoU distance; the integration test `motmetrics_reference` checks
//!   the figures against motmetrics on its bundled TUD-Campus and TUD-Stadtmitte sequences.
//! * [`zones::evaluate_zone`] → [`zones::ZoneScores`]: a zone's count per frame and its visits
//!   (entry, exit, duration, merges, splits) against the truth derived from ground-truth boxes,
//!   for `hallwatch eval-zones`.
//!
//! ```
//! use hallwatch_eval::{evaluate_detections, evaluate_tracks, parse_mot};
//!
//! let gt = parse_mot("1,1,10,10,20,40,1\n2,1,12,10,20,40,1\n", "gt.txt")?;
//! let det = parse_mot("1,-1,11,10,20,40,0.9\n2,-1,60,10,20,40,0.8\n", "det.txt")?;
//! let scores = evaluate_detections(&gt, &det, 0.5);
//! assert_eq!((scores.tp, scores.fp, scores.fn_), (1, 1, 1));
//!
//! let tracks = parse_mot("1,7,11,10,20,40,-1\n2,7,12,10,20,40,-1\n", "tracks.txt")?;
//! let scores = evaluate_tracks(&gt, &tracks, 0.5);
//! assert_eq!(scores.mota, 1.0);
//! # Ok::<(), hallwatch_eval::EvalError>(())
//! ```
#![deny(missing_docs)]

mod assignment;
mod detection;
mod error;
mod mot;
mod tracking;
pub mod zones;

pub use detection::{DetectionScores, evaluate_detections};
pub use error::EvalError;
pub use mot::{MotRow, parse_mot, read_mot};
pub use tracking::{TrackScores, evaluate_tracks};
