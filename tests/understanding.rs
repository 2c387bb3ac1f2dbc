//! How the bot understands questions as people type them: crisis first,
//! every topic named with the warnings first, the lay and clinical
//! vocabulary, small talk, other languages and intent (issue 9).

use std::sync::OnceLock;

use massage_bot::engine::{Engine, Request};
use massage_bot::render;
use massage_bot::reply::{Intent, Kind, Reply};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(None).expect("shipped knowledge is valid"))
}

fn ask(q: &str) -> Reply {
    engine().answer(&Request::Ask(q.to_owned()))
}

fn topic(r: &Reply) -> Option<&str> {
    r.topic.as_ref().map(|t| t.as_str())
}

fn ids(list: &[massage_bot::knowledge::TopicId]) -> Vec<&str> {
    list.iter().map(|t| t.as_str()).collect()
}

#[test]
fn suicidal_thoughts_get_crisis_help_before_anything_else() {
    let crisis = &engine().knowledge().crisis;
    for q in [
        "i want to kill myself",
        "I feel suicidal",
        "don't see the point anymore",
        "everyone would be better off without me",
        "thinking of ending it all",
        "wish i could just not wake up tomorrow",
        "massage wont fix this, i just want to die tbh",
        "i cut myself again last night",
    ] {
        for request in [
            Request::Ask(q.to_owned()),
            Request::Benefits(q.to_owned()),
            Request::Safe(q.to_owned()),
            Request::parse(&format!("/{q}")),
        ] {
            let r = engine().answer(&request);
            assert_eq!(r.kind, Kind::Crisis, "{q} ({request:?})");
            assert_eq!(r.title, crisis.mental.title, "{q}");
            assert_eq!(r.topic, None, "never a massage topic: {q}");
            assert!(r.is_private(), "a crisis reply is private");
            let text = render::text(&r);
            assert!(text.contains("findahelpline.com"), "{text}");
            assert!(text.contains("988") && text.contains("116 123"));
            assert!(!text.contains("Not covered") && !text.contains("Did you mean"));
            assert!(text.trim_end().ends_with(r.caveat.as_str()));
        }
    }
}

#[test]
fn medical_emergencies_get_emergency_help_first() {
    let crisis = &engine().knowledge().crisis;
    for q in [
        "crushing chest pain going down my left arm right now, would a massage help",
        "my face is drooping on one side and my speech is slurred",
        "worst headache of my life came on suddenly an hour ago",
        "cant breathe properly and my lips are going blue",
        "one calf is red, hot and swollen and hurts when i walk, should i get it massaged",
    ] {
        let r = ask(q);
        assert_eq!(r.kind, Kind::Crisis, "{q}");
        assert_eq!(r.title, crisis.medical.title, "{q}");
        assert!(render::text(&r).contains("emergency"), "{q}");
    }
    // The calf: emergency help first, then the blood-vessel warning.
    let r = ask("one calf is red, hot and swollen and hurts when i walk, should i get it massaged");
    assert_eq!(topic(&r), Some("blood-vessels"));
    assert_eq!(r.intent, Some(Intent::Safe));
    assert_eq!(ids(&r.warnings), ["blood-vessels"]);
}

#[test]
fn figures_of_speech_are_not_a_crisis() {
    for q in [
        "this deadline is killing me",
        "i'd kill for a massage rn",
        "dying to try hot stone",
        "my feet are dead after my shift",
        "died laughing at the whale music",
        "watched suicide squad again",
        "overdosed on netflix this weekend",
        "heartbroken after my breakup, would a massage cheer me up",
        "out of breath after the stairs, is that normal",
    ] {
        let r = ask(q);
        assert_ne!(r.kind, Kind::Crisis, "{q}");
    }
    let r = ask("my back is killing me, would massage help");
    assert_eq!(
        (r.kind, topic(&r), r.intent),
        (Kind::Answer, Some("back-pain"), Some(Intent::Benefits))
    );
}

