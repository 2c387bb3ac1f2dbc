//! The shipped knowledge base and the checker that guards it.
//!
//! 1. The shipped file loads and has what the issue asks for.
//! 2. Coverage: every benefit and warning stated in the five source
//!    documents is either cited by the topic listed for it or deliberately
//!    excluded. Each row is checked against the real document text, so a
//!    mistyped or invented statement fails.
//! 3. Exclusions: false or sweeping claims are not repeated.
//! 4. Broken files: each kind of problem is reported, with its line, and a
//!    file with several problems lists all of them; one test per rule of
//!    provenance (every sentence cites verbatim quotes or is named advice).
//! 5. The findings of the sentence-by-sentence review (issue 10), one test
//!    each.

use std::collections::HashSet;
use std::path::Path;

use massage_bot::engine::{Engine, Request};
use massage_bot::knowledge::{
    Cite, Knowledge, KnowledgeError, Problem, SafetyLevel, Sentence, SourceDir, SourceId, Topic,
    TopicId,
};
use massage_bot::render;
use massage_bot::reply::{Basis, Intent};

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

/// Every sentence of a topic, both sections, in order.
fn topic_sentences(t: &Topic) -> Vec<&Sentence> {
    t.benefits
        .iter()
        .chain(t.safety.iter().map(|s| &s.section))
        .flat_map(|s| s.sentences().map(|(_, x)| x))
        .collect()
}

/// Every text of a topic a user can read: its title and its sentences.
fn topic_texts(t: &Topic) -> Vec<&str> {
    let mut v = vec![t.title.as_str()];
    v.extend(topic_sentences(t).into_iter().map(|s| s.text.as_str()));
    v
}

