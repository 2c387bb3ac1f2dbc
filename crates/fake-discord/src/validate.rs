//! Discord's rules for payloads: what the real API would refuse.

use super::*;

pub(crate) fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Discord's limits on a message payload (content, embeds).
pub fn check_message(m: &Value) -> Result<(), Vec<String>> {
    use limits::*;
    let mut errs = Vec::new();
    if chars(&m["content"]) > CONTENT {
        errs.push(format!("content: {} > {CONTENT}", chars(&m["content"])));
    }
    if let Some(embeds) = m["embeds"].as_array() {
        if embeds.len() > EMBEDS {
            errs.push(format!("embeds: {} > {EMBEDS}", embeds.len()));
        }
        for (i, e) in embeds.iter().enumerate() {
            let mut total = 0;
            let mut check = |what: &str, v: &Value, max: usize| {
                let n = chars(v);
                total += n;
                if n > max {
                    errs.push(format!("embeds.{i}.{what}: {n} > {max}"));
                }
            };
            check("title", &e["title"], TITLE);
            check("description", &e["description"], DESCRIPTION);
            check("footer.text", &e["footer"]["text"], FOOTER);
            check("author.name", &e["author"]["name"], AUTHOR);
            let fields = e["fields"].as_array().cloned().unwrap_or_default();
            let mut empty = Vec::new();
            for (j, f) in fields.iter().enumerate() {
                check(&format!("fields.{j}.name"), &f["name"], FIELD_NAME);
                check(&format!("fields.{j}.value"), &f["value"], FIELD_VALUE);
                if chars(&f["name"]) == 0 || chars(&f["value"]) == 0 {
                    empty.push(format!(
                        "embeds.{i}.fields.{j}: name and value must not be empty"
                    ));
                }
            }
            errs.extend(empty);
            if fields.len() > FIELDS {
                errs.push(format!("embeds.{i}.fields: {} > {FIELDS}", fields.len()));
            }
            if total > EMBED_TOTAL {
                errs.push(format!("embeds.{i}: total {total} > {EMBED_TOTAL}"));
            }
        }
    }
    check_components(&m["components"], &mut errs);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// Discord's checks on a message's action rows and buttons.
pub(crate) fn check_components(rows: &Value, errs: &mut Vec<String>) {
    use limits::*;
    let Some(rows) = rows.as_array() else {
        if !rows.is_null() {
            errs.push("components: not an array".to_owned());
        }
        return;
    };
    if rows.len() > ACTION_ROWS {
        errs.push(format!("components: {} rows > {ACTION_ROWS}", rows.len()));
    }
    let mut ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        if row["type"] != 1 {
            errs.push(format!(
                "components.{i}: type {} is not an action row",
                row["type"]
            ));
        }
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        if buttons.is_empty() || buttons.len() > BUTTONS_PER_ROW {
            errs.push(format!(
                "components.{i}: {} buttons not in 1..={BUTTONS_PER_ROW}",
                buttons.len()
            ));
        }
        for (j, b) in buttons.iter().enumerate() {
            let at = format!("components.{i}.components.{j}");
            if b["type"] != 2 {
                errs.push(format!("{at}: type {} is not a button", b["type"]));
            }
            let style = b["style"].as_u64().unwrap_or(0);
            if !(1..=5).contains(&style) {
                errs.push(format!("{at}: style {style} not in 1..=4 (or 5, link)"));
            }
            if chars(&b["label"]) > BUTTON_LABEL {
                errs.push(format!("{at}.label: > {BUTTON_LABEL}"));
            }
            if style == 5 {
                continue;
            }
            let id = b["custom_id"].as_str().unwrap_or("");
            let n = id.chars().count();
            if n == 0 || n > CUSTOM_ID {
                errs.push(format!("{at}.custom_id: length {n} not in 1..={CUSTOM_ID}"));
            }
            if !ids.insert(id.to_owned()) {
                errs.push(format!("{at}.custom_id: {id:?} repeats in the message"));
            }
        }
    }
}

