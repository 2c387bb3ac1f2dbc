//! The shipped knowledge base and the checker that guards it.
//!
//! 1. The shipped file loads and has what the issue asks for.
//! 2. Coverage: every benefit and warning stated in the five source
//!    documents is either cited by the topic listed for it or deliberately
//!    excluded. Each row is checked against the real document text, so a
//!    mistyped or invented statement fails.
//! 3. Exclusions: false or sweeping claims are not repeated.
//! 4. Broken files: each kind of problem is reported, with its line, and a
//!    file with several problems lists all of them.

use std::collections::HashSet;
use std::path::Path;

use massage_bot::knowledge::{
    Knowledge, KnowledgeError, Problem, SafetyLevel, SourceDir, SourceId, Topic, TopicId,
};

// ---------------------------------------------------------------- helpers

fn shipped() -> Knowledge {
    match Knowledge::embedded() {
        Ok(k) => k,
        Err(e) => panic!("the shipped knowledge does not load:\n{e}"),
    }
}

fn topic<'a>(k: &'a Knowledge, id: &str) -> &'a Topic {
    let tid = TopicId::parse(id).unwrap_or_else(|e| panic!("{e}"));
    k.topic(&tid)
        .unwrap_or_else(|| panic!("topic `{id}` is missing"))
}

/// The same folding the checker applies to quotes.
fn fold(text: &str) -> String {
    massage_bot::knowledge::fold_quote(text)
}

fn source_text(k: &Knowledge, id: &str) -> String {
    let sid = SourceId::parse(id).unwrap();
    let source = k
        .source(&sid)
        .unwrap_or_else(|| panic!("source `{id}` is missing"));
    assert!(!source.text.trim().is_empty(), "source `{id}` has no text");
    fold(&source.text)
}

/// Every text of a topic a user can read: title, summaries, points and
/// the sources-differ note.
fn topic_texts(t: &Topic) -> Vec<&str> {
    let mut v = vec![t.title.as_str()];
    if let Some(b) = &t.benefits {
        v.push(&b.summary);
        v.extend(b.points.iter().map(String::as_str));
    }
    if let Some(s) = &t.safety {
        v.push(&s.summary);
        v.extend(s.points.iter().map(String::as_str));
        v.extend(s.sources_differ.as_deref());
    }
    v
}

/// Every text the bot can show: topics, tips and the caveat.
fn all_texts(k: &Knowledge) -> Vec<(String, &str)> {
    let mut v: Vec<(String, &str)> = Vec::new();
    v.push(("caveat".to_owned(), k.caveat.as_str()));
    for t in &k.topics {
        for text in topic_texts(t) {
            v.push((format!("topic `{}`", t.id), text));
        }
    }
    for (i, tip) in k.tips.iter().enumerate() {
        v.push((format!("tip #{}", i + 1), tip.text.as_str()));
    }
    v
}

/// Lowercase words of a text; `%` stays part of a word ("80%").
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '%'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `phrase` occurs in `text` as whole words.
fn has_phrase(text: &str, phrase: &str) -> bool {
    let text = words(text);
    let phrase = words(phrase);
    !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase.as_slice())
}

fn strength(level: SafetyLevel) -> u8 {
    match level {
        SafetyLevel::AskFirst => 1,
        SafetyLevel::Caution => 2,
        SafetyLevel::Avoid => 3,
    }
}

// ---------------------------------------------------------------- 1. shipped

const REQUIRED_TOPICS: [&str; 30] = [
    "stress",
    "anxiety",
    "sleep",
    "depression",
    "pain",
    "back-pain",
    "headaches",
    "muscles",
    "circulation",
    "blood-pressure",
    "immunity",
    "flexibility",
    "recovery",
    "athletic-performance",
    "posture",
    "breathing",
    "energy",
    "nervous-system",
    "emotional-wellbeing",
    "skin",
    "babies",
    "pregnancy",
    "arthritis",
    "osteoporosis",
    "cancer",
    "medications",
    "heart",
    "blood-vessels",
    "infections",
    "medical-conditions",
];

#[test]
fn shipped_knowledge_loads_with_every_required_topic() {
    let k = shipped();
    for id in REQUIRED_TOPICS {
        topic(&k, id);
    }
    assert_eq!(k.sources.len(), 5);
    assert!(k.tips.len() >= 24, "only {} tips", k.tips.len());
    let caveat = k.caveat.as_str().to_lowercase();
    for needle in [
        "doctor",
        "pregnant",
        "medical condition",
        "not medical advice",
    ] {
        assert!(caveat.contains(needle), "caveat lacks `{needle}`: {caveat}");
    }
}

#[test]
fn the_file_on_disk_is_the_embedded_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/knowledge.toml");
    let from_disk = Knowledge::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let embedded = shipped();
    assert_eq!(from_disk.topics.len(), embedded.topics.len());
    assert_eq!(from_disk.tips.len(), embedded.tips.len());
    for (a, b) in from_disk.sources.iter().zip(&embedded.sources) {
        assert_eq!(a.id, b.id);
        assert_eq!(
            a.text, b.text,
            "source {} differs from the embedded copy",
            a.id
        );
    }
}

#[test]
fn every_topic_has_enough_aliases_and_a_cited_section() {
    let k = shipped();
    for t in &k.topics {
        assert!(
            t.aliases.len() >= 3,
            "topic `{}` has only {} aliases",
            t.id,
            t.aliases.len()
        );
        for a in &t.aliases {
            assert!(
                a.split_whitespace().count() <= 4,
                "topic `{}`: alias `{a}` reads like a sentence",
                t.id
            );
        }
        assert!(t.benefits.is_some() || t.safety.is_some());
        if let Some(b) = &t.benefits {
            assert!(!b.evidence.is_empty(), "`{}` benefits cite nothing", t.id);
        }
        if let Some(s) = &t.safety {
            assert!(!s.evidence.is_empty(), "`{}` safety cites nothing", t.id);
        }
    }
}

