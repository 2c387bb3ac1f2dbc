//! What a message asks, apart from its topics: whether it asks about safety
//! or benefits, whether it is small talk, and whether it is English.
//!
//! These are the grammar of a question, not medical vocabulary, so they
//! live in code with their tests; the medical words are in the vocabulary.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::OnceLock;

use super::text::Token;

/// A word list as a set, built once.
macro_rules! word_set {
    ($name:ident, $list:expr) => {
        fn $name() -> &'static HashSet<&'static str> {
            static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
            SET.get_or_init(|| $list.iter().copied().collect())
        }
    };
}

word_set!(things, THINGS);
word_set!(animals, ANIMALS);
word_set!(symptoms, SYMPTOMS);
word_set!(greetings, GREETING);
word_set!(thanks, THANKS);
word_set!(farewells, FAREWELL);
word_set!(foreign_words, FOREIGN);
word_set!(english_words, ENGLISH);
word_set!(people, PEOPLE);
word_set!(acks, ACKS);

/// Phrases that make a question about safety, with how strongly. Strong
/// cues (3 and more) make it a safety question even when it also asks
/// about benefits: a question with both parts leads with safety.
const SAFETY: &[(&str, i32)] = &[
    ("safe", 3),
    ("safely", 3),
    ("safety", 3),
    ("unsafe", 3),
    ("dangerous", 3),
    ("danger", 3),
    ("risky", 3),
    ("risk", 3),
    ("risks", 3),
    ("ok", 2),
    ("okay", 2),
    ("oke", 2),
    ("alright", 2),
    ("allowed", 3),
    ("advisable", 3),
    ("harm", 3),
    ("harmful", 3),
    ("contraindicated", 4),
    ("contraindication", 4),
    ("contraindications", 4),
    ("contra", 3),
    ("contras", 3),
    ("avoid", 3),
    ("careful", 3),
    ("caution", 3),
    ("precautions", 3),
    ("precaution", 3),
    ("side effects", 3),
    ("bad idea", 4),
    ("good idea", 2),
    ("bad for", 3),
    ("worse", 1),
    ("make it worse", 4),
    ("make things worse", 4),
    ("make them worse", 4),
    ("make me worse", 4),
    ("set off a flare", 4),
    ("flare up", 2),
    ("worsen", 3),
    ("bruise", 3),
    ("bruising", 3),
    ("cancel", 3),
    ("postpone", 3),
    ("reschedule", 3),
    ("rebook", 2),
    ("still go", 3),
    ("still get", 3),
    ("still have", 2),
    ("still book", 3),
    ("still do", 2),
    ("can i still", 3),
    ("should i", 1),
    ("should she", 1),
    ("should he", 1),
    ("can i", 1),
    ("can she", 1),
    ("can he", 1),
    ("could i", 1),
    ("am i allowed", 3),
    ("is it ok", 3),
    ("is it okay", 3),
    ("go ahead", 2),
    ("too soon", 3),
    ("how soon", 3),
    ("how long after", 3),
    ("how long should i wait", 3),
    ("wait until", 2),
    ("doctors note", 3),
    ("drs note", 3),
    ("tell my therapist", 3),
    ("tell the therapist", 3),
    ("tell my masseuse", 3),
    ("reason not", 4),
    ("should not", 3),
    ("shouldnt", 3),
    ("not supposed", 3),
    ("fine to", 2),
    ("cleared", 2),
    ("permission", 2),
    ("affect the baby", 4),
    ("hurt the baby", 4),
    ("harm the baby", 4),
    ("spread", 2),
    ("trigger", 2),
    ("dodgy", 3),
    ("wise", 2),
    ("turned away", 3),
    ("refuse", 2),
    ("refused", 2),
    ("said no", 3),
    ("wont massage", 3),
    ("sign off", 2),
    ("concern", 2),
    ("concerned", 2),
    ("worried about", 2),
    ("complications", 3),
    ("interact", 3),
    ("interfere", 3),
    ("deep tissue", 1),
    ("any issue", 3),
    ("any issues", 3),
    ("any problem", 3),
    ("any problems", 3),
    ("anything i should know", 3),
    ("anything to avoid", 3),
    ("need to know", 2),
    ("does that matter", 3),
    ("does it matter", 3),
    ("is that fine", 3),
    ("is it fine", 3),
    ("fine", 1),
    ("mess with", 3),
    ("rub over", 3),
    ("still work on", 3),
    ("can they massage", 3),
    ("can the therapist", 2),
    ("can my therapist", 2),
    ("change how", 3),
    ("affect how", 3),
    ("asking for trouble", 4),
    ("break a bone", 3),
    ("break my bones", 3),
    ("open the wound", 3),
    ("wipe me out", 2),
    ("strain", 1),
    ("check with my doctor", 3),
    ("check with a doctor", 3),
    ("check with my gp", 3),
    ("check with my dr", 3),
    ("check with your doctor", 3),
    ("ask my doctor", 3),
    ("ask my gp", 3),
    ("need to check", 3),
    ("need to tell", 3),
    ("tell them", 2),
    ("tell my massage therapist", 3),
    ("tell the massage therapist", 3),
    ("what to tell", 3),
    ("what should i tell", 3),
    ("can you get", 2),
    ("can you have", 2),
    ("if you have", 2),
    ("if i have", 1),
    ("if she has", 2),
    ("if he has", 2),
    ("when you have", 2),
    ("when i have", 1),
    ("with my", 1),
    ("while", 1),
    ("whilst", 1),
    ("no go", 3),
    ("yes or no", 3),
    ("is that a no", 3),
    ("how long do i wait", 3),
    ("how long do i have to wait", 3),
    ("im safe", -3),
    ("not in any danger", -3),
    ("not in danger", -3),
    ("drop it", 2),
    ("too low", 2),
    ("warn the therapist", 3),
    ("warn my therapist", 3),
    ("irritate", 2),
    ("massaging over", 2),
    ("massage over", 2),
    ("strain it", 3),
    ("is it a no", 3),
    ("how do i recognise", 3),
    ("how do i recognize", 3),
    ("how do i tell if", 3),
    ("how do i know if", 3),
    ("signs of", 2),
    ("too poorly", 3),
    ("knock me out", 2),
    ("mask it", 2),
    ("is it bad", 3),
    ("ok for me", 3),
    ("ok for her", 3),
    ("ok for him", 3),
];