#[test]
fn a_risky_condition_leads_with_its_warning_and_the_rest_is_answered() {
    let k = engine().knowledge();
    let pregnancy = k
        .topics
        .iter()
        .find(|t| t.id.as_str() == "pregnancy")
        .and_then(|t| t.safety.as_ref())
        .expect("pregnancy safety");
    let r = ask("I'm pregnant, can massage help my back pain?");
    assert_eq!(
        topic(&r),
        Some("back-pain"),
        "the primary topic is what was asked"
    );
    assert_eq!(r.intent, Some(Intent::Benefits));
    assert_eq!(ids(&r.topics), ["pregnancy", "back-pain"]);
    assert_eq!(ids(&r.warnings), ["pregnancy"]);
    // The warning comes first, the back-pain answer after it.
    let warning_text = pregnancy.section.summary_text();
    assert_eq!(r.summary, warning_text);
    assert!(r.more.iter().any(|p| p.topic.id.as_str() == "back-pain"));
    let text = render::text(&r);
    let warning = text.find(&warning_text).expect("warning shown");
    let back = text.find("Back pain — benefits").expect("back pain shown");
    assert!(warning < back, "{text}");

    let r = ask("im 34 weeks, is it ok to lie on my back");
    assert_eq!(r.intent, Some(Intent::Safe));
    assert!(ids(&r.warnings).contains(&"pregnancy"), "{:?}", r.warnings);

    let r = ask("osteoporosis and back pain, is massage safe");
    assert_eq!(
        (topic(&r), r.intent),
        (Some("osteoporosis"), Some(Intent::Safe))
    );
    assert!(ids(&r.warnings).contains(&"osteoporosis"));
    assert!(!render::text(&r).contains("no safety note"));

    let r = ask("my back is killing me, oh and im 34 weeks lol. worth booking a massage?");
    assert!(ids(&r.warnings).contains(&"pregnancy"));
    assert!(ids(&r.topics).contains(&"back-pain"));
}

#[test]
fn two_warnings_both_lead() {
    let r = ask("had a DVT in march and now on xarelto, is massage ok");
    assert_eq!(r.intent, Some(Intent::Safe));
    assert_eq!(
        topic(&r),
        Some("blood-vessels"),
        "the most serious warning leads"
    );
    assert_eq!(ids(&r.warnings), ["blood-vessels", "medications"]);
}

#[test]
fn blood_thinners_get_an_honest_note_not_the_nsaid_text() {
    let r = ask("I take warfarin, deep tissue ok?");
    assert_eq!(
        (topic(&r), r.intent),
        (Some("medications"), Some(Intent::Safe))
    );
    assert!(r
        .summary
        .contains("say nothing specific about blood thinners"));
    assert!(
        r.advice.iter().any(|a| a.contains("doctor")),
        "{:?}",
        r.advice
    );
    assert!(!r.summary.contains("NSAID"), "{}", r.summary);
    assert!(!render::text(&r).contains("NSAID"), "{}", render::text(&r));
    // The NSAIDs themselves are what the sources name.
    let r = ask("took 2 advil before my appt, is that ok");
    assert_eq!(topic(&r), Some("medications"));
    assert!(r.summary.contains("NSAIDs"));
}

#[test]
fn clinical_shorthand_drugs_and_lay_words() {
    for (q, want) in [
        ("HTN, is massage ok", "blood-pressure"),
        (
            "my bp was 160/100 this morning, can i still have a massage",
            "blood-pressure",
        ),
        ("afib, massage safe?", "heart"),
        (
            "history of PE, is a leg massage a bad idea",
            "blood-vessels",
        ),
        ("on eliquis, deep tissue ok?", "medications"),
        ("T2DM, anything to tell my therapist", "medical-conditions"),
        ("RA flare in my hands, massage yes or no", "arthritis"),
        ("3 weeks post c-section, is a back massage ok", "recovery"),
        (
            "had my op last week, when can i have a massage again",
            "recovery",
        ),
        (
            "20 weeks and my feet are so swollen, is a foot massage ok",
            "pregnancy",
        ),
        ("preggo and knackered, is massage safe", "pregnancy"),
        (
            "cant switch my brain off at 3am, would massage help",
            "sleep",
        ),
        ("siatica is killing me", "back-pain"),
        ("my anxeity is thru the roof lol", "anxiety"),
        ("knots in my shoulders from my desk job", "muscles"),
    ] {
        let r = ask(q);
        assert!(
            ids(&r.topics).contains(&want),
            "{q}: wanted {want}, got {:?} ({:?})",
            r.topics,
            r.kind
        );
    }
}

