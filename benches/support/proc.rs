//! What Linux says about this process, for the benchmarks' reports (zero
//! elsewhere).

/// User plus system CPU seconds so far.
pub fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .rsplit(')')
                .next()?
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|v| v.parse().ok())
                .collect();
            // USER_HZ is 100 on every Linux this runs on.
            Some(f.iter().sum::<u64>() as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// Peak resident memory so far, in MiB.
#[allow(dead_code)]
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
