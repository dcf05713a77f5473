//! Our side of bench/compare_python.py: times the isolation forest (fit 256×8, score
//! 1,000,000×8) and Mann-Whitney U (n = 10,000 each) on seeded data, writes that data to
//! target/compare/*.f64 (little-endian) so Python times the very same numbers, and prints
//! the timings as JSON.

use std::time::Instant;
use vz_monitor::detect::isolation_forest::{BatchPath, Forest, SplitMix64};
use vz_monitor::detect::stats::{mann_whitney_u, Alternative};

fn data(n: usize, rng: &mut SplitMix64, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|_| shift + (0..4).map(|_| rng.next_f64() - 0.5).sum::<f64>())
        .collect()
}

fn write(path: &str, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write data");
}

/// Median wall time of `runs` runs, and the last result.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        out = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], out.expect("one run"))
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/compare");
    std::fs::create_dir_all(dir).expect("target/compare");
    let mut rng = SplitMix64::new(2024);
    let train = data(256 * 8, &mut rng, 0.0);
    let score = data(1_000_000 * 8, &mut rng, 0.1);
    let a = data(10_000, &mut rng, 0.0);
    let b = data(10_000, &mut rng, 0.02);
    write(&format!("{dir}/train.f64"), &train);
    write(&format!("{dir}/score.f64"), &score);
    write(&format!("{dir}/mwu_a.f64"), &a);
    write(&format!("{dir}/mwu_b.f64"), &b);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (fit_s, forest) = median(7, || Forest::fit(&train, 8, 100, 256, 42).expect("fit"));
    let (score_1t, s1) = median(5, || forest.score_many(&score));
    let (score_nt, sn) = median(5, || forest.score_many_parallel(&score, threads));
    assert_eq!(s1, sn);
    // The portable compiled trees (no AVX2) and the node-by-node walk: same scores, bit for bit.
    let (portable_1t, sp) = median(3, || forest.score_many_via(&score, BatchPath::Portable));
    assert_eq!(s1, sp);
    let (walk_1t, sw) = median(1, || forest.score_many_walk(&score));
    assert_eq!(s1, sw);
    let avx2 = forest.batch_uses_avx2();
    let (mwu_s, m) = median(201, || mann_whitney_u(&a, &b, Alternative::TwoSided));
    let mean = s1.iter().sum::<f64>() / s1.len() as f64;
    println!(
        "{{\"threads\": {threads}, \"if_fit_s\": {fit_s}, \"if_score_1t_s\": {score_1t}, \"if_score_s\": {score_nt}, \"if_portable_1t_s\": {portable_1t}, \"if_walk_1t_s\": {walk_1t}, \"if_avx2\": {avx2}, \"if_mean_score\": {mean}, \"mwu_s\": {mwu_s}, \"mwu_u\": {}, \"mwu_p\": {}}}",
        m.u, m.p_value
    );
}