/// Phrases that make a question about benefits.
const BENEFIT: &[(&str, i32)] = &[
    ("fewer", 2),
    ("less", 1),
    ("cut down", 2),
    ("come off", 2),
    ("extra lift", 2),
    ("lift", 1),
    ("alongside", 1),
    ("calm", 2),
    ("cured", 2),
    ("curing", 2),
    ("help", 3),
    ("helps", 3),
    ("helped", 3),
    ("helpful", 3),
    ("helping", 3),
    ("benefit", 3),
    ("benefits", 3),
    ("beneficial", 3),
    ("improve", 3),
    ("improves", 3),
    ("relieve", 3),
    ("relief", 3),
    ("ease", 3),
    ("eases", 3),
    ("reduce", 3),
    ("lower my", 2),
    ("lower blood pressure", 2),
    ("lower bp", 2),
    ("lower it", 2),
    ("boost", 3),
    ("fix", 3),
    ("cure", 2),
    ("treat", 2),
    ("good for", 2),
    ("work", 1),
    ("works", 1),
    ("effective", 3),
    ("worth it", 2),
    ("worth", 1),
    ("do anything", 2),
    ("myth", 2),
    ("for real", 1),
    ("does massage", 1),
    ("can massage", 1),
    ("will massage", 1),
    ("would massage", 1),
    ("get rid", 3),
    ("loosen", 2),
    ("sort out", 2),
];

/// Words that greet, thank, or ask what the bot is.
const GREETING: &[&str] = &[
    "hi",
    "hey",
    "hello",
    "hiya",
    "heya",
    "yo",
    "sup",
    "gm",
    "morning",
    "evening",
    "afternoon",
    "howdy",
    "greetings",
    "hallo",
    "helo",
];
const THANKS: &[&str] = &[
    "thanks",
    "thank",
    "thx",
    "ty",
    "tysm",
    "cheers",
    "appreciate",
    "appreciated",
    "thankyou",
    "ta",
];
const FAREWELL: &[&str] = &["bye", "goodbye", "cya", "later", "gn", "goodnight", "night"];
const HELP_PHRASES: &[&str] = &[
    "help",
    "what can you do",
    "what do you do",
    "how do i use",
    "how does this work",
    "how do you work",
    "what do you know",
    "what topics",
    "which topics",
    "list topics",
    "who are you",
    "what are you",
    "commands",
    "what can i ask",
    "how to use",
    "do i just type",
    "how do i type",
    "how does safe work",
    "how does benefits work",
    "how does ask work",
    "are you a doctor",
    "are you real",
    "are you a bot",
    "safe command",
    "benefits command",
    "ask command",
];

