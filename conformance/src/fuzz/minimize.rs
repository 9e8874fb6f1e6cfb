//! Delta debugging (Zeller's ddmin) over a config's features: the smallest subset found for
//! which the divergence still shows. Each test runs the config on every runtime, so the
//! number of tests is bounded by a budget; when it runs out, the smallest subset so far is
//! the answer (still a reproducer, maybe not 1-minimal).

/// Minimizes `items` under `still_fails` (true: the subset still shows the divergence),
/// calling it at most `budget` times. `items` itself is assumed to fail.
pub fn ddmin<T: Clone>(
    items: &[T],
    budget: usize,
    mut still_fails: impl FnMut(&[T]) -> bool,
) -> (Vec<T>, usize) {
    let mut current: Vec<T> = items.to_vec();
    let mut tests = 0usize;
    let mut n = 2usize;
    while current.len() >= 2 && tests < budget {
        let chunks = split(&current, n);
        let mut reduced = false;
        // Try each chunk alone, then each complement.
        for chunk in &chunks {
            if tests >= budget {
                break;
            }
            tests += 1;
            if still_fails(chunk) {
                current = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n > 2 {
            for i in 0..chunks.len() {
                if tests >= budget {
                    break;
                }
                let complement: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                tests += 1;
                if still_fails(&complement) {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (2 * n).min(current.len());
        }
    }
    // A single feature may still be unnecessary (the base config alone diverges).
    if current.len() == 1 && tests < budget {
        tests += 1;
        if still_fails(&[]) {
            current.clear();
        }
    }
    (current, tests)
}

fn split<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let n = n.min(items.len()).max(1);
    let size = items.len() / n;
    let extra = items.len() % n;
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let len = size + usize::from(i < extra);
        out.push(items[start..start + len].to_vec());
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_two_items_that_together_cause_the_failure() {
        let items: Vec<u32> = (0..40).collect();
        let fails = |s: &[u32]| s.contains(&7) && s.contains(&31);
        let (min, tests) = ddmin(&items, 500, fails);
        assert_eq!(min, vec![7, 31]);
        assert!(tests < 100, "{tests} tests");
    }

    #[test]
    fn a_single_cause_and_the_empty_cause() {
        let items: Vec<u32> = (0..9).collect();
        assert_eq!(ddmin(&items, 100, |s| s.contains(&4)).0, vec![4]);
        assert_eq!(ddmin(&items, 100, |_| true).0, Vec::<u32>::new());
    }

    #[test]
    fn stops_at_the_budget_with_a_subset_that_still_fails() {
        let items: Vec<u32> = (0..64).collect();
        let mut calls = 0;
        let (min, tests) = ddmin(&items, 3, |s| {
            calls += 1;
            s.contains(&50)
        });
        assert_eq!(tests, 3);
        assert_eq!(calls, 3);
        assert!(min.contains(&50) && min.len() < 64);
    }
}