#[test]
fn the_lay_words_of_the_issue_are_aliases_of_the_right_topic() {
    let k = shipped();
    let expected: &[(&str, &[&str])] = &[
        ("sleep", &["insomnia", "can't sleep", "trouble sleeping"]),
        (
            "blood-vessels",
            &["blood clots", "varicose veins", "phlebitis"],
        ),
        ("pregnancy", &["expecting", "labor", "labour"]),
        ("cancer", &["chemo", "tumour", "tumor"]),
        (
            "medications",
            &["aspirin", "ibuprofen", "nsaids", "painkillers"],
        ),
        ("infections", &["cold", "flu", "contagious"]),
        ("skin", &["rash", "eczema", "psoriasis"]),
        ("heart", &["heart disease", "cardiac"]),
        (
            "blood-pressure",
            &["hypertension", "high blood pressure", "heart rate"],
        ),
        ("babies", &["newborn", "infant"]),
        ("pain", &["fibromyalgia"]),
        ("muscles", &["sore muscles", "stiff", "spasm", "cramp"]),
        ("athletic-performance", &["workout", "athlete", "sports"]),
        ("headaches", &["tension headache", "migraine"]),
        ("energy", &["fatigue", "tired", "alertness"]),
        ("emotional-wellbeing", &["mood"]),
        ("depression", &["sad", "low mood"]),
        ("nervous-system", &["fight or flight"]),
        ("circulation", &["lymph", "oxygen"]),
        ("recovery", &["scar", "surgery", "operation", "post-op"]),
        ("osteoporosis", &["brittle bones", "bone density"]),
        ("flexibility", &["joints", "range of motion", "mobility"]),
        ("anxiety", &["worry", "panic attacks", "agoraphobia"]),
        (
            "medical-conditions",
            &["chronic condition", "disability", "chronic illness"],
        ),
    ];
    for (id, aliases) in expected {
        let t = topic(&k, id);
        for a in *aliases {
            assert!(
                t.aliases.iter().any(|x| x.eq_ignore_ascii_case(a)),
                "`{a}` is not an alias of `{id}`"
            );
        }
    }
}

#[test]
fn safety_levels_are_not_weaker_than_the_sources_say() {
    let k = shipped();
    // (topic, weakest acceptable level, sources disagree)
    let expected = [
        ("heart", SafetyLevel::Avoid, false),
        ("blood-vessels", SafetyLevel::Avoid, false),
        ("infections", SafetyLevel::Avoid, true),
        ("cancer", SafetyLevel::Avoid, true),
        ("skin", SafetyLevel::Avoid, false),
        ("pregnancy", SafetyLevel::Caution, true),
        ("arthritis", SafetyLevel::AskFirst, false),
        ("osteoporosis", SafetyLevel::AskFirst, false),
        ("medications", SafetyLevel::AskFirst, false),
        ("medical-conditions", SafetyLevel::AskFirst, true),
        ("blood-pressure", SafetyLevel::AskFirst, false),
        ("recovery", SafetyLevel::AskFirst, false),
    ];
    for (id, weakest, differ) in expected {
        let t = topic(&k, id);
        let s = t
            .safety
            .as_ref()
            .unwrap_or_else(|| panic!("`{id}` has no safety section"));
        assert!(
            strength(s.level) >= strength(weakest),
            "`{id}` is {:?}; the sources call for at least {weakest:?}",
            s.level
        );
        if differ {
            let note = s
                .sources_differ
                .as_deref()
                .unwrap_or_else(|| panic!("`{id}` must say the sources differ"));
            let note = note.to_lowercase();
            assert!(
                note.contains("cautious") || note.contains("follows the warning"),
                "`{id}`: the note must say the cautious source was followed: {note}"
            );
        }
    }
    // Pregnancy follows doc 000 exactly: a qualified therapist, not a ban.
    let p = topic(&k, "pregnancy").safety.as_ref().unwrap();
    assert_eq!(p.level, SafetyLevel::Caution);
    assert!(p.summary.to_lowercase().contains("qualified"));
    assert!(p.evidence.iter().any(|e| e.source.as_str() == "000"));
}

#[test]
fn benefit_topics_point_to_the_warnings_next_to_them() {
    let k = shipped();
    for (from, to) in [
        ("immunity", "infections"),
        ("circulation", "blood-vessels"),
        ("blood-pressure", "heart"),
        ("flexibility", "arthritis"),
        ("flexibility", "osteoporosis"),
        ("pain", "medications"),
        ("energy", "cancer"),
        ("babies", "pregnancy"),
    ] {
        let t = topic(&k, from);
        assert!(
            t.related.iter().any(|r| r.as_str() == to),
            "`{from}` should point to `{to}`"
        );
    }
}

#[test]
fn tips_are_short_and_safe_and_cite_the_facts_they_state() {
    let k = shipped();
    let claims = [
        "helps", "help", "reduces", "improves", "boosts", "lowers", "relieves", "heals",
        "prevents", "eases", "source", "sources", "research", "studies", "study",
    ];
    for (i, tip) in k.tips.iter().enumerate() {
        let n = i + 1;
        assert!(tip.text.chars().count() <= 200, "tip #{n} is long");
        let sentences = tip
            .text
            .split_inclusive(['.', '?', '!'])
            .filter(|s| !s.trim().is_empty())
            .count();
        assert!(sentences <= 2, "tip #{n} has {sentences} sentences");
        if tip.evidence.is_empty() {
            for w in claims {
                assert!(
                    !has_phrase(&tip.text, w),
                    "tip #{n} states a fact (`{w}`) but cites nothing: {}",
                    tip.text
                );
            }
        }
        let lower = tip.text.to_lowercase();
        for bad in [
            "belly",
            "bump",
            "abdomen",
            "deep pressure",
            "press hard",
            "firmly",
        ] {
            assert!(!lower.contains(bad), "tip #{n} mentions `{bad}`");
        }
        if ["pregnan", "expecting"].iter().any(|w| lower.contains(w)) {
            assert!(
                lower.contains("qualified") || lower.contains("doctor"),
                "tip #{n} about pregnancy needs a qualified therapist or doctor"
            );
        }
        if ["varicose", "clot", "heart"]
            .iter()
            .any(|w| lower.contains(w))
        {
            assert!(
                lower.contains("doctor"),
                "tip #{n} must send you to a doctor"
            );
        }
    }
}

// ---------------------------------------------------------------- 2. coverage

/// Marks a statement that is deliberately left out ([[excluded]]).
const EXCLUDED: &str = "EXCLUDED";