#[test]
fn a_long_messy_message_still_names_its_topic() {
    let story =
        "ok so long story lol 😅 i started a new job in march, new city, dont know anyone, \
                 commute is an hour each way and my manager is honestly a nightmare, anyway \
                 the reason im posting is that for the last few weeks i wake up at 3am every \
                 single night and cant get back to sleep, tried tea, no phone, the lot. \
                 would a massage actually help with the insomnia or is that a myth";
    let r = ask(story);
    assert_eq!(
        (topic(&r), r.intent),
        (Some("sleep"), Some(Intent::Benefits))
    );
}

#[test]
fn small_talk_gets_a_friendly_pointer_and_general_safety_the_general_advice() {
    for q in [
        "hi",
        "hey bot",
        "thanks!",
        "ty that helped",
        "help",
        "what can you do",
    ] {
        let r = ask(q);
        assert_eq!((r.kind, topic(&r)), (Kind::About, None), "{q}");
        assert!(render::text(&r).contains("/benefits"), "{q}");
    }
    let general = engine().knowledge().general.clone();
    for q in [
        "is massage safe?",
        "who shouldn't get a massage",
        "what should I tell my therapist",
    ] {
        let r = ask(q);
        assert_eq!(r.intent, Some(Intent::Safe), "{q}");
        assert_eq!(r.topic, general, "{q}");
        assert_eq!(r.kind, Kind::Answer, "{q}");
    }
}

#[test]
fn other_languages_get_an_english_only_note_never_a_topic() {
    for q in [
        "¿es seguro un masaje si estoy embarazada?",
        "est-ce que le massage aide pour le stress",
        "hilft massage bei stress und schlafproblemen",
        "massagem ajuda na dor nas costas?",
    ] {
        let r = ask(q);
        assert_eq!(topic(&r), None, "{q}");
        assert!(r.title.contains("English"), "{q}: {}", r.title);
    }
}

#[test]
fn out_of_scope_questions_are_not_covered() {
    for q in [
        "how much is a 60 minute massage",
        "do you tip your massage therapist in the uk?",
        "can i massage my dog, he has hip problems",
        "what's the weather like tomorrow",
        "is a massage gun worth it",
        "can massage cure diabetes",
        "what does pregnant pause mean",
        "heartburn after pizza, what do i take",
    ] {
        let r = ask(q);
        assert_eq!(topic(&r), None, "{q}: {:?}", r.topics);
        assert_ne!(r.kind, Kind::Crisis, "{q}");
    }
}

#[test]
fn safety_cues_make_a_safety_question() {
    for q in [
        "is it ok to get a massage with a cold",
        "should i get a massage with varicose veins",
        "can i still get a massage with a cold sore",
        "is massage risky with high blood pressure",
        "bad idea to get a massage with shingles?",
        "is massage contraindicated with a DVT",
        "should i cancel my appointment, ive got the flu",
        "will deep tissue bruise me if im on blood thinners",
        "migraine, massage yes or no",
    ] {
        let r = ask(q);
        assert_eq!(r.intent, Some(Intent::Safe), "{q}");
        assert!(r.topic.is_some(), "{q}");
    }
    let r = ask("does massage help my back pain, and is it safe with my heart condition");
    assert_eq!((topic(&r), r.intent), (Some("heart"), Some(Intent::Safe)));
}

#[test]
fn questions_to_the_bot_and_acknowledgements_are_small_talk() {
    for q in [
        "are you a doctor?",
        "r u a doctor",
        "do you have feelings lol",
        "ok",
        "cool",
        "ok thanks",
    ] {
        let r = ask(q);
        assert_eq!((r.kind, topic(&r)), (Kind::About, None), "{q}");
    }
    // A question to the bot inside a real question does not hide it.
    let r = ask("are you a doctor? my lower back is killing me, would massage help");
    assert_eq!(topic(&r), Some("back-pain"));
}