/// Questions to the bot itself: small talk, though their words could name
/// a topic ("are you a doctor?" is not a question about doctors).
const ABOUT_THE_BOT: &[&str] = &[
    "are you a doctor",
    "are you a real doctor",
    "are you a nurse",
    "are you a therapist",
    "are you a massage therapist",
    "are you human",
    "are you ai",
    "are you an ai",
    "are you chatgpt",
    "do you have feelings",
    "do you have emotions",
    "why are you so slow",
    "you are so slow",
    "are you broken",
    "who made you",
    "who built you",
    "who programmed you",
];

/// Acknowledgements: a message of these alone is small talk ("ok"), not a
/// safety question ("is it ok?").
const ACKS: &[&str] = &[
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "cool",
    "alright",
    "nice",
    "great",
    "sure",
    "yep",
    "yeah",
    "yes",
    "no",
    "nope",
    "ah",
    "oh",
    "lol",
    "lmao",
    "np",
    "noted",
    "right",
    "mhm",
    "hmm",
    "perfect",
    "awesome",
    "got",
    "it",
    "fair",
    "enough",
    "fine",
    "good",
    "gotcha",
    "understood",
    "wow",
];

/// Small talk the bot answers with a pointer to what it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chat {
    Greeting,
    Thanks,
    Help,
    Farewell,
    /// "ok", "cool": an acknowledgement.
    Ack,
}

/// Whether the message is acknowledgements alone ("ok", "cool").
pub fn only_acks(tokens: &[Token]) -> bool {
    !tokens.is_empty() && tokens.iter().all(|t| acks().contains(spelled(&t.text)))
}

/// Where a question to the bot itself is: (first, last) token.
pub fn about_the_bot(tokens: &[Token]) -> Option<(usize, usize)> {
    static PHRASES: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    let phrases = PHRASES.get_or_init(|| ABOUT_THE_BOT.iter().map(|p| phrase_words(p)).collect());
    (0..tokens.len()).find_map(|i| {
        phrases
            .iter()
            .find(|words| occurs_at(tokens, i, words))
            .map(|words| (i, i + words.len() - 1))
    })
}

fn phrase_words(p: &str) -> Vec<&str> {
    p.split(' ').collect()
}

/// A cue list split into words once, indexed by first word, longest
/// phrases first.
struct Compiled {
    by_first: HashMap<&'static str, Vec<(Vec<&'static str>, i32)>>,
}

impl Compiled {
    fn new(cues: &'static [(&'static str, i32)]) -> Compiled {
        let mut by_first: HashMap<&str, Vec<(Vec<&str>, i32)>> = HashMap::default();
        for (p, w) in cues {
            let words = phrase_words(p);
            by_first.entry(words[0]).or_default().push((words, *w));
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
        }
        Compiled { by_first }
    }

    /// Every cue found, longest first at each place, each token used once:
    /// (end position, weight).
    fn find(&self, words: &[&str]) -> Vec<(usize, i32)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let hit = self.by_first.get(words[i]).and_then(|list| {
                list.iter()
                    .find(|(p, _)| words[i..].starts_with(p))
                    .map(|(p, w)| (p.len(), *w))
            });
            match hit {
                Some((len, w)) => {
                    out.push((i + len - 1, w));
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }
}

fn safety_cues() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| Compiled::new(SAFETY))
}

fn benefit_cues() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| Compiled::new(BENEFIT))
}

fn cue_words() -> &'static HashSet<&'static str> {
    static C: OnceLock<HashSet<&'static str>> = OnceLock::new();
    C.get_or_init(|| {
        SAFETY
            .iter()
            .chain(BENEFIT)
            .filter(|(p, _)| !p.contains(' '))
            .map(|(p, _)| *p)
            .collect()
    })
}

/// The tokens as words, with chat spellings read ("shud" is "should").
fn words(tokens: &[Token]) -> Vec<&str> {
    tokens.iter().map(|t| spelled(&t.text)).collect()
}