/// Every benefit and every warning stated in the five documents: the
/// document, a fragment of the statement (verbatim up to the checker's
/// folding), and the topic that covers it, or [`EXCLUDED`].
#[rustfmt::skip]
const COVERAGE: &[(&str, &str, &str)] = &[
    // 000: Benefits of massage, and when it is unsafe
    ("000", "helpful for most people to do from time to time", "stress"),
    ("000", "it is very relaxing", "stress"),
    ("000", "It can help to reduce stress levels", "stress"),
    ("000", "calm down people that are upset or feeling aggressive", "emotional-wellbeing"),
    ("000", "help people that are having trouble sleeping", "sleep"),
    ("000", "darkened room with nicely scented warm massage oil", "stress"),
    ("000", "Soothing music can also be played", "stress"),
    ("000", "Sore muscles can also be helped through massage therapy", "muscles"),
    ("000", "tell the therapist about any muscles that are sore", "muscles"),
    ("000", "When tight muscles are massaged it can help to loosen them up", "muscles"),
    ("000", "relieving many other types of pain such as headaches", "headaches"),
    ("000", "relieving many other types of pain", "pain"),
    ("000", "improve your immune system", "immunity"),
    ("000", "higher white blood cell counts", "immunity"),
    ("000", "help people recover from surgery and other illnesses", "recovery"),
    ("000", "Babies many times benefit from massages", "babies"),
    ("000", "help them to feel better when they are fussy", "babies"),
    ("000", "Their digestive process can also be aided", "babies"),
    ("000", "some situations that make it unsafe for you to undergo this treatment", "medical-conditions"),
    ("000", "check with your doctor before you schedule any massage appointments", "medical-conditions"),
    ("000", "Heart conditions and problems with blood vessels make it unsafe", "heart"),
    ("000", "Heart conditions and problems with blood vessels make it unsafe", "blood-vessels"),
    ("000", "only get this treatment from someone who is qualified to do pregnancy massage", "pregnancy"),
    ("000", "massaging some areas during certain times during the pregnancy can be dangerous", "pregnancy"),
    ("000", "don't want to get a massage in any areas where you have skin conditions", "skin"),
    // 001: The many benefits of massage therapy
    ("001", "need some down-time to relax and refresh", "stress"),
    ("001", "in search of relief modern medicine has been unable to manage", EXCLUDED),
    ("001", "supplement and enhance both modern and alternative medical treatments", "medical-conditions"),
    ("001", "wide ranging benefits of massage therapy that treat a number of other conditions", EXCLUDED),
    ("001", "Improved blood circulation", "circulation"),
    ("001", "relief of muscle pain due to lack of activity", "muscles"),
    ("001", "Increased alertness", "energy"),
    ("001", "Decrease in back pain", "back-pain"),
    ("001", "Improved mood", "emotional-wellbeing"),
    ("001", "Reduced stress levels", "stress"),
    ("001", "stress-related illness including tension headaches", "headaches"),
    ("001", "Decreased muscle stiffness", "muscles"),
    ("001", "increased mobility", "flexibility"),
    ("001", "Improved ability to heal", "recovery"),
    ("001", "Reduction in muscle spasms", "muscles"),
    ("001", "Increased physical performance/athleticism", "athletic-performance"),
    ("001", "Improved deep breathing", "breathing"),
    ("001", "Improved posture", "posture"),
    ("001", "Strengthened immune system", "immunity"),
    ("001", "Reduction in anxiety levels", "anxiety"),
    ("001", "Lower dependence on medication", "medications"),
    ("001", "Improved joint flexibility", "flexibility"),
    ("001", "Lessened risk of depression", "depression"),
    ("001", "Promotes healing of soft tissues, including scars", "recovery"),
    ("001", "Improved delivery of oxygen and nutrients", "circulation"),
    ("001", "Increases pain tolerance by releasing endorphins", "pain"),
    ("001", "Eases pain of childbirth", "pregnancy"),
    ("001", "Relieves sleep loss/insomnia", "sleep"),
    ("001", "Increased energy, reduction in frequency and severity of fatigue", "energy"),
    ("001", "regular sessions are recommended", "stress"),
    ("001", "increase in circulatory health", "circulation"),
    ("001", "relief of muscle tension", "muscles"),
    ("001", "savings enjoyed between decreased use and cost of medications", EXCLUDED),
    // 002: Therapeutic massage
    ("002", "treat chronic pain", "pain"),
    ("002", "post-surgical scar tissue", "recovery"),
    ("002", "and even depression", "depression"),
    ("002", "Massage therapy might be the best option", EXCLUDED),
    ("002", "recommended by a physician or physical therapist", "medical-conditions"),
    ("002", "the ability to reduce stress and improve circulation", "stress"),
    ("002", "the ability to reduce stress and improve circulation", "circulation"),
    ("002", "reduces cortisol levels", "stress"),
    ("002", "lower blood pressure and heart rate", "blood-pressure"),
    ("002", "beneficial for those who suffer from chronic pain, anxiety disorders", "anxiety"),
    ("002", "beneficial for those who suffer from chronic pain, anxiety disorders, depression", "depression"),
    ("002", "licensed massage therapist perform the massage for clients who have medical conditions", "medical-conditions"),
    ("002", "valid therapy for many painful conditions", "pain"),
    ("002", "close the pain gate", "pain"),
    ("002", "improve your flexibility", "flexibility"),
    ("002", "reduce symptoms of anxiety", "anxiety"),
    ("002", "help manage your body's fight or flight response", "nervous-system"),
    ("002", "Individuals with agoraphobia", "anxiety"),
    ("002", "People with osteoporosis can benefit from therapeutic massage", "osteoporosis"),
    ("002", "causes the bones to become more dense", EXCLUDED),
    ("002", "help alleviate pain and improve range of motion", "osteoporosis"),
    ("002", "improve the overall function of joints", "osteoporosis"),
    ("002", "often used to prevent injury", "athletic-performance"),
    ("002", "it can also be used to relieve stress", "stress"),
    ("002", "a weekly massage may be beneficial", "depression"),
    ("002", "your doctor should be consulted by the therapist", "osteoporosis"),
    ("002", "the therapy is beneficial for everyone", EXCLUDED),
    ("002", "A massage is safe for pregnant women", EXCLUDED),
    ("002", "people with disabilities", EXCLUDED),
    ("002", "Before receiving a massage for arthritis, it is important to consult your doctor", "arthritis"),
    ("002", "Medications such as NSAIDs can also cause complications", "medications"),
    ("002", "Medications such as NSAIDs can also cause complications", "arthritis"),
    ("002", "talk with your therapist about your health", "medical-conditions"),
    ("002", "inform the therapist about your medical history", "medical-conditions"),
    ("002", "be aware of any underlying health issues or conditions", "medical-conditions"),
    ("002", "beneficial for you if you are suffering from anxiety", "anxiety"),
    ("002", "it can ease pain and increase circulation", "pain"),
    ("002", "it can ease pain and increase circulation", "circulation"),
    ("002", "overcome any stress or tension", "stress"),
    ("002", "help you cope with severe depression", "depression"),
    ("002", "a psychotherapist may recommend back-to-back therapy sessions and massages", "depression"),
    ("002", "should only be offered by a licensed professional", "medical-conditions"),
    ("002", "legitimate therapy for those with chronic conditions", "medical-conditions"),
    ("002", "Massage can help reduce anxiety and pain in many ways", "anxiety"),
    ("002", "reduce anxiety attacks by increasing blood circulation", EXCLUDED),
    ("002", "reduce stress and depression", "depression"),
    ("002", "use the correct pressure to target the specific needs of a patient", "osteoporosis"),
    // 003: The importance of medical massage treatments
    ("003", "recognized type of complementary and alternative treatment", "medical-conditions"),
    ("003", "many insurance companies fund these treatment sessions", EXCLUDED),
    ("003", "boost circulation, relieve tension and reduce stress", "circulation"),
    ("003", "boost circulation, relieve tension and reduce stress", "stress"),
    ("003", "relieve anxiety, improve sleep, and promote relaxation", "anxiety"),
    ("003", "relieve anxiety, improve sleep, and promote relaxation", "sleep"),
    ("003", "relieve anxiety, improve sleep, and promote relaxation", "stress"),
    ("003", "relieve muscle stiffness and soreness", "muscles"),
    ("003", "one of the most effective rehabilitation methods", EXCLUDED),
    ("003", "aching muscles after a workout, particularly among professional athletes", "athletic-performance"),
    ("003", "helps to calm aching muscles", "muscles"),
    ("003", "lessen body pain in patients suffering from chronic pain", "pain"),
    ("003", "shown in studies to reduce pain", "pain"),
    ("003", "associated with fibromyalgia, surgery, and other conditions", "pain"),
    ("003", "associated with fibromyalgia, surgery", "recovery"),
    ("003", "helps alleviate stress and anxiety", "stress"),
    ("003", "helps alleviate stress and anxiety", "anxiety"),
    ("003", "lessen the stress and anxiety you experience on a daily basis", "stress"),
    ("003", "help your mind and body relax", "stress"),
    ("003", "calms your fight-or-flight reaction", "nervous-system"),
    ("003", "promotes a sense of peace and minimizes nervous thinking", "anxiety"),
    ("003", "help you fall asleep faster, remain asleep longer", "sleep"),
    ("003", "assist patients who suffer from insomnia sleep better", "sleep"),
    ("003", "frequent massages into your wellness routine", "stress"),
    ("003", "It boosts your immune system", "immunity"),
    ("003", "If you catch a cold or other minor illnesses", EXCLUDED),
    ("003", "raise the number of lymphocytes", "immunity"),
    ("003", "reduce illness symptoms such as inflammation", "immunity"),
    ("003", "It improves your flexibility and range of motion", "flexibility"),
    ("003", "can't touch your toes, a medical therapeutic massage will help", "flexibility"),
    ("003", "increase joint range of motion and flexibility", "flexibility"),
    ("003", "sports massage is well-known for its impact on movement functionality", "athletic-performance"),
    ("003", "increases blood flow to the joints, enhances lymph circulation", "circulation"),
    ("003", "results in gentle exfoliation, allowing new skin cells to emerge", "skin"),
    ("003", "rest and digest", "nervous-system"),
    ("003", "nerve pressure generated by tight muscles", "nervous-system"),
    ("003", "Stress hormones such as corticosteroids are produced less", "nervous-system"),
    ("003", "affects hormones that regulate sleep/wake cycles", EXCLUDED),
    ("003", "blood sugar", EXCLUDED),
    ("003", "new blood enters, delivering new nourishment, oxygen, and immune cells", "circulation"),
    ("003", "Stretching and range of motion exercises", "flexibility"),
    ("003", "gentle music and dim lighting will give you a sense of calmness", "stress"),
    ("003", "full activation mode", EXCLUDED),
    ("003", "awakens your muscles, organs, and glands", EXCLUDED),
    // 004: Therapeutic massage: body, mind and soul
    ("004", "alleviating pain and stiffness", "pain"),
    ("004", "unparalleled", EXCLUDED),
    ("004", "provides relief to all kinds of people", EXCLUDED),
    ("004", "relieving the mind", "emotional-wellbeing"),
    ("004", "perhaps the most prevalent of all is the stress-related tension", "stress"),
    ("004", "accounts for 80% to 90% of the disease", EXCLUDED),
    ("004", "eliminating the cancer-related fatigue", EXCLUDED),
    ("004", "diabetes", EXCLUDED),
    ("004", "injury on the spinal cord", EXCLUDED),
    ("004", "autism", EXCLUDED),
    ("004", "infertility", EXCLUDED),
    ("004", "smoking cessation", EXCLUDED),
    ("004", "age-related disorders", EXCLUDED),
    ("004", "Softens and relaxes the injured and overused muscles", "muscles"),
    ("004", "pump more oxygen and nutrients", "circulation"),
    ("004", "Reduces cramping and spasm", "muscles"),
    ("004", "Increases flexibility of the joints", "flexibility"),
    ("004", "Stimulates the lymph system against toxic invaders", EXCLUDED),
    ("004", "Releases endorphin's, which is the natural painkiller of the body", "pain"),
    ("004", "Improves range of motion", "flexibility"),
    ("004", "Decreases discomforts for patients with low back pain", "back-pain"),
    ("004", "Provides relief for migraines", "headaches"),
    ("004", "would be deemed contraindicated", "medical-conditions"),
    ("004", "Some skin conditions", "skin"),
    ("004", "Certain forms of cancer", "cancer"),
    ("004", "Infectious diseases", "infections"),
    ("004", "Phlebitis", "blood-vessels"),
    ("004", "Some cardiac problems", "heart"),
    ("004", "beneficial for you spirit", "emotional-wellbeing"),
    ("004", "cathartic experiences on the massage table", "emotional-wellbeing"),
    ("004", "not alone in this fast-paced world", "emotional-wellbeing"),
    ("004", "Numerous researches and findings can support this claim", EXCLUDED),
];

