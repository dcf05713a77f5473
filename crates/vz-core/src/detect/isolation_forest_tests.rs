use super::*;

/// Normal-ish rows (sum of 4 uniforms, centred) around `centre`, row-major.
fn cloud(n: usize, dims: usize, centre: f64, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..n * dims)
        .map(|_| centre + (0..4).map(|_| rng.next_f64() - 0.5).sum::<f64>())
        .collect()
}

fn params(metrics: usize) -> ForestParams {
    ForestParams {
        metrics: (0..metrics).map(|i| format!("m{i}")).collect(),
        trees: 100,
        sample_size: 256,
        threshold: None,
        contamination: None,
        seed: 7,
    }
}

#[test]
fn c_factor_matches_the_paper() {
    // Values from python: 2*(log(n-1)+euler_gamma) - 2*(n-1)/n
    assert!((c_factor(256) - 10.244_770_920_119_917).abs() < 1e-12);
    assert!((c_factor(3) - 1.207_392_357_589_623).abs() < 1e-12);
    assert_eq!(c_factor(2), 1.0);
    assert_eq!(c_factor(1), 0.0);
}

#[test]
fn an_outlier_scores_high_and_an_inlier_low() {
    let data = cloud(500, 3, 10.0, 1);
    let f = Forest::fit(&data, 3, 100, 256, 7).unwrap();
    // scikit-learn 1.9.1 on the same kind of data (numpy sum of 4 uniforms, 500x3, seeds
    // 0..2): -score_samples gives 0.395..0.401 for the centre, 0.565..0.581 for one axis at
    // +6, 0.703..0.729 for the corner (11.4, 8.6, 11.4).
    let inlier = f.score(&[10.0, 10.0, 10.0]);
    let one_axis = f.score(&[10.0, 10.0, 16.0]);
    let corner = f.score(&[11.4, 8.6, 11.4]);
    assert!((0.37..0.43).contains(&inlier), "inlier scored {inlier}");
    assert!(
        (0.53..0.61).contains(&one_axis),
        "one-axis outlier scored {one_axis}"
    );
    assert!((0.68..0.76).contains(&corner), "corner scored {corner}");
}

#[test]
fn the_same_seed_gives_the_same_forest_and_another_seed_another() {
    let data = cloud(300, 2, 0.0, 2);
    let probe = [0.7, -0.4];
    let a = Forest::fit(&data, 2, 100, 256, 11).unwrap().score(&probe);
    let b = Forest::fit(&data, 2, 100, 256, 11).unwrap().score(&probe);
    let c = Forest::fit(&data, 2, 100, 256, 12).unwrap().score(&probe);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn batch_parallel_and_single_scores_agree() {
    let data = cloud(300, 4, 5.0, 3);
    let f = Forest::fit(&data, 4, 50, 128, 3).unwrap();
    let probe = cloud(5000, 4, 5.2, 4);
    let batch = f.score_many(&probe);
    let par = f.score_many_parallel(&probe, 3);
    assert_eq!(batch.len(), 5000);
    assert_eq!(batch, par);
    for (i, s) in batch.iter().enumerate().step_by(997) {
        assert_eq!(*s, f.score(&probe[i * 4..i * 4 + 4]));
    }
}

#[test]
fn contamination_sets_the_threshold_from_the_baseline_scores() {
    let data = cloud(1000, 2, 0.0, 5);
    let f = Forest::fit(&data, 2, 100, 256, 5).unwrap();
    let t = f.contamination_threshold(0.1);
    let above = f.score_many(&data).iter().filter(|s| **s > t).count();
    assert!(
        (90..=110).contains(&above),
        "{above} of 1000 above the 10% threshold"
    );
}

#[test]
fn too_few_or_incomplete_rows_are_refused_with_a_reason() {
    let mut data = cloud(20, 2, 0.0, 6);
    for v in data.iter_mut().step_by(4) {
        *v = f64::NAN; // half the rows lose a value
    }
    let err = Forest::fit(&data, 2, 10, 256, 1).unwrap_err();
    assert!(err.contains("10 complete baseline rows"), "{err}");
}

#[test]
fn evaluate_explains_score_threshold_and_the_odd_metric() {
    let data = cloud(400, 3, 10.0, 8);
    let f = Ok(Forest::fit(&data, 3, 100, 256, 7).unwrap());
    let p = params(3);
    let hit = evaluate(&p, Some(&f), &[11.5, 14.0, 8.5]).unwrap();
    assert!(hit.active);
    assert!(hit.reason.contains("most unusual: m1"), "{}", hit.reason);
    assert_eq!(
        hit.expected,
        Expected::Bound {
            op: ">".into(),
            value: DEFAULT_THRESHOLD
        }
    );
    let calm = evaluate(&p, Some(&f), &[10.0, 10.1, 9.9]).unwrap();
    assert!(!calm.active, "{}", calm.reason);
    assert_eq!(
        evaluate(&p, None, &[1.0, 2.0, 3.0]),
        Err(NoAnswer::NoBaseline)
    );
    assert!(matches!(
        evaluate(&p, Some(&f), &[1.0, f64::NAN, 3.0]),
        Err(NoAnswer::NotEnoughData(_))
    ));
}

/// Asserts every batch path gives the walk's scores, bit for bit, and single-row scores too.
fn assert_paths_agree(f: &Forest, probe: &[f64]) {
    let dims = f.dims();
    let walk = f.score_many_walk(probe);
    assert_eq!(walk.len(), probe.len() / dims);
    for path in [BatchPath::Best, BatchPath::Portable] {
        let fast = f.score_many_via(probe, path);
        for (i, (a, b)) in fast.iter().zip(&walk).enumerate() {
            let row = &probe[i * dims..(i + 1) * dims];
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{path:?} row {i} {row:?}: {a} vs {b}"
            );
        }
    }
    for (i, s) in walk.iter().enumerate().step_by(613) {
        let row = &probe[i * dims..(i + 1) * dims];
        assert_eq!(s.to_bits(), f.score(row).to_bits(), "row {i}");
    }
}