/// Chat spellings of common words: "shud i" is "should i".
pub fn spelled(word: &str) -> &str {
    match word {
        "u" | "ya" => "you",
        "ur" => "your",
        "shud" | "shld" | "shoud" => "should",
        "wat" | "wot" | "wut" => "what",
        "cud" | "cld" => "could",
        "wud" | "wld" => "would",
        "r" => "are",
        "b4" => "before",
        "oky" | "k" | "okey" => "okay",
        "iz" => "is",
        "cn" => "can",
        "thx" => "thanks",
        w => w,
    }
}

/// Whether `phrase` occurs as consecutive tokens from `i`.
fn occurs_at(tokens: &[Token], i: usize, phrase: &[&str]) -> bool {
    phrase.len() <= tokens.len() - i
        && phrase
            .iter()
            .zip(&tokens[i..])
            .all(|(w, t)| spelled(&t.text) == *w)
}

/// Sum and strongest of the weights of the cues found.
fn score(words: &[&str], cues: &Compiled) -> (i32, i32) {
    let found = cues.find(words);
    let total = found.iter().map(|(_, w)| w).sum();
    let strongest = found.iter().map(|(_, w)| *w).max().unwrap_or(0);
    (total, strongest)
}

/// How a question leans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lean {
    /// Sum of safety cue weights.
    pub safety: i32,
    /// The strongest single safety cue.
    pub strongest_safety: i32,
    /// Sum of benefit cue weights.
    pub benefit: i32,
    /// Asks whether massage cures something: no source claims a cure.
    pub cure: bool,
}

impl Lean {
    /// A clear safety question, whatever else it asks. One weak cue ("can
    /// i", "with my") is not enough on its own.
    pub fn is_safety(&self) -> bool {
        self.strongest_safety >= 3 || (self.safety >= 2 && self.safety > self.benefit)
    }

    pub fn is_benefit(&self) -> bool {
        self.benefit > 0 && !self.is_safety()
    }
}

pub fn lean(tokens: &[Token]) -> Lean {
    let words = words(tokens);
    let (safety, strongest_safety) = score(&words, safety_cues());
    let (benefit, _) = score(&words, benefit_cues());
    // "will it make my gout worse": make ... worse, whatever is between.
    let (mut safety, mut strongest_safety) = (safety, strongest_safety);
    for (i, t) in tokens.iter().enumerate() {
        if t.text == "worse"
            && tokens[i.saturating_sub(4)..i]
                .iter()
                .any(|b| matches!(b.text.as_str(), "make" | "makes" | "making" | "made"))
        {
            safety += 3;
            strongest_safety = strongest_safety.max(4);
        }
    }
    let cure = tokens
        .iter()
        .any(|t| matches!(t.text.as_str(), "cure" | "cures" | "cured" | "curing"));
    Lean {
        safety,
        strongest_safety,
        benefit,
        cure,
    }
}

/// Where a benefit cue ends ("help", "good for", "for"): the topic right
/// after one is what the question hopes massage helps with.
pub fn benefit_positions(tokens: &[Token]) -> Vec<usize> {
    // Strong cues only: "does it work on my thighs" does not ask about thighs.
    let mut out: Vec<usize> = benefit_cues()
        .find(&words(tokens))
        .into_iter()
        .filter(|(_, weight)| *weight >= 2)
        .map(|(end, _)| end)
        .collect();
    // "for my back", not "for months".
    out.extend(
        tokens
            .windows(2)
            .enumerate()
            .filter(|(_, w)| {
                w[0].text == "for"
                    && matches!(
                        w[1].text.as_str(),
                        "my" | "his" | "her" | "the" | "their" | "your" | "our" | "a"
                    )
            })
            .map(|(i, _)| i),
    );
    out
}

/// Every single-word cue and small-talk word.
pub fn function_words() -> impl Iterator<Item = &'static str> {
    cue_words()
        .iter()
        .copied()
        .chain(GREETING.iter().copied())
        .chain(THANKS.iter().copied())
        .chain(FAREWELL.iter().copied())
}

