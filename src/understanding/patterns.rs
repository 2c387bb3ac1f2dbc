//! Readings recognised by their shape: a blood pressure reading ("150/95",
//! "160 over 100") and how far along a pregnancy is ("34 weeks", "36+2").
//! The vocabulary says which topic each names.

use super::text::Token;
use crate::knowledge::Pattern;

/// Where each pattern occurs: (pattern, token position).
pub fn find(tokens: &[Token]) -> Vec<(Pattern, usize)> {
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        if blood_pressure(tokens, i) {
            out.push((Pattern::BloodPressureReading, i));
        }
        if weeks_pregnant(tokens, i) {
            out.push((Pattern::WeeksPregnant, i));
        }
    }
    out
}

fn number(t: Option<&Token>) -> Option<u32> {
    let t = t?;
    if t.is_number() && t.text.len() <= 3 {
        t.text.parse().ok()
    } else {
        None
    }
}

fn pair(text: &str, sep: char) -> Option<(u32, u32)> {
    let (a, b) = text.split_once(sep)?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn is_reading(systolic: u32, diastolic: u32) -> bool {
    (70..=260).contains(&systolic) && (40..=160).contains(&diastolic) && systolic > diastolic
}

fn blood_pressure(tokens: &[Token], i: usize) -> bool {
    if let Some((a, b)) = pair(&tokens[i].text, '/') {
        return is_reading(a, b);
    }
    // "160 over 100"
    match (
        number(tokens.get(i)),
        tokens.get(i + 1),
        number(tokens.get(i + 2)),
    ) {
        (Some(a), Some(over), Some(b)) if over.text == "over" => is_reading(a, b),
        _ => false,
    }
}

/// Weeks of pregnancy: 4 to 42.
fn is_gestation(weeks: u32) -> bool {
    (4..=42).contains(&weeks)
}

/// "34w", "20wks": the number and the unit typed as one word.
fn glued_weeks(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let unit = &text[digits.len()..];
    if digits.is_empty() || !matches!(unit, "w" | "wk" | "wks" | "weeks") {
        return None;
    }
    digits.parse().ok()
}

fn weeks_pregnant(tokens: &[Token], i: usize) -> bool {
    // "36+2": weeks and days, as midwives write it; "26/40": weeks out of
    // forty, as the notes write it.
    if let Some((w, d)) = pair(&tokens[i].text, '+') {
        return is_gestation(w) && d <= 6;
    }
    if let Some((w, 40)) = pair(&tokens[i].text, '/') {
        return is_gestation(w);
    }
    let (weeks, next) = match (number(tokens.get(i)), glued_weeks(&tokens[i].text)) {
        (Some(n), _) => {
            let unit = tokens.get(i + 1).map(|t| t.text.as_str());
            if !matches!(unit, Some("weeks" | "week" | "wks" | "wk" | "w")) {
                return false;
            }
            (n, i + 2)
        }
        (None, Some(n)) => (n, i + 1),
        _ => return false,
    };
    if !is_gestation(weeks) {
        return false;
    }
    let after = tokens.get(next).map(|t| t.text.as_str());
    if matches!(
        after,
        Some("pregnant" | "preg" | "pg" | "along" | "gestation" | "pp" | "postpartum")
    ) {
        return true;
    }
    // "im 34 weeks", "20 weeks and sore": not "for 12 weeks", "in 2
    // weeks", "born at 34 weeks" or "3 weeks post op".
    let before = &tokens[i.saturating_sub(3)..i];
    let duration = before.last().is_some_and(|t| {
        matches!(
            t.text.as_str(),
            "for"
                | "in"
                | "last"
                | "past"
                | "next"
                | "every"
                | "after"
                | "within"
                | "over"
                | "around"
                | "been"
                | "few"
                | "couple"
                | "these"
                | "those"
                | "first"
                | "about"
                | "than"
                | "takes"
                | "took"
                | "lasted"
                | "another"
        )
    });
    let born = before
        .iter()
        .any(|t| t.text == "born" || t.text == "premature");
    let about_something_else = matches!(
        after,
        Some(
            "post"
                | "postop"
                | "ago"
                | "after"
                | "since"
                | "out"
                | "into"
                | "of"
                | "off"
                | "in"
                | "from"
                | "left"
                | "until"
                | "till"
                | "before"
                | "later"
                | "clean"
                | "sober"
                | "old"
                | "straight"
                | "now"
                | "running"
                | "time"
                | "away"
                | "back"
        )
    );
    !duration && !born && !about_something_else
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::*;

    fn kinds(s: &str) -> Vec<Pattern> {
        find(&tokens(s)).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn readings() {
        assert_eq!(kinds("my bp was 150/95"), [Pattern::BloodPressureReading]);
        assert_eq!(kinds("160 over 100 today"), [Pattern::BloodPressureReading]);
        assert!(kinds("open 24/7").is_empty());
        assert_eq!(kinds("im 34 weeks"), [Pattern::WeeksPregnant]);
        assert_eq!(kinds("20 weeks pregnant"), [Pattern::WeeksPregnant]);
        assert_eq!(kinds("36+2 and sore"), [Pattern::WeeksPregnant]);
        assert_eq!(kinds("she is 26/40"), [Pattern::WeeksPregnant]);
        assert!(kinds("scored 50/40").is_empty());
        assert_eq!(kinds("im 28wks"), [Pattern::WeeksPregnant]);
        assert!(kinds("im 3 weeks post op").is_empty());
        assert!(kinds("2 weeks ago").is_empty());
        assert!(kinds("been training for 12 weeks").is_empty());
        assert_eq!(kinds("32 wks"), [Pattern::WeeksPregnant]);
        assert!(kinds("born at 34 weeks").is_empty());
        assert!(kinds("my 6 week old").is_empty());
    }
}