#[test]
fn the_compiled_trees_score_exactly_as_the_plain_walk() {
    // Training and scored rows from different clouds, plus far-off, NaN, infinite and
    // signed-zero values, so rows reach early leaves, deep leaves and both sides of every
    // kind of split. Sample sizes give trees of 2 to 10 levels: 1 to 4 micro-tree stages.
    for (dims, trees, sample, seed) in [
        (8, 100, 256, 42),
        (3, 37, 100, 9),
        (2, 5, 3, 1),
        (5, 20, 600, 4),
        (1, 10, 64, 3),
    ] {
        let data = cloud(1200, dims, 0.0, seed);
        let f = Forest::fit(&data, dims, trees, sample, seed).unwrap();
        assert!(f.compiled.is_some());
        if std::is_x86_feature_detected!("avx2") {
            assert!(f.batch_uses_avx2(), "dims {dims} sample {sample}");
        }
        let mut probe = cloud(10_000 + 3, dims, 0.3, seed + 100);
        let odd = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e9,
            -1e9,
            0.0,
            -0.0,
        ];
        for (i, v) in probe.iter_mut().enumerate().step_by(101) {
            *v = odd[i % odd.len()];
        }
        assert_paths_agree(&f, &probe);
    }
}

#[test]
fn values_on_and_next_to_every_threshold_go_the_walks_way() {
    let dims = 3;
    let data = cloud(800, dims, 1.0, 21);
    let f = Forest::fit(&data, dims, 30, 256, 21).unwrap();
    // Every split value of every tree, exactly and one ulp either side, on each feature.
    let mut probe = Vec::new();
    for tree in &f.trees {
        for n in tree.iter().filter(|n| n.feature != LEAF) {
            for v in [n.split, n.split.next_up(), n.split.next_down()] {
                let mut row = cloud(1, dims, 1.0, v.to_bits());
                row[n.feature as usize] = v;
                probe.extend(row);
            }
        }
    }
    assert!(probe.len() / dims > 3_000, "{} rows", probe.len() / dims);
    assert_paths_agree(&f, &probe);
}

#[test]
fn clustered_thresholds_fall_back_to_a_binary_search_and_still_agree() {
    // One feature with a few huge outliers: most cuts crowd a sliver of the range, more than
    // the bucket table allows, so that feature's ranks come from the binary search.
    let dims = 2;
    let mut data = cloud(2000, dims, 0.0, 31);
    for (i, v) in data.iter_mut().enumerate().step_by(2 * 97) {
        *v = 1e12 * (i as f64 + 1.0);
    }
    let f = Forest::fit(&data, dims, 100, 256, 31).unwrap();
    let mut probe = cloud(20_000, dims, 0.0, 32);
    probe.extend_from_slice(&data);
    #[cfg(target_arch = "x86_64")]
    if f.batch_uses_avx2() {
        let c = f.compiled.as_ref().unwrap();
        assert_eq!(
            c.bucketed(0),
            Some(false),
            "feature 0 needs the binary search"
        );
        assert_eq!(c.bucketed(1), Some(true), "feature 1 uses the bucket table");
    }
    assert_paths_agree(&f, &probe);
}

#[test]
fn more_than_eight_metrics_score_on_the_portable_path() {
    let data = cloud(400, 9, 0.0, 41);
    let f = Forest::fit(&data, 9, 20, 128, 41).unwrap();
    assert!(f.compiled.is_some() && !f.batch_uses_avx2());
    assert_paths_agree(&f, &cloud(3000, 9, 0.2, 42));
}

#[test]
fn a_forest_too_deep_to_compile_still_scores_by_the_walk() {
    let data = cloud(20_000, 2, 0.0, 10);
    let f = Forest::fit(&data, 2, 3, 16_384, 10).unwrap();
    assert!(
        f.compiled.is_none(),
        "height limit 14 is over the compiled maximum"
    );
    let probe = cloud(500, 2, 0.0, 11);
    assert_eq!(f.score_many(&probe), f.score_many_walk(&probe));
}