/// Small talk: the message is a greeting, thanks, a farewell or a request
/// for help, with at most `extra` other words that name nothing.
pub fn chat(tokens: &[Token], other_words: usize) -> Option<Chat> {
    if other_words > 2 {
        return None;
    }
    for i in 0..tokens.len() {
        for p in HELP_PHRASES {
            if occurs_at(tokens, i, &phrase_words(p)) {
                return Some(Chat::Help);
            }
        }
    }
    let any = |set: &HashSet<&str>| tokens.iter().any(|t| set.contains(t.text.as_str()));
    if any(thanks()) {
        Some(Chat::Thanks)
    } else if only_acks(tokens) {
        Some(Chat::Ack)
    } else if any(greetings()) {
        Some(Chat::Greeting)
    } else if any(farewells()) {
        Some(Chat::Farewell)
    } else {
        None
    }
}

/// Things and techniques: "is a massage chair safe?" asks about the thing,
/// which the sources do not cover, not about massage in general.
const THINGS: &[&str] = &[
    "chair",
    "chairs",
    "gun",
    "guns",
    "oil",
    "oils",
    "roller",
    "rollers",
    "ball",
    "balls",
    "cream",
    "creams",
    "lotion",
    "mat",
    "table",
    "device",
    "machine",
    "pillow",
    "bed",
    "cushion",
    "stick",
    "tool",
    "candle",
    "candles",
    "thai",
    "swedish",
    "shiatsu",
    "reflexology",
    "stone",
    "stones",
    "cupping",
    "lomi",
    "tantric",
    "indian",
    "head",
    "foot",
    "facial",
    "scrub",
    "sauna",
    "spa",
    "myself",
    "yourself",
    "self",
    "dog",
    "cat",
    "pet",
    "horse",
    "often",
    "much",
    "cost",
    "price",
    "tip",
    "wear",
];

/// Whether the message asks about a thing, technique or practicality
/// rather than about massage in general.
pub fn about_a_thing(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| things().contains(t.text.as_str()))
}

/// Animals: massage for a pet is not what the sources are about.
const ANIMALS: &[&str] = &[
    "dog",
    "dogs",
    "doggo",
    "puppy",
    "pup",
    "cat",
    "cats",
    "kitten",
    "kitty",
    "horse",
    "horses",
    "pony",
    "pet",
    "pets",
    "rabbit",
    "bunny",
    "hamster",
    "greyhound",
    "spaniel",
    "labrador",
    "puppys",
    "lab",
    "guinea",
    "paw",
    "paws",
    "vet",
];

/// Whether the massage asked about is for an animal: an animal near
/// "massage", or an animal that has the condition ("my dog has arthritis").
pub fn about_an_animal(tokens: &[Token]) -> bool {
    // "anxious rescue dog", "senior cat arthritis": a short message about one.
    if tokens.len() <= 5 && tokens.iter().any(|t| animals().contains(t.text.as_str())) {
        return true;
    }
    let massage = |t: &Token| t.text.starts_with("massag") || t.text == "rubs";
    tokens.iter().enumerate().any(|(i, t)| {
        animals().contains(t.text.as_str()) && {
            // "massage my dog", "dog massage", "my dog a massage", "my dog
            // has arthritis".
            let before = &tokens[i.saturating_sub(3)..i];
            let after = &tokens[i + 1..(i + 3).min(tokens.len())];
            let article = |t: &Token| matches!(t.text.as_str(), "a" | "an" | "the" | "some");
            before.iter().any(massage)
                || tokens.get(i + 1).is_some_and(massage)
                || (tokens.get(i + 1).is_some_and(article)
                    && tokens.get(i + 2).is_some_and(massage))
                || after.iter().any(|n| {
                    matches!(
                        n.text.as_str(),
                        "has"
                            | "had"
                            | "gets"
                            | "is"
                            | "with"
                            | "keeps"
                            | "got"
                            | "cant"
                            | "sore"
                            | "seems"
                            | "like"
                            | "likes"
                            | "loves"
                            | "hates"
                    )
                })
        }
    })
}

/// Words of a physical complaint: with a body part they name its topic.
const SYMPTOMS: &[&str] = &[
    "ache",
    "aches",
    "aching",
    "achy",
    "achey",
    "sore",
    "tight",
    "tightness",
    "stiff",
    "hurt",
    "hurts",
    "hurting",
    "burning",
    "pain",
    "painful",
    "tense",
    "knotted",
    "killing",
    "throbbing",
    "locked",
    "seized",
    "screaming",
    "wrecked",
    "agony",
    "twinge",
    "spasm",
    "spasms",
    "cramping",
    "fire",
    "trashed",
    "dead",
    "toast",
    "knots",
    "hell",
    "playing",
];

