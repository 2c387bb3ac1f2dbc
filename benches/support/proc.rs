//! What Linux says about this process, for the benchmarks' reports (zero
//! elsewhere).

/// User plus system CPU seconds so far.
#[allow(dead_code)]
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// User plus system CPU seconds of process `pid` (`"self"` for this one),
/// zero once it is gone.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
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

/// CPU seconds of every process named `name` (e.g. `postgres`: the server
/// and each connection's backend).
#[allow(dead_code)]
pub fn cpu_seconds_named(name: &str) -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() == name).then(|| cpu_seconds_of(&pid.to_string()))
        })
        .sum()
}
