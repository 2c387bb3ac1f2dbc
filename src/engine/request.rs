//! Parsing a line as typed in the console or passed to `ask`.

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Benefits(String),
    Safe(String),
    /// A question in plain words: intent and topics are worked out.
    Ask(String),
    Tip,
    Topics,
    About,
    Help,
    /// `/something` the bot does not know, with what followed it (read
    /// for a crisis all the same).
    Unknown {
        name: String,
        rest: String,
    },
}

impl Request {
    /// Parses a line as typed in the console or passed to `ask`:
    /// `/benefits sleep`, `/safe pregnancy`, `/tip`; no slash means `ask`.
    pub fn parse(line: &str) -> Request {
        let line = line.trim();
        let Some(rest) = line.strip_prefix('/') else {
            return Request::Ask(line.to_owned());
        };
        let (name, arg) = match rest.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (rest, ""),
        };
        // Accept Discord's option syntax too: `/benefits topic:sleep`.
        let arg = arg
            .strip_prefix("topic:")
            .or_else(|| arg.strip_prefix("question:"))
            .unwrap_or(arg)
            .trim()
            .to_owned();
        match name.to_lowercase().as_str() {
            "benefits" | "benefit" => Request::Benefits(arg),
            "safe" | "safety" => Request::Safe(arg),
            "ask" => Request::Ask(arg),
            "tip" => Request::Tip,
            "topics" => Request::Topics,
            "about" => Request::About,
            "help" => Request::Help,
            _ => Request::Unknown {
                name: name.chars().take(32).collect(),
                rest: arg,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands_and_questions() {
        assert_eq!(
            Request::parse("/benefits sleep"),
            Request::Benefits("sleep".into())
        );
        assert_eq!(
            Request::parse("/safe topic:pregnancy"),
            Request::Safe("pregnancy".into())
        );
        assert_eq!(
            Request::parse("is it ok?"),
            Request::Ask("is it ok?".into())
        );
        assert_eq!(Request::parse("/TIP"), Request::Tip);
        assert_eq!(
            Request::parse("/nope x"),
            Request::Unknown {
                name: "nope".into(),
                rest: "x".into()
            }
        );
    }
}