#[test]
fn coverage_list_statements_are_real_and_covered() {
    let k = shipped();
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for &(doc, fragment, home) in COVERAGE {
        assert!(
            seen.insert((doc, fragment, home)),
            "duplicate row {doc} `{fragment}`"
        );
        let text = source_text(&k, doc);
        let frag = fold(fragment);
        if !text.contains(&frag) {
            failures.push(format!("{doc}: `{fragment}` is not in the document"));
            continue;
        }
        if home == EXCLUDED {
            let excluded = k
                .excluded
                .iter()
                .any(|x| x.source.as_str() == doc && fold(&x.quote).contains(&frag));
            if !excluded {
                failures.push(format!("{doc}: `{fragment}` has no [[excluded]] entry"));
            }
            continue;
        }
        let Ok(id) = TopicId::parse(home) else {
            failures.push(format!("{doc}: `{home}` is not a topic id"));
            continue;
        };
        let Some(t) = k.topic(&id) else {
            failures.push(format!("{doc}: topic `{home}` does not exist"));
            continue;
        };
        // Not just "cites this document": a quote the topic cites from it
        // must hold the statement.
        let cited = t
            .benefits
            .iter()
            .flat_map(|b| &b.evidence)
            .chain(t.safety.iter().flat_map(|s| &s.evidence))
            .any(|e| e.source.as_str() == doc && fold(&e.quote).contains(&frag));
        if !cited {
            failures.push(format!(
                "{doc}: `{fragment}` is not in any quote topic `{home}` cites from it"
            ));
        }
    }
    assert!(failures.is_empty(), "coverage:\n{}", failures.join("\n"));
    assert!(COVERAGE.len() >= 80, "the coverage list looks incomplete");
}