#[test]
fn a_condition_said_to_be_absent_is_not_named() {
    let r = ask("does massage interact with statins? on atorvastatin, no heart problems");
    assert_eq!(topic(&r), Some("medications"));
    assert!(!ids(&r.warnings).contains(&"heart"), "{:?}", r.warnings);
    let r = engine().answer(&Request::Safe("not pregnant, just a bad back".to_owned()));
    assert_eq!(topic(&r), Some("back-pain"));
    // What people lack is still what they ask about, and an absence that
    // is a sign stays a sign.
    assert_eq!(
        topic(&ask("no sleep for weeks, would massage help")),
        Some("sleep")
    );
    let r = engine().answer(&Request::Safe(
        "no period for 7 weeks and feel queasy".to_owned(),
    ));
    assert_eq!(ids(&r.warnings), ["pregnancy"]);
    // A negation nearby but not of the condition keeps the warning.
    let r = ask("never had a massage while pregnant, is it ok at 20 weeks");
    assert_eq!(ids(&r.warnings), ["pregnancy"]);
}

#[test]
fn a_benefits_question_about_a_warning_only_topic_gets_the_warning() {
    for (q, t) in [
        (
            "does massage help you get over the flu quicker?",
            "infections",
        ),
        ("can massage help with the nausea from chemo?", "cancer"),
        (
            "bulging purple varicose veins, would massage help them go down",
            "blood-vessels",
        ),
    ] {
        let r = ask(q);
        assert_eq!((r.intent, topic(&r)), (Some(Intent::Safe), Some(t)), "{q}");
        assert_eq!(r.kind, Kind::Answer, "{q}");
        assert_eq!(ids(&r.warnings), [t], "{q}");
    }
    // The command still answers what it was asked.
    let r = engine().answer(&Request::Benefits("flu".to_owned()));
    assert_eq!(r.intent, Some(Intent::Benefits));
}

#[test]
fn another_subject_with_a_topic_word_is_not_covered_unless_massage_is_asked_about() {
    for q in [
        "cancer bats tickets for the uk tour anyone?",
        "best rash guard for surfing in cold water?",
        "why is it called the tropic of cancer",
        "who won hearts v celtic on saturday",
    ] {
        let r = ask(q);
        assert_eq!((r.kind, topic(&r)), (Kind::NotCovered, None), "{q}");
    }
    // Asked about massage, the warning still leads.
    let r = ask("off to the cancer bats concert tonight, im on chemo, is a massage before ok");
    assert_eq!(ids(&r.warnings), ["cancer"]);
    let r = engine().answer(&Request::Safe("breast cancer survivor".to_owned()));
    assert_eq!(ids(&r.warnings), ["cancer"]);
    // A condition looked up by name, or naming someone it applies to,
    // keeps its warning.
    for q in [
        "cancer",
        "eczema",
        "heart condition",
        "pregnant",
        "what about eczema",
    ] {
        assert!(!ask(q).warnings.is_empty(), "{q}");
    }
    for q in ["my mum has cancer", "got the flu", "im 20 weeks pregnant"] {
        assert!(!ask(q).warnings.is_empty(), "{q}");
    }
}

#[test]
fn emergencies_in_other_words_and_their_near_misses() {
    for q in [
        "my wife just had a massage and now shes slurring and one arm has gone weak",
        "sudden explosive headache out of nowhere, like being hit with a bat, and i threw up",
        "found my flatmate on the floor, not responding, i cant tell if shes breathing",
        "im not safe with myself tonight",
        "i accidentally took double my tramadol and now i feel really drowsy and my breathing is slow",
    ] {
        assert_eq!(ask(q).kind, Kind::Crisis, "{q}");
    }
    for q in [
        "these migraines are gonna be the end of me, can massage help",
        "old self harm scars on my forearms from when i was a teen (im 30 now and doing fine). can massage help soften scar tissue",
        "taking a lot of pills for my back (naproxen + co-codamol), is massage still ok",
        "is bungee jumping off a bridge safe",
        "i have seizures every now and then, is it ok for me to get a massage",
    ] {
        assert_ne!(ask(q).kind, Kind::Crisis, "{q}");
    }
}