pub fn is_symptom(word: &str) -> bool {
    symptoms().contains(word)
}

/// Function words of other languages that are not English words, so a
/// few of them say the message is not in English.
const FOREIGN: &[&str] = &[
    // Spanish
    "es",
    "el",
    "los",
    "las",
    "que",
    "estoy",
    "para",
    "por",
    "con",
    "puedo",
    "masaje",
    "masajes",
    "embarazada",
    "dolor",
    "espalda",
    "una",
    "del",
    "muy",
    "tengo",
    "hacer",
    "bueno",
    "seguro",
    "ayuda",
    "esta",
    "cuando",
    "porque",
    "pero",
    "mucho",
    "estres",
    "dormir",
    "quiero",
    // French
    "je",
    "suis",
    "est",
    "des",
    "une",
    "avec",
    "mes",
    "pas",
    "du",
    "au",
    "enceinte",
    "dos",
    "faire",
    "peut",
    "puis",
    "cest",
    "quoi",
    "bien",
    "dans",
    "sur",
    "mon",
    "suisje",
    "estce",
    "sil",
    "jai",
    "aux",
    "ventre",
    "tete",
    "mal",
    // German
    "ich",
    "bin",
    "ist",
    "das",
    "der",
    "und",
    "mit",
    "nicht",
    "ein",
    "eine",
    "mein",
    "meine",
    "bei",
    "schwanger",
    "ruecken",
    "rucken",
    "schmerzen",
    "kann",
    "fur",
    "auf",
    "wie",
    "hilft",
    "ja",
    "darf",
    "sind",
    "hab",
    "habe",
    "nach",
    "oder",
    "wenn",
    "schlafprobleme",
    "schlafproblemen",
    "massagen",
    // Portuguese
    "estou",
    "gravida",
    "massagem",
    "posso",
    "fazer",
    "nao",
    "meu",
    "minha",
    "dor",
    "costas",
    "ajuda",
    "pra",
    "voce",
    "fazem",
    // Italian
    "sono",
    "incinta",
    "massaggio",
    "di",
    "schiena",
    "il",
    "che",
    "della",
    "aiuta",
    "fa",
    "bene",
    "gravidanza",
    // Dutch
    "ik",
    "zwanger",
    "het",
    "een",
    "mijn",
    "pijn",
    "helpt",
    "voor",
    "niet",
    "wel",
    "rugpijn",
    "tegen",
    "goed",
    // Polish
    "czy",
    "jestem",
    "ciazy",
    "masaz",
    "moge",
    "jest",
    "nie",
    "na",
    "sie",
    "bol",
    "plecow",
    "pomaga",
    "ciąży",
    "masaż",
    "mogę",
    "ból",
    "pleców",
    // Turkish
    "hamileyim",
    "masaj",
    "bir",
    "ve",
    "icin",
    "için",
    "yapabilir",
    "miyim",
    "agri",
    "ağrı",
    "sirt",
    "sırt",
    "iyi",
    "mi",
    "mı",
    "yaptırabilir",
    "yaptirabilir",
    // Indonesian / Malay
    "saya",
    "apakah",
    "pijat",
    "hamil",
    "untuk",
    "bisa",
    "sakit",
    "punggung",
    "yang",
    "boleh",
    // Swedish
    "jag",
    "gravid",
    "och",
    "ont",
    "ryggen",
    "hjälper",
    "hjalper",
    "det",
    "att",
    // Hindi in Latin script
    "kya",
    "hai",
    "mein",
    "mujhe",
    "karna",
    "chahiye",
    "sakta",
    "sakti",
    "nahi",
    "hoga",
    "hota",
    "kar",
    "ke",
    "ki",
    "ka",
    "liye",
    "meri",
    "mera",
    "dard",
    "karwa",
    "karwana",
    "hain",
    "mot",
    "mig",
    "mej",
    "wir",
    "suchen",
    "gute",
    "habt",
    "ihr",
    "tipps",
    "gibt",
];