/// Every citation in the knowledge, with its owner.
fn all_cites(k: &Knowledge) -> Vec<(String, &Cite)> {
    let mut v = Vec::new();
    for t in &k.topics {
        for s in topic_sentences(t) {
            for c in s.cites() {
                v.push((format!("topic `{}`", t.id), c));
            }
        }
    }
    for (i, tip) in k.tips.iter().enumerate() {
        for c in tip.sentence.cites() {
            v.push((format!("tip #{}", i + 1), c));
        }
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
        v.push((format!("tip #{}", i + 1), tip.sentence.text.as_str()));
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
        for section in t.benefits.iter().chain(t.safety.iter().map(|s| &s.section)) {
            assert!(
                !section.summary.is_empty(),
                "`{}` has an empty summary",
                t.id
            );
            assert!(
                !section.source_ids().is_empty(),
                "`{}` has a section that cites nothing",
                t.id
            );
            for (_, s) in section.sentences() {
                assert!(
                    s.is_advice() == s.cites().is_empty(),
                    "`{}`: a sentence cites quotes or is advice: {}",
                    t.id,
                    s.text
                );
            }
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
        ("osteoporosis", SafetyLevel::Caution, false),
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
                .section
                .differ_text()
                .unwrap_or_else(|| panic!("`{id}` must say the sources differ"));
            let note = note.to_lowercase();
            assert!(
                note.contains("cautious") || note.contains("follows its warning"),
                "`{id}`: the note must say the cautious source was followed: {note}"
            );
        }
    }
    // Pregnancy follows doc 000 exactly: a qualified therapist, not a ban.
    let p = topic(&k, "pregnancy").safety.as_ref().unwrap();
    assert_eq!(p.level, SafetyLevel::Caution);
    assert!(p
        .section
        .summary_text()
        .to_lowercase()
        .contains("qualified"));
    assert!(p.section.source_ids().iter().any(|s| s.as_str() == "000"));
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
fn tips_are_short_and_safe_and_cite_what_they_say() {
    let k = shipped();
    for (i, tip) in k.tips.iter().enumerate() {
        let n = i + 1;
        let text = &tip.sentence.text;
        assert!(text.chars().count() <= 220, "tip #{n} is long");
        let sentences = text
            .split_inclusive(['.', '?', '!'])
            .filter(|s| !s.trim().is_empty())
            .count();
        assert!(sentences <= 2, "tip #{n} has {sentences} sentences");
        // Every tip is the bot speaking: it cites what it says.
        assert!(
            !tip.sentence.cites().is_empty(),
            "tip #{n} cites nothing: {text}"
        );
        let lower = text.to_lowercase();
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
    ("000", "helpful for most people to do from time to time", EXCLUDED),
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
    ("000", "help people recover from surgery and other illnesses", EXCLUDED),
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
    ("002", "should only be offered by a licensed professional", "depression"),
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
    ("003", "frequent massages into your wellness routine", "sleep"),
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
    ("004", "many experts have concluded", EXCLUDED),
    ("002", "A well-trained practitioner will provide the appropriate treatment", EXCLUDED),
    ("003", "hormone production will be balanced", EXCLUDED),
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
        // Not just "cites this document": a quote one of the topic's
        // sentences cites from it must hold the statement.
        let cited = topic_sentences(t)
            .iter()
            .flat_map(|s| s.cites())
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
        // Only "sources differ" may cite an excluded claim, to say a source
        // makes it and that the answer follows the cautious one.
        let mut cites = Vec::new();
        for t in &k.topics {
            for section in t.benefits.iter().chain(t.safety.iter().map(|s| &s.section)) {
                for s in section
                    .summary
                    .iter()
                    .chain(&section.points)
                    .chain(&section.advice)
                {
                    cites.extend(s.cites().iter().map(|c| (format!("topic `{}`", t.id), c)));
                }
            }
        }
        for (i, tip) in k.tips.iter().enumerate() {
            cites.extend(
                tip.sentence
                    .cites()
                    .iter()
                    .map(|c| (format!("tip #{}", i + 1), c)),
            );
        }
        for (owner, e) in cites {
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
    assert!(strength(s.level) >= strength(SafetyLevel::Caution));
    assert!(s.section.summary_text().to_lowercase().contains("doctor"));
    assert!(s
        .section
        .summary
        .iter()
        .flat_map(|x| x.cites())
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
fn avoid_and_caution_topics_never_lead_with_a_benefit() {
    // Asked for the benefits of a topic the sources warn about, the reply
    // leads with the warning, whatever the benefits text says.
    let engine = Engine::new(shipped());
    let k = engine.knowledge();
    for t in &k.topics {
        let Some(s) = &t.safety else { continue };
        if s.level == SafetyLevel::AskFirst {
            continue;
        }
        let r = engine.answer_topic(Intent::Benefits, t.id.as_str());
        assert!(
            r.safety.is_some(),
            "`/benefits {}` leads without its warning",
            t.id
        );
        assert_eq!(r.warnings.first(), Some(&t.id), "`/benefits {}`", t.id);
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

[[topics.benefits.summary]]
say = "One source says massage can help people who have trouble sleeping."
cite = ["000: It can also help people that are having trouble sleeping."]

[[topics.benefits.points]]
say = "One source lists relief from sleep loss."
cite = ["001: Relieves sleep loss/insomnia"]
"#;

const TIP: &str = r#"
[[tips]]
say = "Soothing music can help you relax, one source says."
cite = ["000: Soothing music can also be played."]
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

fn valid(text: &str) -> Knowledge {
    Knowledge::from_toml(text, ORIGIN, &SourceDir::Embedded).unwrap_or_else(|e| panic!("{e}"))
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

/// Exactly one problem, with this message, on the line holding `needle`.
#[track_caller]
fn assert_only(text: &str, needle: &str, topic: Option<&str>, message: &str) {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert_problem(&p, line_of(text, needle), topic, message);
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
    let k = valid(&minimal());
    assert_eq!(k.topics.len(), 1);
    assert_eq!(k.tips.len(), 1);
    let b = k.topics[0].benefits.as_ref().unwrap();
    assert_eq!(b.summary.len(), 1);
    assert_eq!(b.points.len(), 1);
    assert_eq!(b.summary[0].cites()[0].source.as_str(), "000");
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
        "{SLEEP}\n[topics.safety]\nlevel = \"safe\"\n\n[[topics.safety.summary]]\nsay = \"Ask first.\"\ncite = [\"000: Soothing music can also be played.\"]\n"
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
fn invalid_toml_is_a_syntax_error_not_a_schema_error() {
    let text = minimal().replace("title = \"Sleep\"", "title = \"Sleep");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert!(
        p[0].message.starts_with("TOML syntax error"),
        "{}",
        p[0].message
    );
    assert_eq!(
        p[0].location,
        format!("{ORIGIN}:{}", line_of(&text, "title = \"Sleep"))
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

[[topics.benefits.summary]]
say = "One source says soothing music can be played."
cite = ["000: Soothing music can also be played."]
"#
    )
}

#[test]
fn duplicate_topic_id() {
    let second = rest_topic("sleep", "Rest", r#""nap", "dozing", "siesta""#)
        .replace("id = \"sleep\"", "id = \"sleep\" # second");
    let text = file_with(&format!("{SLEEP}{second}"));
    assert_only(
        &text,
        "# second",
        Some("sleep"),
        "duplicate topic id `sleep`",
    );
}

#[test]
fn an_alias_shared_by_two_topics() {
    let text = file_with(&format!(
        "{SLEEP}{}",
        rest_topic("rest", "Rest", r#""nap", "Insomnia", "siesta""#)
    ));
    assert_only(
        &text,
        "\"nap\"",
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

// ----- provenance: one test per rule

const SLEEP_CITE: &str = r#""000: It can also help people that are having trouble sleeping.""#;

#[test]
fn rule_a_sentence_must_cite_or_be_advice() {
    // No `cite` at all, and an empty list.
    for cite in ["", "cite = []"] {
        let text = minimal().replace(&format!("cite = [{SLEEP_CITE}]"), cite);
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{}", list(&p));
        assert_problem(
            &p,
            line_of(&text, "say = \"One source says massage can help"),
            Some("sleep"),
            "benefits summary cites nothing",
        );
        assert!(p[0].message.contains("[[advice]]"), "{}", p[0].message);
    }
    // A tip too.
    let text = minimal().replace("cite = [\"000: Soothing music can also be played.\"]", "");
    assert_only(&text, "Soothing music can help", None, "tip cites nothing");
}

#[test]
fn rule_a_quote_must_be_verbatim_in_its_source() {
    // Case matters, a quote from another document doesn't count, and a
    // paraphrase is not a quote.
    for (source, quote) in [
        (
            "000",
            "it can also help people that are having trouble sleeping.",
        ),
        ("000", "Relieves sleep loss/insomnia"),
        ("000", "It helps people that have trouble sleeping."),
    ] {
        let text = minimal().replace(SLEEP_CITE, &format!("\"{source}: {quote}\""));
        assert_only(
            &text,
            &format!("{source}: {quote}"),
            Some("sleep"),
            "benefits summary: quote not found in source `000`",
        );
    }
}

#[test]
fn quotes_tolerate_only_whitespace_quote_marks_and_dashes() {
    // Doc 001 has a U+FFFD where a dash was lost, and curly apostrophes.
    let quote = "001: benefits of massage therapy\u{2014}who wouldn't\n    want to lose themselves";
    let text = minimal().replace(
        &format!("cite = [{SLEEP_CITE}]"),
        &format!("cite = [{SLEEP_CITE}, \"\"\"{quote}\"\"\"]"),
    );
    let text = text.replace(
        "say = \"One source says massage can help",
        "say = \"Two sources say massage can help",
    );
    let k = valid(&text);
    assert_eq!(
        k.topics[0].benefits.as_ref().unwrap().summary[0]
            .cites()
            .len(),
        2
    );
}

#[test]
fn rule_a_citation_names_an_existing_source_before_a_colon() {
    for bad in ["009", "../000", ""] {
        let text = minimal().replace(
            SLEEP_CITE,
            &format!("\"{bad}: It can also help people that are having trouble sleeping.\""),
        );
        assert_only(
            &text,
            "It can also help people",
            Some("sleep"),
            &format!("benefits summary: source `{bad}` does not exist"),
        );
    }
    let text = minimal().replace(
        SLEEP_CITE,
        "\"It can also help people that are having trouble sleeping.\"",
    );
    assert_only(
        &text,
        "It can also help people",
        Some("sleep"),
        "a citation is `\"000: verbatim words\"`",
    );
}

#[test]
fn rule_one_sentence_per_entry() {
    let text = minimal().replace(
        "say = \"One source lists relief from sleep loss.\"",
        "say = \"One source lists relief from sleep loss. It also cures insomnia.\"",
    );
    assert_only(
        &text,
        "It also cures insomnia",
        Some("sleep"),
        "holds more than one sentence",
    );
}

#[test]
fn rule_the_number_of_sources_said_is_the_number_cited() {
    for (say, message) in [
        (
            "Two sources say massage can help people who have trouble sleeping.",
            "says 2 sources but cites 1",
        ),
        (
            "All five sources say massage can help people who have trouble sleeping.",
            "says 5 sources but cites 1",
        ),
        (
            "Several sources say massage can help people who have trouble sleeping.",
            "speaks of several sources but cites 1",
        ),
        (
            "One source says massage can help, and another says it may relieve insomnia.",
            "says 2 sources but cites 1",
        ),
    ] {
        let text = minimal().replace(
            "One source says massage can help people who have trouble sleeping.",
            say,
        );
        assert_only(&text, say, Some("sleep"), message);
    }
    // Two documents named and two cited is fine.
    let text = minimal()
        .replace(
            "One source says massage can help people who have trouble sleeping.",
            "Two sources say massage can help people who have trouble sleeping.",
        )
        .replace(
            &format!("cite = [{SLEEP_CITE}]"),
            &format!("cite = [{SLEEP_CITE}, \"001: Relieves sleep loss/insomnia\"]"),
        );
    valid(&text);
}

#[test]
fn rule_studies_or_research_only_where_a_quote_speaks_of_them() {
    let say = "One source says studies show massage can help people who have trouble sleeping.";
    let text = minimal().replace(
        "One source says massage can help people who have trouble sleeping.",
        say,
    );
    assert_only(&text, say, Some("sleep"), "mentions \"studies\"");
    // With a quote that does speak of research, it passes.
    let text = text
        .replace(
            &format!("cite = [{SLEEP_CITE}]"),
            "cite = [\"003: Therapeutic massage, according to research, can help you fall asleep faster\"]",
        );
    valid(&text);
}

#[test]
fn rule_a_benefit_is_never_bare_fact() {
    let say = "Massage cures sleep loss.";
    let text = minimal().replace("One source lists relief from sleep loss.", say);
    assert_only(&text, say, Some("sleep"), "states a benefit as bare fact");
    // A safety section may instruct.
    let safety = format!(
        "{SLEEP}\n[topics.safety]\nlevel = \"ask-first\"\n\n[[topics.safety.summary]]\nsay = \"Check with your doctor before any massage.\"\ncite = [\"000: You will want to check with your doctor before you schedule any massage appointments\"]\n"
    );
    valid(&file_with(&safety));
}

const ADVICE: &str = r#"
[[advice]]
id = "see-a-doctor"
say = "New or lasting symptoms should be checked by a doctor."
"#;

/// The sleep topic with the advice lines `ids` from `advice_table`, and
/// enough cited tips that one advice line stays under 15%.
fn with_advice(advice_table: &str, ids: &str) -> String {
    let more: String = (0..6).map(|_| TIP).collect();
    format!("{}{more}", with_advice_only(advice_table, ids))
}

/// The same with only the minimal file's three cited sentences.
fn with_advice_only(advice_table: &str, ids: &str) -> String {
    let sleep = SLEEP.replace(
        "aliases = [\"insomnia\", \"can't sleep\", \"trouble sleeping\"]\n",
        &format!(
            "aliases = [\"insomnia\", \"can't sleep\", \"trouble sleeping\"]\n\n[topics.benefits]\nadvice = [{ids}]\n"
        ),
    );
    format!("{CAVEAT}\n{SOURCES}\n{advice_table}\n{sleep}\n{TIP}")
}

#[test]
fn advice_is_shown_as_the_bots_own() {
    let k = valid(&with_advice(
        &format!("{ADVICE}\n[[advice]]\nid = \"unused\"\nsay = \"Drink water.\"\n"),
        "\"see-a-doctor\"",
    ));
    let b = k.topics[0].benefits.as_ref().unwrap();
    assert_eq!(b.advice.len(), 1);
    assert!(b.advice[0].is_advice());
    assert!(b.advice[0].cites().is_empty());
    let json = serde_json::to_value(b).unwrap();
    let last = json["sentences"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["advice"], true);
    assert_eq!(last["place"], "advice");
}

#[test]
fn rule_advice_never_attributes_to_sources_or_research() {
    for (say, word) in [
        (
            "Studies show a doctor should check lasting symptoms.",
            "studies",
        ),
        ("One source says to see a doctor.", "source"),
        ("According to experts, see a doctor.", "according"),
        ("Research supports seeing a doctor first.", "research"),
    ] {
        let table = ADVICE.replace(
            "New or lasting symptoms should be checked by a doctor.",
            say,
        );
        let text = with_advice(&table, "\"see-a-doctor\"");
        assert_only(
            &text,
            say,
            None,
            &format!("advice `see-a-doctor` attributes to sources or research (\"{word}\")"),
        );
    }
}

#[test]
fn rule_advice_must_be_a_named_line() {
    let text = with_advice(ADVICE, "\"see-a-doctor\", \"drink-more\"");
    assert_only(
        &text,
        "advice = [",
        Some("sleep"),
        "advice `drink-more` is not one of the [[advice]] lines",
    );
    let text = with_advice(&format!("{ADVICE}{ADVICE}"), "\"see-a-doctor\"");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert!(
        p[0].message.contains("duplicate advice id `see-a-doctor`"),
        "{}",
        list(&p)
    );
}

#[test]
fn rule_advice_stays_under_fifteen_percent() {
    // Three cited sentences (summary, point, tip) and one advice line is
    // 25%: too much of the bot's own voice.
    let text = with_advice_only(ADVICE, "\"see-a-doctor\"");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{}", list(&p));
    assert!(
        p[0].message
            .contains("general advice is 1 of 4 sentences (25%)"),
        "{}",
        list(&p)
    );
    // With enough cited sentences beside it, the same line is fine.
    valid(&with_advice(ADVICE, "\"see-a-doctor\""));
    const { assert!(massage_bot::knowledge::MAX_ADVICE_SHARE <= 0.15) };
}

#[test]
fn rule_an_excluded_claim_is_never_cited_except_to_say_sources_differ() {
    let excluded = "\n[[excluded]]\nsource = \"003\"\nquote = \"If you catch a cold or other minor illnesses, therapeutic massage may be beneficial.\"\nreason = \"Conflicts with doc 004, which lists infectious diseases.\"\n";
    let cold = r#"
[[topics]]
id = "colds"
title = "Colds"
group = "conditions"
aliases = ["cold", "flu", "virus"]

[topics.safety]
level = "avoid"

[[topics.safety.summary]]
say = "One source may say massage helps with a cold."
cite = ["003: If you catch a cold or other minor illnesses, therapeutic massage may be beneficial."]
"#;
    let text = format!("{}{excluded}", file_with(&format!("{SLEEP}{cold}")));
    assert_only(
        &text,
        "003: If you catch a cold",
        Some("colds"),
        "cites an excluded claim of source `003`",
    );
    // Part of the excluded sentence is still the excluded claim.
    let text = text.replace(
        "003: If you catch a cold or other minor illnesses, therapeutic massage may be beneficial.",
        "003: therapeutic massage may be beneficial",
    );
    assert_only(
        &text,
        "003: therapeutic massage may be beneficial",
        Some("colds"),
        "cites an excluded claim",
    );
    // In `differ`, citing it says that a source claims it: allowed.
    let differ = cold.replace(
        "[[topics.safety.summary]]\nsay = \"One source may say massage helps with a cold.\"",
        "[[topics.safety.summary]]\nsay = \"One source lists infectious diseases.\"\ncite = [\"004: Infectious diseases\"]\n\n[[topics.safety.differ]]\nsay = \"One source says massage may help with a cold, while another lists infectious diseases, and this answer follows the cautious one.\"",
    )
    .replace(
        "cite = [\"003: If you catch a cold or other minor illnesses, therapeutic massage may be beneficial.\"]",
        "cite = [\"003: If you catch a cold or other minor illnesses, therapeutic massage may be beneficial.\", \"004: Infectious diseases\"]",
    );
    let k = valid(&format!(
        "{}{excluded}",
        file_with(&format!("{SLEEP}{differ}"))
    ));
    let s = k.topics[1].safety.as_ref().unwrap();
    assert!(s.section.differ_text().unwrap().contains("cautious"));
}

#[test]
fn rule_a_section_needs_a_summary() {
    let topic = r#"
[[topics]]
id = "heart"
title = "Heart conditions"
group = "conditions"
aliases = ["cardiac", "heart disease", "heart problems"]

[topics.safety]
level = "avoid"

[[topics.safety.points]]
say = "Avoid massage unless your doctor agrees."
cite = ["000: Heart conditions and problems with blood vessels make it unsafe for you to get a massage."]
"#;
    let text = file_with(&format!("{SLEEP}{topic}"));
    assert_only(
        &text,
        "id = \"heart\"",
        Some("heart"),
        "safety section has no summary sentence",
    );
}

#[test]
fn a_source_file_that_does_not_exist() {
    let text = minimal().replace(
        "\n[[topics]]",
        "\n[[sources]]\nid = \"005\"\nfile = \"nowhere.txt\"\ntitle = \"Missing\"\n\n[[topics]]",
    );
    assert_only(
        &text,
        "nowhere.txt",
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

[[topics.benefits.summary]]
say = "One source says stretching after a walk can feel good."
cite = ["005: Gentle stretching after a walk feels good."]
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
    assert_only(&text, "caveat =", None, "caveat is empty");
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
        assert_only(
            &text,
            &format!("id = \"{bad}\""),
            Some(bad),
            &format!("invalid topic id `{bad}`"),
        );
    }
}

#[test]
fn texts_too_long_for_discord() {
    let long = |n: usize, c: &str| format!("One source may {}", c.repeat(n - 15));
    // At the limit is fine.
    let ok = minimal()
        .replace(
            "One source says massage can help people who have trouble sleeping.",
            &long(900, "a"),
        )
        .replace(
            "title = \"Sleep\"",
            &format!("title = \"{}\"", "S".repeat(70)),
        );
    valid(&ok);

    let summary = long(901, "s");
    let point = long(1000, "p");
    let title = "T".repeat(71);
    let alias = "x".repeat(61);
    let tip = long(901, "t");
    let caveat = "c".repeat(601);
    let text = minimal()
        .replace(
            "One source says massage can help people who have trouble sleeping.",
            &summary,
        )
        .replace("One source lists relief from sleep loss.", &point)
        .replace("title = \"Sleep\"", &format!("title = \"{title}\""))
        .replace("\"can't sleep\"", &format!("\"{alias}\""))
        .replace("Soothing music can help you relax, one source says.", &tip)
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
fn other_topic_problems() {
    let topic = r#"
[[topics]]
id = "heart"
title = "Heart conditions"
group = "conditions"
aliases = ["cardiac", "heart disease", "heart problems"]
related = ["sleep", "heart", "nowhere"]

[topics.safety]
level = "avoid"

[[topics.safety.summary]]
say = "Avoid massage unless your doctor agrees."
cite = ["000: Heart conditions and problems with blood vessels make it unsafe for you to get a massage."]

[[topics]]
id = "empty"
title = "Empty"
group = "body"
aliases = ["nothing", "void", "blank"]
"#;
    let text = file_with(&format!("{SLEEP}{topic}"));
    let p = problems(&text);
    assert_eq!(p.len(), 3, "{}", list(&p));
    let heart = Some("heart");
    let related = line_of(&text, "related =");
    assert_problem(&p, related, heart, "a topic cannot be related to itself");
    assert_problem(&p, related, heart, "related topic `nowhere` does not exist");
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
    assert_only(
        &text,
        "makes bones denser",
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

[[topics.benefits.summary]]
say = "Two sources say massage can help people who have trouble sleeping."
cite = [
  "000: It can also help people that are having trouble sleeping.",
  "000: Massage cures insomnia.",
  "042: Relieves sleep loss/insomnia",
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

[[topics.safety.summary]]
say = "Ask first."
cite = ["004: Phlebitis"]

[[topics]]
id = "naps"
title = "More naps"
group = "mind"
aliases = ["catnap", "snooze", "forty winks"]

[[topics.benefits.summary]]
say = "Naps are good."
"#;
    let long_tip = format!("One source may {}", "z".repeat(935));
    let text = format!(
        "{SOURCES}\n{topics}\n[[tips]]\nsay = \"{long_tip}\"\ncite = [\"000: Soothing music can also be played.\"]\n\n[[tips]]\nsay = \"Fine, one source says.\"\ncite = [\"003: Massage is magic.\"]\n"
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
            "benefits summary: quote not found in source `000`",
        ),
        (
            line_of(&text, "\"042"),
            Some("sleep"),
            "benefits summary: source `042` does not exist",
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
        (
            line_of(&text, "Naps are good."),
            Some("naps"),
            "benefits summary cites nothing",
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
    let err = Engine::load(Some(&path)).unwrap_err().to_string();
    assert!(
        err.contains("alias `insomnias`") && err.contains("topic `sleep`"),
        "{err}"
    );
    assert!(err.contains("alias `the` has only stopwords"), "{err}");
}

// ---------------------------------------------------------------- 5. review findings

fn engine() -> Engine {
    Engine::new(shipped())
}

/// Every sentence of the knowledge with its owner: topics and tips.
fn all_sentences(k: &Knowledge) -> Vec<(String, &Sentence)> {
    let mut v: Vec<(String, &Sentence)> = Vec::new();
    for t in &k.topics {
        for s in topic_sentences(t) {
            v.push((format!("topic `{}`", t.id), s));
        }
    }
    for (i, tip) in k.tips.iter().enumerate() {
        v.push((format!("tip #{}", i + 1), &tip.sentence));
    }
    v
}

/// The whole text of a reply, lower-cased, with the quotes behind it.
fn reply_text(e: &Engine, query: &str) -> (massage_bot::reply::Reply, String) {
    let r = e.answer(&Request::parse(query));
    let text = render::text(&r).to_lowercase();
    (r, text)
}

/// Medically wrong: osteoporosis does not make joints stiff, and the
/// flexibility answer no longer says it does.
#[test]
fn finding_flexibility_names_no_condition_behind_stiff_joints() {
    let k = shipped();
    for text in topic_texts(topic(&k, "flexibility")) {
        let lower = text.to_lowercase();
        for word in ["osteoporosis", "arthritis", "stiff"] {
            assert!(!lower.contains(word), "flexibility says `{word}`: {text}");
        }
    }
}

/// Conditions no source names were attributed to a source (varicose
/// veins, blood clots). Now what a sentence says a source says names a
/// condition only when the quotes it cites name it too ("Ask your doctor
/// if you have high blood pressure: one source advises checking with your
/// doctor" attributes only the advice).
#[test]
fn finding_a_sentence_names_a_condition_only_if_its_quotes_do() {
    let k = shipped();
    let conditions = [
        "varicose",
        "clot",
        "thrombosis",
        "phlebitis",
        "osteoporosis",
        "arthritis",
        "fibromyalgia",
        "cancer",
        "pregnan",
        "diabetes",
        "blood pressure",
        "infectious",
        // "post-surgical" backs "surgery".
        "surg",
    ];
    let mut failures = Vec::new();
    for (owner, s) in all_sentences(&k) {
        if s.is_advice() {
            continue;
        }
        let lower = s.text.to_lowercase();
        let Some(at) = lower.find("source") else {
            continue;
        };
        let text = &lower[at..];
        let quotes: String = s
            .cites()
            .iter()
            .map(|c| c.quote.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        for c in conditions {
            if text.contains(c) && !quotes.contains(c) {
                failures.push(format!(
                    "{owner}: names `{c}` but its quotes do not: {}",
                    s.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (_, text) in all_texts(&k) {
        assert!(!text.to_lowercase().contains("varicose"), "{text}");
        assert!(!text.to_lowercase().contains("blood clot"), "{text}");
    }
}

/// "/safe poor circulation" said the sources make no safety statement
/// while two of them warn about blood-vessel problems.
#[test]
fn finding_poor_circulation_gets_the_blood_vessel_warning() {
    let e = engine();
    for q in [
        "/safe poor circulation",
        "is massage safe for bad circulation",
        "/safe circulation",
    ] {
        let (r, text) = reply_text(&e, q);
        assert!(r.safety.is_some(), "{q}: {text}");
        assert!(!r.warnings.is_empty(), "{q}: {text}");
        assert!(!text.contains("no safety note"), "{q}: {text}");
        assert!(!text.contains("no safety statement"), "{q}: {text}");
        assert!(
            text.contains("blood vessels") || text.contains("phlebitis"),
            "{q}: {text}"
        );
        let sources: Vec<&str> = r.sources.iter().map(|s| s.id.as_str()).collect();
        assert!(sources.contains(&"000"), "{q}: {sources:?}");
    }
}

/// "/benefits cancer" said "the sources describe no benefit" and then
/// "sources differ". Now it says it has only a safety note, and the
/// difference it names is the excluded fatigue claim.
#[test]
fn finding_cancer_and_infections_do_not_contradict_themselves() {
    let e = engine();
    for id in ["cancer", "infections"] {
        let r = e.answer_topic(Intent::Benefits, id);
        let text = render::text(&r).to_lowercase();
        assert!(!text.contains("describe no benefit"), "{id}: {text}");
        assert!(
            text.contains("i have no benefits of massage to tell you about"),
            "{id}: {text}"
        );
        assert!(r.safety.is_some(), "{id}: the warning is shown in full");
    }
}

/// The medications summary added "with massage" to 002's NSAID sentence.
#[test]
fn finding_medications_summary_does_not_add_with_massage() {
    let k = shipped();
    let s = &topic(&k, "medications").safety.as_ref().unwrap().section;
    let summary = s.summary_text().to_lowercase();
    assert!(summary.contains("nsaid"), "{summary}");
    assert!(!summary.contains("with massage"), "{summary}");
}

/// Immunity said two sources report studies (only 000 does); sleep said
/// "research cited by one source" (003 cites none). A sentence speaks of
/// studies or research only when its own quote does.
#[test]
fn finding_studies_and_research_are_only_where_a_quote_has_them() {
    let k = shipped();
    let mut failures = Vec::new();
    for (owner, s) in all_sentences(&k) {
        let text = s.text.to_lowercase();
        if ["stud", "research", "trial", "evidence"]
            .iter()
            .any(|w| text.contains(w))
        {
            let backed = s.cites().iter().any(|c| {
                let q = c.quote.to_lowercase();
                ["stud", "research", "shown", "proven", "findings"]
                    .iter()
                    .any(|w| q.contains(w))
            });
            if !backed {
                failures.push(format!("{owner}: {}", s.text));
            }
        }
        assert!(!text.contains("research cited by"), "{owner}: {}", s.text);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let immunity = topic(&k, "immunity").benefits.as_ref().unwrap();
    for (_, s) in immunity.sentences() {
        let t = s.text.to_lowercase();
        assert!(
            !(t.contains("two sources") && t.contains("stud")),
            "{}",
            s.text
        );
    }
}

/// Stress: 004 says "perhaps the most prevalent", not "the most common".
#[test]
fn finding_stress_keeps_the_sources_perhaps() {
    let k = shipped();
    for text in topic_texts(topic(&k, "stress")) {
        let lower = text.to_lowercase();
        if lower.contains("most common") || lower.contains("most prevalent") {
            assert!(lower.contains("perhaps"), "{text}");
        }
        assert!(!lower.contains("the most common problem"), "{text}");
    }
}

/// Medical conditions said "the others advise checking with your doctor"
/// when only 000 does.
#[test]
fn finding_medical_conditions_credits_one_source_with_the_doctor_advice() {
    let k = shipped();
    let s = &topic(&k, "medical-conditions")
        .safety
        .as_ref()
        .unwrap()
        .section;
    for (_, sentence) in s.sentences() {
        let t = sentence.text.to_lowercase();
        assert!(!t.contains("the others"), "{}", sentence.text);
        if t.contains("checking with your doctor") {
            let doctor_quotes: Vec<&str> = sentence
                .cites()
                .iter()
                .filter(|c| c.quote.to_lowercase().contains("check with your doctor"))
                .map(|c| c.source.as_str())
                .collect();
            assert_eq!(doctor_quotes, ["000"], "{}", sentence.text);
        }
    }
}

/// Benefits stated as bare fact ("Strengthens the immune system").
#[test]
fn finding_no_benefit_is_stated_as_bare_fact() {
    let k = shipped();
    for bare in [
        "strengthens the immune system",
        "increases physical performance",
        "softens and relaxes injured muscles",
        "lower dependence on medication",
        "less dependence on medication",
    ] {
        for (owner, s) in all_sentences(&k) {
            let t = s.text.to_lowercase();
            assert!(!t.starts_with(bare), "{owner}: {}", s.text);
        }
    }
}

/// Replies relied on a source without listing it: pregnancy benefits
/// stated 000's qualified-therapist rule listing only 001, and safety
/// replies used 002's "tell your therapist" without 002.
#[test]
fn finding_replies_list_every_source_they_rely_on() {
    let e = engine();
    let (r, text) = reply_text(&e, "/benefits pregnancy");
    assert!(text.contains("qualified"), "{text}");
    assert!(r.sources.iter().any(|s| s.id.as_str() == "000"), "{text}");
    for t in &e.knowledge().topics {
        for side in [Intent::Benefits, Intent::Safe] {
            let r = e.answer_topic(side, t.id.as_str());
            let said = e.said(&r.shown);
            let gaps = massage_bot::validate::provenance_gaps(&r, &said);
            assert!(gaps.is_empty(), "{} {side:?}: {gaps:?}", t.id);
            for s in &said {
                let lower = s.text.to_lowercase();
                if lower.contains("tell the therapist") || lower.contains("tell your therapist") {
                    match &s.basis {
                        Basis::Advice => {}
                        Basis::Sources(q) => assert!(
                            q.iter()
                                .all(|q| r.sources.iter().any(|x| x.id == q.source.id)),
                            "{}: {}",
                            t.id,
                            s.text
                        ),
                        Basis::Own => panic!("{}: {}", t.id, s.text),
                    }
                }
            }
        }
    }
}

/// Words for situations the sources warn about led to a plain benefits
/// answer. Now the warning leads.
#[test]
fn finding_warning_words_lead_with_a_warning() {
    let e = engine();
    for words in [
        "inflammation",
        "a weak immune system",
        "an open wound",
        "stitches",
        "a sports injury",
        "a torn muscle",
        "a premature baby",
        "blood thinners",
    ] {
        for q in [
            format!("can massage help with {words}?"),
            format!("/benefits {words}"),
        ] {
            let (r, text) = reply_text(&e, &q);
            assert!(
                r.safety.is_some() && !r.warnings.is_empty(),
                "{q}: no warning leads: {text}"
            );
        }
    }
}

/// Sweeping claims that were neither excluded nor cited.
#[test]
fn finding_sweeping_claims_are_excluded_with_a_reason() {
    let k = shipped();
    for (doc, fragment) in [
        ("002", "well-trained practitioner"),
        ("004", "many experts have concluded"),
        ("003", "hormone production will be balanced"),
        ("000", "recover from surgery"),
    ] {
        let x = k
            .excluded
            .iter()
            .find(|x| x.source.as_str() == doc && x.quote.to_lowercase().contains(fragment))
            .unwrap_or_else(|| panic!("{doc}: `{fragment}` is not excluded"));
        assert!(!x.reason.trim().is_empty());
        for (owner, c) in all_cites(&k) {
            assert!(
                !c.quote.to_lowercase().contains(fragment),
                "{owner} cites the excluded `{fragment}`"
            );
        }
    }
}

/// Osteoporosis needs gentle pressure: by the file's own definitions its
/// level is caution.
#[test]
fn finding_osteoporosis_is_caution() {
    let k = shipped();
    let s = topic(&k, "osteoporosis").safety.as_ref().unwrap();
    assert_eq!(s.level, SafetyLevel::Caution);
}

/// A skin tip dropped 004's contraindication of massage as a whole.
#[test]
fn finding_the_skin_tip_keeps_the_whole_massage_contraindication() {
    let k = shipped();
    let skin: Vec<&Sentence> = k
        .tips
        .iter()
        .map(|t| &t.sentence)
        .filter(|s| s.text.to_lowercase().contains("skin"))
        .collect();
    assert!(!skin.is_empty());
    for s in skin {
        let t = s.text.to_lowercase();
        if t.contains("rash") || t.contains("skin condition") {
            assert!(t.contains("not recommended at all"), "{}", s.text);
            assert!(
                s.cites().iter().any(|c| c.source.as_str() == "004"),
                "{}",
                s.text
            );
        }
    }
}

/// Depression offered weekly massage for severe depression with no word
/// about getting help; the advice shows in full and in brief replies.
#[test]
fn finding_depression_says_to_get_help() {
    let e = engine();
    let help = "talk to your doctor or a mental health professional";
    let (_, full) = reply_text(&e, "/benefits depression");
    assert!(full.contains(help), "{full}");
    // Brief, as the second topic of a question.
    let (r, text) = reply_text(&e, "can massage help my back pain and my depression?");
    assert!(
        r.topics.iter().any(|t| t.as_str() == "depression"),
        "{text}"
    );
    assert!(text.contains(help), "{text}");
    // It is the bot's own advice, and shown as such.
    let advice = e.said(&r.shown);
    assert!(advice
        .iter()
        .any(|s| s.text.to_lowercase().contains(help) && s.basis == Basis::Advice));
}

/// /about said "I cite which ones say so" and "I don't guess". It now says
/// what is true and how to check it.
#[test]
fn finding_about_says_what_is_true() {
    let e = engine();
    let about = render::text(&e.answer(&Request::About));
    for wrong in ["I cite which ones", "I don't guess"] {
        assert!(!about.contains(wrong), "{about}");
    }
    for right in [
        "verbatim quote",
        "my own general safety advice",
        "Quotes",
        "ask --quotes",
    ] {
        assert!(about.contains(right), "`{right}`: {about}");
    }
    let not_covered = render::text(&e.answer(&Request::parse("what is the capital of france")));
    assert!(!not_covered.contains("I don't guess"), "{not_covered}");
}

/// Room to grow: a knowledge base of 120 topics (four times the shipped
/// one) passes every check, `/topics` included, which Discord shows in
/// pages that each fit a message. A single embed held about 50.
#[test]
fn a_knowledge_base_four_times_larger_passes_every_check() {
    let first = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima",
    ];
    let second = [
        "amber", "cobalt", "crimson", "indigo", "jade", "ochre", "olive", "scarlet", "teal",
        "violet",
    ];
    let topics: String = (0..120)
        .map(|i| {
            let name = format!("{} {}", first[i % 12], second[i / 12]);
            SLEEP
                .replace("id = \"sleep\"", &format!("id = \"sleep-{i}\""))
                .replace(
                    "title = \"Sleep\"",
                    &format!("title = \"Sleep of the {name} kind\""),
                )
                .replace(
                    "aliases = [\"insomnia\", \"can't sleep\", \"trouble sleeping\"]",
                    &format!("aliases = [\"{name} rest\", \"{name} slumber\", \"{name} nap\"]"),
                )
        })
        .collect();
    let k = valid(&file_with(&topics));
    assert_eq!(k.topics.len(), 120);
    let engine = Engine::new(k);
    // The built-in vocabulary and crisis rules name the shipped topics,
    // which this file lacks; every reply, `/topics` pages included, fits.
    let problems: Vec<Problem> = massage_bot::validate::problems(&engine, ORIGIN)
        .into_iter()
        .filter(|p| p.message.contains("reply"))
        .collect();
    assert!(problems.is_empty(), "{}", list(&problems));
    let full = engine.answer(&Request::Topics);
    assert!(
        !render::Card::limit_problems(&full).is_empty(),
        "one embed no longer holds the list"
    );
    let pages = render::section_pages(&full);
    assert!(pages.len() > 1);
    for p in &pages {
        assert_eq!(render::Card::limit_problems(p), vec![]);
    }
    let listed: usize = pages
        .iter()
        .flat_map(|p| &p.sections)
        .map(|s| s.lines.len())
        .sum();
    assert_eq!(listed, 120);
}
