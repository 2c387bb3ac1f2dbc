//! Sentences and what backs them: every sentence the knowledge lets the bot
//! say either cites verbatim quotes from the sources or is one of the bot's
//! own general safety advice lines, never both and never neither.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::{InvalidId, SourceId};

/// The id of a general advice line in the knowledge file's `[[advice]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AdviceId(String);

impl AdviceId {
    /// Lowercase words joined by hyphens, like a topic id.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        super::TopicId::parse(value)
            .map(|t| AdviceId(t.as_str().to_owned()))
            .map_err(|e| InvalidId {
                kind: "advice",
                ..e
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AdviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A verbatim quote from one source document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cite {
    pub source: SourceId,
    pub quote: String,
}

/// What a sentence rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// Quotes from the sources (at least one).
    Sources(Vec<Cite>),
    /// The bot's own general safety advice: shown as such, never attributed.
    Advice(AdviceId),
}

/// One sentence the bot can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub text: String,
    pub backing: Backing,
}

impl Sentence {
    pub fn cites(&self) -> &[Cite] {
        match &self.backing {
            Backing::Sources(c) => c,
            Backing::Advice(_) => &[],
        }
    }

    pub fn is_advice(&self) -> bool {
        matches!(self.backing, Backing::Advice(_))
    }
}

/// `{"text", "cites": [{"source", "quote"}], "advice"}`: the shape tools read.
impl Serialize for Sentence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Sentence", 3)?;
        st.serialize_field("text", &self.text)?;
        st.serialize_field("cites", self.cites())?;
        st.serialize_field("advice", &self.is_advice())?;
        st.end()
    }
}

/// Where in a section a sentence sits, which decides how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Place {
    Summary,
    Point,
    /// "Sources differ": where sources disagree and the cautious one won.
    Differ,
    Advice,
}

/// The text of a topic's benefits or safety: sentences in the order shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// One paragraph that leads the reply (and stands alone in brief).
    pub summary: Vec<Sentence>,
    /// Bullet points under it.
    pub points: Vec<Sentence>,
    /// Safety only: how the sources disagree, and that the cautious one won.
    pub differ: Vec<Sentence>,
    /// The bot's own general advice for this section.
    pub advice: Vec<Sentence>,
}

impl Section {
    /// Every sentence with its place, in the order a full reply shows them.
    pub fn sentences(&self) -> impl Iterator<Item = (Place, &Sentence)> {
        let tag = |place| move |s| (place, s);
        self.summary
            .iter()
            .map(tag(Place::Summary))
            .chain(self.points.iter().map(tag(Place::Point)))
            .chain(self.differ.iter().map(tag(Place::Differ)))
            .chain(self.advice.iter().map(tag(Place::Advice)))
    }

    /// The summary as one paragraph.
    pub fn summary_text(&self) -> String {
        join(&self.summary)
    }

    /// "Sources differ" as one paragraph, if the sources differ.
    pub fn differ_text(&self) -> Option<String> {
        (!self.differ.is_empty()).then(|| join(&self.differ))
    }

    /// Every source the section cites, in order of first citation.
    pub fn source_ids(&self) -> Vec<SourceId> {
        let mut ids: Vec<SourceId> = Vec::new();
        for (_, s) in self.sentences() {
            for c in s.cites() {
                if !ids.contains(&c.source) {
                    ids.push(c.source.clone());
                }
            }
        }
        ids
    }
}

/// Sentences as one paragraph.
pub fn join(sentences: &[Sentence]) -> String {
    let mut out = String::new();
    for s in sentences {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s.text);
    }
    out
}

/// A section as tools read it: `sentences` with their place, and for
/// safety the level.
impl Serialize for Section {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Placed<'a> {
            place: Place,
            #[serde(flatten)]
            sentence: &'a Sentence,
        }
        let sentences: Vec<Placed<'_>> = self
            .sentences()
            .map(|(place, sentence)| Placed { place, sentence })
            .collect();
        let mut st = s.serialize_struct("Section", 2)?;
        st.serialize_field("sentences", &sentences)?;
        st.serialize_field("sources", &self.source_ids())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cited(text: &str, source: &str) -> Sentence {
        Sentence {
            text: text.to_owned(),
            backing: Backing::Sources(vec![Cite {
                source: SourceId::parse(source).unwrap(),
                quote: "q".to_owned(),
            }]),
        }
    }

    #[test]
    fn sentences_serialize_in_the_documented_shape() {
        let s = cited("Massage may help.", "001");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"text": "Massage may help.", "cites": [{"source": "001", "quote": "q"}], "advice": false})
        );
        let a = Sentence {
            text: "See a doctor.".to_owned(),
            backing: Backing::Advice(AdviceId::parse("see-doctor").unwrap()),
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["advice"], true);
        assert_eq!(v["cites"], serde_json::json!([]));
    }

    #[test]
    fn a_section_lists_its_sentences_in_order_and_its_sources_once() {
        let section = Section {
            summary: vec![cited("A.", "002"), cited("B.", "001")],
            points: vec![cited("C.", "002")],
            differ: vec![],
            advice: vec![],
        };
        let places: Vec<Place> = section.sentences().map(|(p, _)| p).collect();
        assert_eq!(places, [Place::Summary, Place::Summary, Place::Point]);
        assert_eq!(section.summary_text(), "A. B.");
        let ids = section.source_ids();
        let ids: Vec<&str> = ids.iter().map(SourceId::as_str).collect();
        assert_eq!(ids, ["002", "001"]);
        let v = serde_json::to_value(&section).unwrap();
        assert_eq!(v["sentences"][2]["place"], "point");
        assert_eq!(v["sources"], serde_json::json!(["002", "001"]));
    }
}