/// Discord's checks on an interaction callback body.
pub fn check_callback(b: &Value) -> Result<(), Vec<String>> {
    use limits::*;
    match b["type"].as_u64() {
        Some(1 | 5 | 6 | 9 | 10 | 12) => Ok(()),
        Some(4 | 7) => check_message(&b["data"]),
        Some(8) => {
            let mut errs = Vec::new();
            let choices = b["data"]["choices"].as_array().cloned().unwrap_or_default();
            if choices.len() > CHOICES {
                errs.push(format!("data.choices: {} > {CHOICES}", choices.len()));
            }
            for (i, c) in choices.iter().enumerate() {
                let n = chars(&c["name"]);
                if n == 0 || n > CHOICE_NAME {
                    errs.push(format!(
                        "data.choices.{i}.name: length {n} not in 1..={CHOICE_NAME}"
                    ));
                }
                if c["value"].is_string() && chars(&c["value"]) > CHOICE_VALUE {
                    errs.push(format!("data.choices.{i}.value: > {CHOICE_VALUE}"));
                }
            }
            if errs.is_empty() {
                Ok(())
            } else {
                Err(errs)
            }
        }
        other => Err(vec![format!(
            "type: unknown interaction response type {other:?}"
        )]),
    }
}

/// Discord's checks on a bulk command registration.
pub fn check_commands(list: &[Value]) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or("");
        let kind = c["type"].as_u64().unwrap_or(1);
        if !names.insert((name.to_owned(), kind)) {
            errs.push(format!("{i}.name: duplicate {name}"));
        }
        if kind == 3 {
            if !(1..=32).contains(&name.chars().count()) {
                errs.push(format!("{i}.name: length not in 1..=32"));
            }
            if c["description"].as_str().is_some_and(|d| !d.is_empty()) {
                errs.push(format!("{i}.description: a message command has none"));
            }
            if c["options"].as_array().is_some_and(|o| !o.is_empty()) {
                errs.push(format!("{i}.options: a message command has none"));
            }
        }
        if c.get("dm_permission").is_some_and(|v| !v.is_null())
            && c.get("contexts").is_some_and(|v| !v.is_null())
        {
            errs.push(format!(
                "{i}: dm_permission is deprecated; contexts replaces it"
            ));
        }
        for (field, allowed) in [("contexts", 0..=2u64), ("integration_types", 0..=1u64)] {
            if let Some(values) = c[field].as_array() {
                if values.is_empty()
                    || values
                        .iter()
                        .any(|v| !v.as_u64().is_some_and(|v| allowed.contains(&v)))
                {
                    errs.push(format!("{i}.{field}: {}", c[field]));
                }
            }
        }
        if kind == 1 {
            let ok_name = !name.is_empty()
                && name.chars().count() <= 32
                && name
                    .chars()
                    .all(|ch| ch.is_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
            if !ok_name {
                errs.push(format!("{i}.name: invalid chat command name {name:?}"));
            }
            let d = chars(&c["description"]);
            if !(1..=100).contains(&d) {
                errs.push(format!("{i}.description: length {d} not in 1..=100"));
            }
        }
        check_options(&format!("{i}"), &c["options"], &mut errs);
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

pub(crate) fn check_options(at: &str, options: &Value, errs: &mut Vec<String>) {
    let Some(opts) = options.as_array() else {
        return;
    };
    if opts.len() > 25 {
        errs.push(format!("{at}.options: {} > 25", opts.len()));
    }
    let mut seen_optional = false;
    for (j, o) in opts.iter().enumerate() {
        let at = format!("{at}.options.{j}");
        let d = chars(&o["description"]);
        if !(1..=100).contains(&d) {
            errs.push(format!("{at}.description: length {d} not in 1..=100"));
        }
        let required = o["required"].as_bool().unwrap_or(false);
        if required && seen_optional {
            errs.push(format!(
                "{at}: required options must come before optional ones"
            ));
        }
        if !required && !matches!(o["type"].as_u64(), Some(1 | 2)) {
            seen_optional = true;
        }
        if o["autocomplete"].as_bool() == Some(true)
            && o["choices"].as_array().is_some_and(|c| !c.is_empty())
        {
            errs.push(format!("{at}: autocomplete and choices are exclusive"));
        }
        check_options(&at, &o["options"], errs);
    }
}

/// Asserts a callback/message body is within Discord's limits, with details.
pub fn assert_within_limits(body: &Value) {
    if let Err(e) = check_callback(body) {
        panic!("payload breaks Discord's limits: {e:?}\n{body:#}");
    }
}
