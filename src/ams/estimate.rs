//! Estimates from independent replicas: each replica contributes one row of per-replica quantities
//! ([`ReplicaSummary`]), and the estimate with its interval is a function of the rows alone, so replicas run
//! anywhere (threads, or shards of a cluster job) combine into the same numbers when taken in replica order.
//!
//! - mean exit time, renewal formula (Cérou et al. 2011): E τ = T₀ − L + (L + q)/p at the replica means,
//!   95 % interval by the delta method with the replica covariance, Student t with R − 1 degrees of freedom,
//!   on the log scale: mean·exp(±t·SE/mean);
//! - mean exit time, direct fallback: (total simulated time)/(hits of B), delta method likewise;
//! - a probability: the replica mean (unbiased) with a Student-t interval;
//! - shares of several targets, π_k = p̄_k/Σ_j p̄_j, delta method with the replica covariance.

use super::AmsError;
use super::interval;
use super::splitting::AmsRun;
use serde::{Deserialize, Serialize};

/// Which estimator produced a [`MeanExitEstimate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Renewal formula with AMS.
    Ams,
    /// Renewal–reward ratio of the direct phase (fallback): total simulated time / hits of B.
    Direct,
}

/// What one replica contributes (times in time units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaSummary {
    /// Mean approach time T₀ (start → first entrance into {ξ ≥ c}).
    pub approach_time: f64,
    /// Mean failed-loop duration L (entrance → next entrance after a return to A); 0 without loops.
    pub loop_time: f64,
    /// The AMS run of the exit problem (absent under the direct fallback).
    pub ams: Option<AmsRun>,
    /// Hits of B in the direct phase.
    pub direct_hits: u64,
    /// Entrances into {ξ ≥ c} in the direct phase.
    pub direct_entrances: u64,
    /// Steps of the direct phase.
    pub direct_steps: u64,
    /// Sum of the complete exit times (start → B) of the direct phase (the paths restart at each exit).
    pub direct_exit_time_sum: f64,
    /// Sum of the durations entrance → B of the direct phase's successful excursions.
    pub direct_success_time: f64,
}

/// A mean exit time with its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanExitEstimate {
    /// Estimate of E[τ_B].
    pub mean_time: f64,
    /// 95 % interval (log-scale delta method over replicas).
    pub ci95: (f64, f64),
    /// Delta-method standard error.
    pub std_error: f64,
    /// `ams` or `direct`.
    pub estimator: Estimator,
    /// p, the escape probability per excursion: the mean of the replicas' AMS estimates, or, under the
    /// direct fallback, hits/entrances of the direct phases.
    pub escape_probability: f64,
    /// Its 95 % Student-t interval over replicas (AMS only).
    pub escape_probability_ci95: Option<(f64, f64)>,
    /// AMS iterations summed over replicas.
    pub iterations: usize,
    /// Level a, entrance level c and target b.
    pub levels: (f64, f64, f64),
    /// Mean approach time T₀.
    pub mean_approach_time: f64,
    /// Mean failed-loop duration L.
    pub mean_loop_time: f64,
    /// E[D | success] = q̄/p̄ (AMS) or the direct mean (fallback).
    pub mean_success_time: f64,
    /// Replicas.
    pub replicas: usize,
    /// Replicas whose AMS run went extinct (p̂ = 0).
    pub extinct_replicas: usize,
    /// Steps simulated (direct phases, pilot excluded, plus AMS including replays).
    pub steps: u64,
    /// Per-replica values, in replica order.
    pub per_replica: Vec<ReplicaSummary>,
}

/// mean·exp(±t·SE/mean): the delta-method interval of ln(mean), mapped back.
fn log_ci(mean: f64, se: f64, t: f64) -> (f64, f64) {
    let h = t * se / mean;
    (mean * (-h).exp(), mean * h.exp())
}

impl MeanExitEstimate {
    /// The renewal-formula estimate from replicas that all carry an AMS run.
    pub fn renewal(per_replica: Vec<ReplicaSummary>, levels: (f64, f64, f64)) -> Result<Self, AmsError> {
        let r_count = per_replica.len();
        let rows: Vec<[f64; 4]> = per_replica
            .iter()
            .map(|s| {
                let run = s.ams.as_ref().expect("renewal rows carry an AMS run");
                [s.approach_time, s.loop_time, run.weighted_success_time, run.probability]
            })
            .collect();
        let (m, cov) = interval::mean_cov(&rows);
        let [t0, l, q, p] = m;
        if p <= 0.0 {
            return Err(AmsError::AllExtinct { replicas: r_count });
        }
        let tau = t0 - l + (l + q) / p;
        let grad = [1.0, 1.0 / p - 1.0, 1.0 / p, -(l + q) / (p * p)];
        let se = interval::delta_se(&grad, &cov, r_count);
        let t_df = interval::t975(r_count - 1);
        let hp = t_df * (cov[3][3] / r_count as f64).sqrt();
        let runs = || per_replica.iter().filter_map(|s| s.ams.as_ref());
        Ok(MeanExitEstimate {
            mean_time: tau,
            ci95: log_ci(tau, se, t_df),
            std_error: se,
            estimator: Estimator::Ams,
            escape_probability: p,
            escape_probability_ci95: Some(((p - hp).max(0.0), p + hp)),
            iterations: runs().map(|r| r.iterations).sum(),
            levels,
            mean_approach_time: t0,
            mean_loop_time: l,
            mean_success_time: q / p,
            replicas: r_count,
            extinct_replicas: runs().filter(|r| r.extinct).count(),
            steps: per_replica
                .iter()
                .map(|s| s.direct_steps + s.ams.as_ref().map_or(0, |r| r.steps))
                .sum(),
            per_replica,
        })
    }