/// English words that show a message is in English after all.
const ENGLISH: &[&str] = &[
    "the", "is", "are", "i", "my", "and", "to", "of", "for", "it", "with", "can", "does", "do",
    "what", "how", "you", "in", "on", "be", "this", "that", "have", "has", "im", "was", "will",
    "would", "should", "if", "after", "when", "get", "help", "safe", "me", "any", "or", "not",
    "but", "from", "about", "your", "its", "just",
];

/// Whether a message is written in another language: mostly in another
/// script, or with more foreign function words than English ones.
pub fn is_foreign(text: &str, tokens: &[Token]) -> bool {
    let (mut latin, mut other) = (0usize, 0usize);
    for c in text.chars().take(super::text::MAX_CHARS) {
        if c.is_alphabetic() {
            if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                latin += 1;
            } else {
                other += 1;
            }
        }
    }
    if other > latin && other >= 2 {
        return true;
    }
    let count = |set: &HashSet<&str>| {
        tokens
            .iter()
            .filter(|t| set.contains(t.text.as_str()))
            .count()
    };
    let foreign = count(foreign_words());
    let english = count(english_words());
    foreign >= 2 && foreign > english
}

/// Words that name a person a condition could apply to.
const PEOPLE: &[&str] = &[
    "i",
    "im",
    "ive",
    "id",
    "ill",
    "me",
    "my",
    "mine",
    "myself",
    "we",
    "our",
    "us",
    "u",
    "you",
    "your",
    "ur",
    "mum",
    "mom",
    "mam",
    "mummy",
    "mother",
    "dad",
    "father",
    "daddy",
    "nan",
    "nana",
    "gran",
    "granny",
    "grandma",
    "grandad",
    "grandpa",
    "grandmother",
    "grandfather",
    "wife",
    "husband",
    "partner",
    "bf",
    "gf",
    "boyfriend",
    "girlfriend",
    "hubby",
    "son",
    "daughter",
    "kid",
    "kids",
    "child",
    "baby",
    "sister",
    "brother",
    "sis",
    "bro",
    "aunt",
    "uncle",
    "friend",
    "mate",
    "client",
    "clients",
    "patient",
    "patients",
    "pt",
    "she",
    "he",
    "her",
    "him",
    "his",
    "hers",
    "they",
    "them",
    "someone",
    "colleague",
    "boss",
    "neighbour",
    "neighbor",
    "flatmate",
    "roommate",
    "fiance",
    "fiancee",
    "cousin",
    "oh",
    // The writer, unsaid: "felt dizzy", "been ill all week".
    "feel",
    "felt",
    "feeling",
    "got",
    "been",
    "having",
    "suffering",
    "struggling",
    "diagnosed",
];

/// Whether a word names a person ("my", "mum", "client").
pub fn is_person(word: &str) -> bool {
    people().contains(word)
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::*;

    fn lean_of(s: &str) -> Lean {
        lean(&tokens(s))
    }

    #[test]
    fn safety_and_benefit_cues() {
        assert!(lean_of("is massage safe if im pregnant").is_safety());
        assert!(lean_of("should i cancel my appointment").is_safety());
        assert!(lean_of("will deep tissue bruise me").is_safety());
        assert!(lean_of("can massage help my migraines").is_benefit());
        assert!(lean_of("will it help my back, and is it safe with my heart").is_safety());
        assert!(!lean_of("sleep").is_safety() && !lean_of("sleep").is_benefit());
    }

    #[test]
    fn small_talk() {
        assert_eq!(chat(&tokens("hi!"), 0), Some(Chat::Greeting));
        assert_eq!(chat(&tokens("thanks that helped"), 0), Some(Chat::Thanks));
        assert_eq!(chat(&tokens("what can you do"), 0), Some(Chat::Help));
        assert_eq!(chat(&tokens("hi my lower back hurts all day"), 4), None);
    }

    #[test]
    fn other_languages() {
        for s in [
            "¿es seguro un masaje si estoy embarazada?",
            "est-ce que je peux faire un massage enceinte",
            "hilft massage bei stress und schlafproblemen",
            "kya pregnancy me massage karna safe hai",
            "マッサージは安全ですか",
        ] {
            assert!(is_foreign(s, &tokens(s)), "{s}");
        }
        for s in [
            "is massage ok when pregnant",
            "massage for my back pain pls",
            "hi",
        ] {
            assert!(!is_foreign(s, &tokens(s)), "{s}");
        }
    }
}
