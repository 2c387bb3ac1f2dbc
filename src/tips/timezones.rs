//! Parsing what users type for `/tips set`: an IANA time zone and a time of
//! day. Strict on purpose: a silently misread time posts at the wrong hour
//! every day.

use chrono::NaiveTime;
use chrono_tz::{Tz, TZ_VARIANTS};

/// Discord allows at most 25 autocomplete choices.
pub const MAX_SUGGESTIONS: usize = 25;

/// Shown for an empty autocomplete query, so the first screen is useful.
const POPULAR: &[Tz] = &[
    Tz::UTC,
    Tz::Europe__London,
    Tz::Europe__Berlin,
    Tz::Europe__Paris,
    Tz::Europe__Madrid,
    Tz::Europe__Rome,
    Tz::Europe__Amsterdam,
    Tz::Europe__Stockholm,
    Tz::Europe__Warsaw,
    Tz::Europe__Kyiv,
    Tz::Europe__Istanbul,
    Tz::Europe__Moscow,
    Tz::America__New_York,
    Tz::America__Chicago,
    Tz::America__Denver,
    Tz::America__Los_Angeles,
    Tz::America__Toronto,
    Tz::America__Mexico_City,
    Tz::America__Sao_Paulo,
    Tz::Asia__Kolkata,
    Tz::Asia__Shanghai,
    Tz::Asia__Tokyo,
    Tz::Asia__Singapore,
    Tz::Australia__Sydney,
    Tz::Pacific__Auckland,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimezoneError {
    #[error("unknown time zone {0:?}; use an IANA name such as Europe/Berlin")]
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("invalid time {0:?}; use 24-hour HH:MM, for example 07:30 or 18:00")]
    Invalid(String),
}

/// Lowercase, with spaces as underscores, so "new york" matches New_York.
fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if c == ' ' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Parses an IANA time zone name, ignoring case and accepting spaces for
/// underscores ("america/new york").
pub fn parse_tz(name: &str) -> Result<Tz, TimezoneError> {
    let trimmed = name.trim();
    if let Ok(tz) = trimmed.parse::<Tz>() {
        return Ok(tz);
    }
    let wanted = normalize(trimmed);
    TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| TimezoneError::Unknown(trimmed.to_owned()))
}

/// Time zones matching a partial name, for autocomplete: exact match first,
/// then names or name parts (the city) starting with the query, then names
/// containing it; alphabetical within each group. At most `limit` (capped at
/// 25) results; an empty query gives a list of common zones.
pub fn search(partial: &str, limit: usize) -> Vec<Tz> {
    let limit = limit.min(MAX_SUGGESTIONS);
    let q = normalize(partial);
    if q.is_empty() {
        return POPULAR.iter().copied().take(limit).collect();
    }
    let mut ranked: Vec<(u8, &'static str, Tz)> = TZ_VARIANTS
        .iter()
        .filter_map(|&tz| {
            let name = tz.name();
            let lower = name.to_ascii_lowercase();
            let rank = if lower == q {
                0
            } else if lower.starts_with(&q) {
                1
            } else if lower.split('/').skip(1).any(|part| part.starts_with(&q)) {
                2
            } else if lower.contains(&q) {
                3
            } else {
                return None;
            };
            Some((rank, name, tz))
        })
        .collect();
    ranked.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, _, tz)| tz)
        .collect()
}

/// Parses a 24-hour local time "HH:MM" (also "H:MM"), 00:00 to 23:59.
/// Seconds, "24:00", "7:5" and "7h30" are rejected.
pub fn parse_time(s: &str) -> Result<NaiveTime, TimeError> {
    let t = s.trim();
    let bad = || TimeError::Invalid(s.to_owned());
    let (h, m) = t.split_once(':').ok_or_else(bad)?;
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)
}

/// Formats a time the way [`parse_time`] reads it back ("07:30").
pub fn format_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tz_case_insensitively() {
        assert_eq!(parse_tz("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(parse_tz("europe/berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(parse_tz(" AMERICA/NEW_YORK "), Ok(Tz::America__New_York));
        assert_eq!(parse_tz("america/new york"), Ok(Tz::America__New_York));
        assert_eq!(parse_tz("utc"), Ok(Tz::UTC));
        assert!(parse_tz("Mars/Olympus").is_err());
        assert!(parse_tz("").is_err());
        assert!(parse_tz("Berlin").is_err());
    }

    #[test]
    fn search_finds_cities_by_part_and_spacing() {
        assert_eq!(search("berlin", 25)[0], Tz::Europe__Berlin);
        assert_eq!(search("new york", 25)[0], Tz::America__New_York);
        assert_eq!(search("new_york", 25)[0], Tz::America__New_York);
        assert_eq!(search("Europe/Berlin", 25)[0], Tz::Europe__Berlin);
    }

    #[test]
    fn search_ranks_prefix_before_contains_and_caps() {
        let r = search("europe/", 100);
        assert_eq!(r.len(), MAX_SUGGESTIONS);
        assert!(r.iter().all(|tz| tz.name().starts_with("Europe/")));
        // "lon": London (city prefix) before Barcelona-like "contains" hits.
        let r = search("lon", 25);
        let london = r.iter().position(|&t| t == Tz::Europe__London).unwrap();
        if let Some(contains) = r.iter().position(|t| {
            !t.name()
                .to_ascii_lowercase()
                .split('/')
                .any(|p| p.starts_with("lon"))
        }) {
            assert!(london < contains);
        }
        assert!(search("zzzz", 25).is_empty());
        assert_eq!(search("", 5).len(), 5);
        assert_eq!(search("", 100).len(), MAX_SUGGESTIONS);
        assert_eq!(search("a", 0).len(), 0);
    }

    #[test]
    fn parses_times_strictly() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(parse_time("07:30"), Ok(t(7, 30)));
        assert_eq!(parse_time("7:30"), Ok(t(7, 30)));
        assert_eq!(parse_time("00:00"), Ok(t(0, 0)));
        assert_eq!(parse_time("23:59"), Ok(t(23, 59)));
        assert_eq!(parse_time(" 18:05 "), Ok(t(18, 5)));
        for bad in [
            "24:00", "23:60", "7:5", "07:30:00", "7h30", "0730", "", ":30", "-1:30", "+7:30",
            "007:30", "07:3a", "７:30", "12:",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn format_round_trips() {
        let t = parse_time("7:05").unwrap();
        assert_eq!(format_time(t), "07:05");
        assert_eq!(parse_time(&format_time(t)), Ok(t));
    }
}