    /// The direct estimate: the paths of the direct phases restart at x₀ after each hit of B, so they hold H
    /// complete exit times; E τ = (their sum)/H, the ratio of replica means with a delta-method interval.
    /// (The time after a path's last exit is censored and left out, which biases the mean low by
    /// O(1/exits per path); the fallback is only taken when exits are frequent.)
    pub fn direct(per_replica: Vec<ReplicaSummary>, levels: (f64, f64, f64)) -> Result<Self, AmsError> {
        let r_count = per_replica.len();
        let hits: u64 = per_replica.iter().map(|s| s.direct_hits).sum();
        if hits == 0 {
            return Err(AmsError::NoDirectHit);
        }
        let rows: Vec<[f64; 2]> = per_replica
            .iter()
            .map(|s| [s.direct_exit_time_sum, s.direct_hits as f64])
            .collect();
        let (m, cov) = interval::mean_cov(&rows);
        let tau = m[0] / m[1];
        let se = interval::delta_se(&[1.0 / m[1], -m[0] / (m[1] * m[1])], &cov, r_count);
        let entrances: u64 = per_replica.iter().map(|s| s.direct_entrances).sum();
        let sum = |f: fn(&ReplicaSummary) -> f64| per_replica.iter().map(f).sum::<f64>();
        Ok(MeanExitEstimate {
            mean_time: tau,
            ci95: log_ci(tau, se, interval::t975(r_count - 1)),
            std_error: se,
            estimator: Estimator::Direct,
            escape_probability: hits as f64 / entrances as f64,
            escape_probability_ci95: None,
            iterations: 0,
            levels,
            mean_approach_time: sum(|s| s.approach_time) / r_count as f64,
            mean_loop_time: sum(|s| s.loop_time) / r_count as f64,
            mean_success_time: sum(|s| s.direct_success_time) / hits as f64,
            replicas: r_count,
            extinct_replicas: 0,
            steps: per_replica.iter().map(|s| s.direct_steps).sum(),
            per_replica,
        })
    }
}

/// A probability with its interval, from independent AMS runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbabilityEstimate {
    /// Mean of the replica estimates (unbiased).
    pub probability: f64,
    /// Student-t 95 % interval over replicas (clamped at 0).
    pub ci95: (f64, f64),
    /// Standard error over replicas.
    pub std_error: f64,
    /// Replicas.
    pub replicas: usize,
    /// Extinct replicas.
    pub extinct_replicas: usize,
    /// AMS iterations summed over replicas.
    pub iterations: usize,
    /// Steps simulated.
    pub steps: u64,
    /// The runs, in replica order.
    pub runs: Vec<AmsRun>,
}

impl ProbabilityEstimate {
    /// The estimate from the runs of R ≥ 2 replicas.
    pub fn from_runs(runs: Vec<AmsRun>) -> Self {
        let ps: Vec<f64> = runs.iter().map(|r| r.probability).collect();
        let (p, se) = interval::mean_se(&ps);
        let h = interval::t975(runs.len() - 1) * se;
        ProbabilityEstimate {
            probability: p,
            ci95: ((p - h).max(0.0), p + h),
            std_error: se,
            replicas: runs.len(),
            extinct_replicas: runs.iter().filter(|r| r.extinct).count(),
            iterations: runs.iter().map(|r| r.iterations).sum(),
            steps: runs.iter().map(|r| r.steps).sum(),
            runs,
        }
    }
}

/// The probability of reaching one of several targets before returning to A, and its share of the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetEstimate {
    /// p_k = P(reach target k before A or another target) per excursion.
    pub probability: ProbabilityEstimate,
    /// π_k = p_k/Σ_j p_j: where an escape ends, if every excursion ends in A or in a target (None when no
    /// replica reached any target).
    pub share: Option<f64>,
    /// Its 95 % interval (delta method over replicas, Student t, clamped to [0, 1]).
    pub share_ci95: Option<(f64, f64)>,
}

/// The shares π_k = p̄_k/Σ_j p̄_j of `targets` (each with the runs of the same R replicas) with delta-method
/// intervals (None when Σ p̄ = 0).
pub fn shares(targets: Vec<ProbabilityEstimate>) -> Vec<TargetEstimate> {
    let k = targets.len();
    let r = targets.first().map_or(0, |t| t.runs.len());
    let rows: Vec<Vec<f64>> = (0..r)
        .map(|i| targets.iter().map(|t| t.runs[i].probability).collect())
        .collect();
    let (m, cov) = interval::mean_cov_dyn(&rows, k);
    let s: f64 = m.iter().sum();
    let t_df = interval::t975(r.max(2) - 1);
    targets
        .into_iter()
        .enumerate()
        .map(|(j, probability)| {
            if s <= 0.0 {
                return TargetEstimate {
                    probability,
                    share: None,
                    share_ci95: None,
                };
            }
            let share = m[j] / s;
            let grad: Vec<f64> = (0..k)
                .map(|i| (if i == j { s } else { 0.0 } - m[j]) / (s * s))
                .collect();
            let h = t_df * interval::delta_se_dyn(&grad, &cov, r);
            TargetEstimate {
                probability,
                share: Some(share),
                share_ci95: Some(((share - h).max(0.0), (share + h).min(1.0))),
            }
        })
        .collect()
}