#[test]
fn every_topic_and_exclusion_is_reached_by_the_coverage_list() {
    let k = shipped();
    for t in &k.topics {
        assert!(
            COVERAGE.iter().any(|&(_, _, home)| home == t.id.as_str()),
            "topic `{}` rests on no statement of the coverage list",
            t.id
        );
    }
    for x in &k.excluded {
        let quote = fold(&x.quote);
        assert!(
            COVERAGE.iter().any(|&(doc, fragment, home)| {
                home == EXCLUDED && doc == x.source.as_str() && quote.contains(&fold(fragment))
            }),
            "exclusion `{}` is not in the coverage list",
            x.quote
        );
    }
    for doc in ["000", "001", "002", "003", "004"] {
        assert!(
            COVERAGE.iter().filter(|r| r.0 == doc).count() >= 10,
            "document {doc} has few coverage rows"
        );
    }
}

// ---------------------------------------------------------------- 3. exclusions

#[test]
fn every_exclusion_has_a_reason_and_is_never_cited() {
    let k = shipped();
    assert!(!k.excluded.is_empty());
    for x in &k.excluded {
        assert!(
            x.reason.split_whitespace().count() >= 4,
            "exclusion `{}` needs a real reason",
            x.quote
        );
        let excluded = fold(&x.quote);
        let evidence = k
            .topics
            .iter()
            .flat_map(|t| {
                t.benefits
                    .iter()
                    .flat_map(|b| &b.evidence)
                    .chain(t.safety.iter().flat_map(|s| &s.evidence))
                    .map(move |e| (format!("topic `{}`", t.id), e))
            })
            .chain(k.tips.iter().enumerate().flat_map(|(i, tip)| {
                tip.evidence
                    .iter()
                    .map(move |e| (format!("tip #{}", i + 1), e))
            }));
        for (owner, e) in evidence {
            if e.source != x.source {
                continue;
            }
            let cited = fold(&e.quote);
            assert!(
                !cited.contains(&excluded) && !excluded.contains(&cited),
                "{owner} cites the excluded claim `{}`",
                x.quote
            );
        }
    }
}

#[test]
fn the_known_false_and_sweeping_claims_are_excluded() {
    let k = shipped();
    let excluded = |doc: &str, fragment: &str| {
        k.excluded
            .iter()
            .find(|x| x.source.as_str() == doc && x.quote.contains(fragment))
            .unwrap_or_else(|| panic!("{doc}: `{fragment}` is not excluded"))
    };
    let dense = excluded("002", "more dense");
    assert!(dense.reason.contains("less dense"));
    excluded("002", "safe for pregnant women");
    excluded("002", "beneficial for everyone");
    excluded("004", "80% to 90%");
    excluded("004", "autism");
    excluded("004", "Stimulates the lymph system against toxic invaders");
    excluded("003", "If you catch a cold");
    excluded("003", "insurance");
}

#[test]
fn osteoporosis_never_repeats_more_dense_and_asks_for_a_doctor() {
    let k = shipped();
    let t = topic(&k, "osteoporosis");
    for text in topic_texts(t) {
        let lower = text.to_lowercase();
        assert!(!lower.contains("more dense"), "osteoporosis says: {text}");
        assert!(!lower.contains("denser"), "osteoporosis says: {text}");
    }
    let s = t.safety.as_ref().expect("osteoporosis needs a safety note");
    assert!(strength(s.level) >= strength(SafetyLevel::AskFirst));
    assert!(s.summary.to_lowercase().contains("doctor"));
    assert!(s
        .evidence
        .iter()
        .any(|e| e.quote.contains("your doctor should be consulted")));
}

#[test]
fn no_text_calls_massage_safe_or_repeats_sweeping_claims() {
    let k = shipped();
    // Whole words or phrases that no reply may contain. "unsafe" is fine.
    let forbidden = [
        "safe",
        "safe for pregnant",
        "harmless",
        "risk free",
        "no risk",
        "cure",
        "cures",
        "cured",
        "80%",
        "90%",
        "autism",
        "infertility",
        "diabetes",
        "smoking",
        "spinal cord",
        "toxic",
        "toxins",
        "detox",
        "everyone",
        "guaranteed",
        "proven",
        "unparalleled",
        "more dense",
        "insurance",
    ];
    let mut failures = Vec::new();
    for (owner, text) in all_texts(&k) {
        for phrase in forbidden {
            if has_phrase(text, phrase) {
                failures.push(format!("{owner} says `{phrase}`: {text}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn avoid_level_topics_never_lead_with_a_benefit() {
    // A topic the sources warn against may describe a benefit only when
    // the warning is in the same breath (skin: exfoliation vs conditions).
    let k = shipped();
    for t in &k.topics {
        let (Some(b), Some(s)) = (&t.benefits, &t.safety) else {
            continue;
        };
        if s.level == SafetyLevel::Avoid {
            assert!(
                b.summary.to_lowercase().contains("safety note"),
                "`{}` is avoid-level: its benefits must point to the safety note",
                t.id
            );
        }
    }
}

// ---------------------------------------------------------------- 4. broken files

const ORIGIN: &str = "test.toml";

const SOURCES: &str = r#"
[[sources]]
id = "000"
file = "000_aa453d2dcef63885.txt"
title = "Benefits of massage, and when it is unsafe"

[[sources]]
id = "001"
file = "001_d3fa59d844f73cb7.txt"
title = "The many benefits of massage therapy"

[[sources]]
id = "002"
file = "002_f461170599c34f96.txt"
title = "Therapeutic massage"

[[sources]]
id = "003"
file = "003_cb65142ebff7559d.txt"
title = "The importance of medical massage treatments"

[[sources]]
id = "004"
file = "004_6a726d5e9aa60a34.txt"
title = "Therapeutic massage: body, mind and soul"
"#;

const CAVEAT: &str = r#"caveat = "Not medical advice: talk to your doctor first.""#;

const SLEEP: &str = r#"
[[topics]]
id = "sleep"
title = "Sleep"
group = "mind"
aliases = ["insomnia", "can't sleep", "trouble sleeping"]

[topics.benefits]
summary = "Massage can help people who have trouble sleeping."
points = ["Helps you relax."]
evidence = [
  { source = "000", quote = "It can also help people that are having trouble sleeping." },
]
"#;

const TIP: &str = r#"
[[tips]]
text = "Take five slow breaths."
"#;

/// A valid minimal file with `topics` in place of the sleep topic.
fn file_with(topics: &str) -> String {
    format!("{CAVEAT}\n{SOURCES}\n{topics}\n{TIP}")
}

fn minimal() -> String {
    file_with(SLEEP)
}

fn problems(text: &str) -> Vec<Problem> {
    problems_in(text, &SourceDir::Embedded)
}

fn problems_in(text: &str, dir: &SourceDir) -> Vec<Problem> {
    match Knowledge::from_toml(text, ORIGIN, dir) {
        Ok(_) => panic!("expected problems, but the file is valid:\n{text}"),
        Err(KnowledgeError::Invalid { origin, problems }) => {
            assert_eq!(origin, ORIGIN);
            assert!(!problems.is_empty());
            problems
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The 1-based line of the only line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "`{needle}` must occur on exactly one line");
    lines[0]
}

#[track_caller]
fn assert_problem(problems: &[Problem], line: usize, topic: Option<&str>, message: &str) {
    let location = format!("{ORIGIN}:{line}");
    assert!(
        problems.iter().any(|p| p.location == location
            && p.topic.as_deref() == topic
            && p.message.contains(message)),
        "no problem `{message}` at {location} (topic {topic:?}); got:\n{}",
        list(problems)
    );
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_minimal_file_is_valid() {
    let k = Knowledge::from_toml(&minimal(), ORIGIN, &SourceDir::Embedded)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(k.topics.len(), 1);
    assert_eq!(k.tips.len(), 1);
}

#[test]
fn schema_error_unknown_field() {
    let text = file_with(&SLEEP.replace("group = \"mind\"", "group = \"mind\"\ncolour = \"blue\""));
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(&p, line_of(&text, "colour"), None, "schema error");
    assert!(
        p[0].message.contains("unknown field `colour`"),
        "{}",
        p[0].message
    );
}

#[test]
fn schema_error_wrong_type() {
    let text = file_with(&SLEEP.replace(
        r#"aliases = ["insomnia", "can't sleep", "trouble sleeping"]"#,
        r#"aliases = "insomnia""#,
    ));
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(&p, line_of(&text, "aliases"), None, "schema error");
    assert!(p[0].message.contains("invalid type"), "{}", p[0].message);
}

#[test]
fn schema_error_unknown_group_or_level() {
    let text = file_with(&SLEEP.replace("group = \"mind\"", "group = \"feet\""));
    let p = problems(&text);
    assert_problem(&p, line_of(&text, "feet"), None, "unknown variant `feet`");

    // There is no "safe" level: the sources never support one.
    let safe = format!(
        "{SLEEP}\n[topics.safety]\nlevel = \"safe\"\nsummary = \"x\"\nevidence = [{{ source = \"000\", quote = \"Soothing music can also be played.\" }}]\n"
    );
    let text = file_with(&safe);
    let p = problems(&text);
    assert_problem(
        &p,
        line_of(&text, "level ="),
        None,
        "unknown variant `safe`",
    );
}

#[test]
fn schema_error_invalid_toml() {
    let text = minimal().replace("title = \"Sleep\"", "title = \"Sleep");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert!(p[0].message.starts_with("schema error"), "{}", p[0].message);
    assert_eq!(
        p[0].location,
        format!("{ORIGIN}:{}", line_of(&text, "title = \"Sleep"))
    );
}

#[test]
fn duplicate_topic_id() {
    let second = r#"
[[topics]]
id = "sleep" # second
title = "Rest"
group = "mind"
aliases = ["nap", "dozing", "siesta"]

[topics.benefits]
summary = "Rest."
evidence = [{ source = "000", quote = "Soothing music can also be played." }]
"#;
    let text = file_with(&format!("{SLEEP}{second}"));
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(
        &p,
        line_of(&text, "# second"),
        Some("sleep"),
        "duplicate topic id `sleep`",
    );
}

fn rest_topic(id: &str, title: &str, aliases: &str) -> String {
    format!(
        r#"
[[topics]]
id = "{id}"
title = "{title}"
group = "mind"
aliases = [{aliases}]

[topics.benefits]
summary = "Rest."
evidence = [{{ source = "000", quote = "Soothing music can also be played." }}]
"#
    )
}

#[test]
fn an_alias_shared_by_two_topics() {
    let text = file_with(&format!(
        "{SLEEP}{}",
        rest_topic("rest", "Rest", r#""nap", "Insomnia", "siesta""#)
    ));
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(
        &p,
        line_of(&text, "\"nap\""),
        Some("rest"),
        "alias `insomnia` is also used by topic `sleep`",
    );
}

#[test]
fn an_id_or_title_clashing_with_another_topics_alias() {
    // The id "trouble-sleeping" reads "trouble sleeping", an alias of sleep.
    let text = file_with(&format!(
        "{SLEEP}{}",
        rest_topic(
            "trouble-sleeping",
            "Can't Sleep",
            r#""nap", "dozing", "siesta""#
        )
    ));
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{}", list(&p));
    assert_problem(
        &p,
        line_of(&text, "id = \"trouble-sleeping\""),
        Some("trouble-sleeping"),
        "alias `trouble sleeping` is also used by topic `sleep`",
    );
    assert_problem(
        &p,
        line_of(&text, "title = \"Can't Sleep\""),
        Some("trouble-sleeping"),
        "alias `can't sleep` is also used by topic `sleep`",
    );
}

#[test]
fn a_quote_not_in_its_source() {
    // Case matters, a quote from another document doesn't count, and a
    // paraphrase is not a quote.
    for (quote, source) in [
        (
            "it can also help people that are having trouble sleeping.",
            "000",
        ),
        ("Relieves sleep loss/insomnia", "000"),
        ("It helps people that have trouble sleeping.", "000"),
    ] {
        let text = minimal().replace(
            r#"{ source = "000", quote = "It can also help people that are having trouble sleeping." }"#,
            &format!(r#"{{ source = "{source}", quote = "{quote}" }}"#),
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{}", list(&p));
        assert_problem(
            &p,
            line_of(&text, quote),
            Some("sleep"),
            "benefits: quote not found in source `000`",
        );
    }
}

#[test]
fn quotes_tolerate_only_whitespace_quote_marks_and_dashes() {
    // Doc 001 has a U+FFFD where a dash was lost, and curly apostrophes.
    let quote = "benefits of massage therapy\u{2014}who wouldn't\n    want to lose themselves";
    let text = minimal().replace(
        r#"quote = "It can also help people that are having trouble sleeping." }"#,
        &format!(
            r#"quote = "It can also help people that are having trouble sleeping." }},
  {{ source = "001", quote = """{quote}""" }}"#
        ),
    );
    let k =
        Knowledge::from_toml(&text, ORIGIN, &SourceDir::Embedded).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(k.topics[0].benefits.as_ref().unwrap().evidence.len(), 2);
}

#[test]
fn a_source_that_does_not_exist_in_evidence() {
    for bad in ["009", "../000", ""] {
        let text = minimal().replace(
            r#"{ source = "000", quote = "It can also help"#,
            &format!(r#"{{ source = "{bad}", quote = "It can also help"#),
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{}", list(&p));
        assert_problem(
            &p,
            line_of(&text, "It can also help people"),
            Some("sleep"),
            &format!("benefits: source `{bad}` does not exist"),
        );
    }
}

#[test]
fn a_source_file_that_does_not_exist() {
    let text = minimal().replace(
        "\n[[topics]]",
        "\n[[sources]]\nid = \"005\"\nfile = \"nowhere.txt\"\ntitle = \"Missing\"\n\n[[topics]]",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(
        &p,
        line_of(&text, "nowhere.txt"),
        None,
        "source `005`: document `nowhere.txt` does not exist",
    );
}

#[test]
fn sources_are_read_beside_the_file_and_never_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sources")).unwrap();
    std::fs::write(
        dir.path().join("sources/extra.txt"),
        "Gentle stretching\n  after a walk feels good.",
    )
    .unwrap();
    let extra = r#"
[[sources]]
id = "005"
file = "extra.txt"
title = "Extra"
"#;
    let cite_extra = r#"
[[topics]]
id = "stretching"
title = "Stretching"
group = "body"
aliases = ["stretch", "limber", "supple"]

[topics.benefits]
summary = "Stretching feels good."
evidence = [{ source = "005", quote = "Gentle stretching after a walk feels good." }]
"#;
    // A valid file with an extra source beside it loads.
    let good = format!("{CAVEAT}\n{SOURCES}{extra}\n{SLEEP}{cite_extra}\n{TIP}");
    let path = dir.path().join("knowledge.toml");
    std::fs::write(&path, &good).unwrap();
    let k = Knowledge::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let s = k.source(&SourceId::parse("005").unwrap()).unwrap();
    assert!(s.text.starts_with("Gentle stretching"));

    // A missing file, and a path that reaches outside `sources/` (the file
    // it names does exist: the knowledge file itself).
    let bad = good.replace(
        extra,
        &format!(
            "{extra}\n[[sources]]\nid = \"006\"\nfile = \"missing.txt\"\ntitle = \"Missing\"\n\n[[sources]]\nid = \"007\"\nfile = \"../knowledge.toml\"\ntitle = \"Outside\"\n"
        ),
    );
    std::fs::write(&path, &bad).unwrap();
    let origin = path.display().to_string();
    match Knowledge::load(&path) {
        Err(KnowledgeError::Invalid {
            origin: o,
            problems,
        }) => {
            assert_eq!(o, origin);
            assert_eq!(problems.len(), 2, "{}", list(&problems));
            assert_eq!(
                problems[0].location,
                format!("{origin}:{}", line_of(&bad, "missing.txt"))
            );
            assert!(problems[0]
                .message
                .contains("source `006`: document `missing.txt` does not exist"));
            assert_eq!(
                problems[1].location,
                format!("{origin}:{}", line_of(&bad, "../knowledge.toml"))
            );
            assert!(problems[1]
                .message
                .contains("source `007`: document `../knowledge.toml` does not exist"));
        }
        other => panic!("expected problems, got {other:?}"),
    }

    // A knowledge file that is not there at all.
    match Knowledge::load(&dir.path().join("absent.toml")) {
        Err(KnowledgeError::Read { .. }) => {}
        other => panic!("expected a read error, got {other:?}"),
    }

    // SourceDir::Dir is what `load` uses; from_toml with it behaves alike.
    let p = problems_in(&bad, &SourceDir::Dir(dir.path().join("sources")));
    assert_eq!(p.len(), 2, "{}", list(&p));
}

#[test]
fn missing_or_empty_caveat() {
    let text = minimal().replace(CAVEAT, "");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(&p, 1, None, "missing `caveat`");

    let text = minimal().replace(CAVEAT, "caveat = \"   \"");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(&p, line_of(&text, "caveat ="), None, "caveat is empty");
}

#[test]
fn invalid_topic_ids() {
    for bad in [
        "Back_Pain",
        "back--pain",
        "-pain",
        "pain-",
        "a-very-long-topic-id-that-is-too-long",
    ] {
        let text = file_with(&SLEEP.replace("id = \"sleep\"", &format!("id = \"{bad}\"")));
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{bad}: {}", list(&p));
        assert_problem(
            &p,
            line_of(&text, &format!("id = \"{bad}\"")),
            Some(bad),
            &format!("invalid topic id `{bad}`"),
        );
    }
}

#[test]
fn texts_too_long_for_discord() {
    // At the limit is fine.
    let ok = minimal()
        .replace(
            "summary = \"Massage can help people who have trouble sleeping.\"",
            &format!("summary = \"{}\"", "a".repeat(900)),
        )
        .replace(
            "title = \"Sleep\"",
            &format!("title = \"{}\"", "S".repeat(70)),
        );
    Knowledge::from_toml(&ok, ORIGIN, &SourceDir::Embedded).unwrap_or_else(|e| panic!("{e}"));

    let summary = "s".repeat(901);
    let point = "p".repeat(1000);
    let title = "T".repeat(71);
    let alias = "x".repeat(61);
    let tip = "t".repeat(901);
    let caveat = "c".repeat(601);
    let text = minimal()
        .replace(
            "summary = \"Massage can help people who have trouble sleeping.\"",
            &format!("summary = \"{summary}\""),
        )
        .replace(
            "points = [\"Helps you relax.\"]",
            &format!("points = [\"{point}\"]"),
        )
        .replace("title = \"Sleep\"", &format!("title = \"{title}\""))
        .replace("\"can't sleep\"", &format!("\"{alias}\""))
        .replace(
            "text = \"Take five slow breaths.\"",
            &format!("text = \"{tip}\""),
        )
        .replace(CAVEAT, &format!("caveat = \"{caveat}\""));
    let p = problems(&text);
    assert_eq!(p.len(), 6, "{}", list(&p));
    let sleep = Some("sleep");
    assert_problem(
        &p,
        line_of(&text, &summary),
        sleep,
        "benefits summary is 901 characters; at most 900",
    );
    assert_problem(
        &p,
        line_of(&text, &point),
        sleep,
        "benefits point is 1000 characters; at most 900",
    );
    assert_problem(
        &p,
        line_of(&text, &title),
        sleep,
        "title is 71 characters; at most 70",
    );
    assert_problem(
        &p,
        line_of(&text, &alias),
        sleep,
        "must be 1 to 60 characters",
    );
    assert_problem(
        &p,
        line_of(&text, &tip),
        None,
        "tip is 901 characters; at most 900",
    );
    assert_problem(
        &p,
        line_of(&text, &caveat),
        None,
        "caveat is 601 characters; at most 600",
    );
}

#[test]
fn a_safety_section_without_evidence_and_other_topic_problems() {
    let topic = r#"
[[topics]]
id = "heart"
title = "Heart conditions"
group = "conditions"
aliases = ["cardiac", "heart disease", "heart problems"]
related = ["sleep", "heart", "nowhere"]

[topics.safety]
level = "avoid"
summary = "Avoid massage unless your doctor agrees."

[[topics]]
id = "empty"
title = "Empty"
group = "body"
aliases = ["nothing", "void", "blank"]
"#;
    let text = file_with(&format!("{SLEEP}{topic}"));
    let p = problems(&text);
    assert_eq!(p.len(), 4, "{}", list(&p));
    let heart = Some("heart");
    let related = line_of(&text, "related =");
    assert_problem(&p, related, heart, "a topic cannot be related to itself");
    assert_problem(&p, related, heart, "related topic `nowhere` does not exist");
    assert!(p
        .iter()
        .any(|x| x.topic.as_deref() == heart && x.message == "safety section cites no evidence"));
    assert_problem(
        &p,
        line_of(&text, "id = \"empty\""),
        Some("empty"),
        "topic has neither a [benefits] nor a [safety] section",
    );
}

#[test]
fn an_exclusion_must_quote_its_source() {
    let text = format!(
        "{}\n[[excluded]]\nsource = \"002\"\nquote = \"Osteoporosis makes bones denser.\"\nreason = \"False.\"\n",
        minimal()
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(
        &p,
        line_of(&text, "makes bones denser"),
        None,
        "excluded: quote not found in source `002`",
    );
}

#[test]
fn a_file_with_several_problems_lists_all_of_them() {
    let topics = r#"
[[topics]]
id = "sleep"
title = "Sleep"
group = "mind"
aliases = ["insomnia", "can't sleep", "trouble sleeping"]
related = ["dreams"]

[topics.benefits]
summary = "Massage can help people who have trouble sleeping."
evidence = [
  { source = "000", quote = "It can also help people that are having trouble sleeping." },
  { source = "000", quote = "Massage cures insomnia." },
  { source = "042", quote = "Relieves sleep loss/insomnia" },
]

[[topics]]
id = "Rest"
title = "Rest"
group = "mind"
aliases = ["nap"]

[[topics]]
id = "naps"
title = "Naps"
group = "mind"
aliases = ["siesta", "insomnia", "dozing"]

[topics.safety]
level = "caution"
summary = "Ask first."
evidence = [{ source = "004", quote = "Phlebitis" }]

[[topics]]
id = "naps"
title = "More naps"
group = "mind"
aliases = ["catnap", "snooze", "forty winks"]

[topics.benefits]
summary = "Naps."
evidence = [{ source = "000", quote = "Soothing music can also be played." }]
"#;
    let long_tip = "z".repeat(950);
    let text = format!(
        "{SOURCES}\n{topics}\n[[tips]]\ntext = \"{long_tip}\"\n\n[[tips]]\ntext = \"Fine.\"\nevidence = [{{ source = \"003\", quote = \"Massage is magic.\" }}]\n"
    );
    let p = problems(&text);
    // `line_of` wants a unique line: find the second `id = "naps"` by hand.
    let second_naps = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "id = \"naps\"")
        .map(|(i, _)| i + 1)
        .nth(1)
        .unwrap();
    let expected: Vec<(usize, Option<&str>, &str)> = vec![
        (1, None, "missing `caveat`"),
        (second_naps, Some("naps"), "duplicate topic id `naps`"),
        (
            line_of(&text, "related = [\"dreams\"]"),
            Some("sleep"),
            "related topic `dreams` does not exist",
        ),
        (
            line_of(&text, "Massage cures insomnia."),
            Some("sleep"),
            "benefits: quote not found in source `000`",
        ),
        (
            line_of(&text, "\"042\""),
            Some("sleep"),
            "benefits: source `042` does not exist",
        ),
        (
            line_of(&text, "id = \"Rest\""),
            Some("Rest"),
            "invalid topic id `Rest`",
        ),
        // The rest of a topic with a bad id is still checked.
        (
            line_of(&text, "id = \"Rest\""),
            Some("Rest"),
            "topic has neither a [benefits] nor a [safety] section",
        ),
        (
            line_of(&text, "\"siesta\", \"insomnia\""),
            Some("naps"),
            "alias `insomnia` is also used by topic `sleep`",
        ),
        (line_of(&text, &long_tip), None, "tip is 950 characters"),
        (
            line_of(&text, "Massage is magic."),
            None,
            "tip: quote not found in source `003`",
        ),
    ];
    for (line, topic, message) in &expected {
        assert_problem(&p, *line, *topic, message);
    }
    assert_eq!(
        p.len(),
        expected.len(),
        "unexpected extra problems:\n{}",
        list(&p)
    );

    // The error message lists every one of them.
    let err = Knowledge::from_toml(&text, ORIGIN, &SourceDir::Embedded).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("({} problems)", expected.len())),
        "{shown}"
    );
    for p in &p {
        assert!(shown.contains(&p.to_string()), "{shown}");
    }
}

/// What the matcher sees decides clashes too: "sore muscle" and "sore
/// muscles" differ as text but not to the matcher. `Engine::load` (used by
/// `knowledge check` and every command) rejects that, and stopword-only aliases.
#[test]
fn aliases_that_clash_or_cannot_match_as_the_matcher_sees_them_are_rejected() {
    let second = SLEEP
        .replace("id = \"sleep\"", "id = \"sleep-two\"")
        .replace("title = \"Sleep\"", "title = \"Sleep two\"")
        .replace(
            "aliases = [\"insomnia\", \"can't sleep\", \"trouble sleeping\"]",
            "aliases = [\"insomnias\", \"the\"]",
        );
    let text = file_with(&format!("{SLEEP}\n{second}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("knowledge.toml");
    std::fs::write(&path, &text).unwrap();
    // Valid as text...
    assert!(Knowledge::load(&path).is_ok());
    // ...but not for the matcher.
    let err = massage_bot::engine::Engine::load(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("alias `insomnias`") && err.contains("topic `sleep`"),
        "{err}"
    );
    assert!(err.contains("alias `the` has only stopwords"), "{err}");
}
