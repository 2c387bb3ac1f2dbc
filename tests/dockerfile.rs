//! The Dockerfile, checked without a container engine: its build stage must
//! be the plain release build of the whole tree (no placeholder sources to
//! keep in step with Cargo.toml, which once broke it), everything it copies
//! must exist and not be excluded by `.dockerignore`, and the knowledge it
//! compiles in must be in the build context.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile")
}

/// Instructions with their continuation lines joined.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(line);
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

#[test]
fn the_build_stage_is_the_plain_release_build_of_the_whole_tree() {
    let steps = instructions(&dockerfile());
    let builds: Vec<&String> = steps.iter().filter(|s| s.contains("cargo build")).collect();
    assert_eq!(builds.len(), 1, "one cargo build: {builds:#?}");
    assert!(
        builds[0].contains("cargo build --release --locked"),
        "{}",
        builds[0]
    );
    for step in &steps {
        assert!(
            !step.contains("fn main() {}") && !step.contains("touch src/"),
            "placeholder sources need keeping in step with Cargo.toml: {step}"
        );
    }
    let copy_all = steps.iter().position(|s| s == "COPY . .");
    let build = steps.iter().position(|s| s.contains("cargo build"));
    assert!(
        copy_all.is_some() && copy_all < build,
        "the whole tree is copied before the build"
    );
}

#[test]
fn everything_the_build_needs_is_in_the_context() {
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "knowledge",
        "benches",
        "tests",
        // A workspace member: cargo reads its manifest for any build.
        "crates",
    ] {
        assert!(root().join(needed).exists(), "{needed} exists");
        assert!(
            !ignored.iter().any(|p| p.trim_end_matches('/') == needed),
            "{needed} is excluded by .dockerignore"
        );
    }
    // Every bench and test target Cargo.toml names is a file in the context,
    // and so is every workspace member.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: toml::Value = manifest.parse().unwrap();
    for member in manifest["workspace"]["members"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let member = member.as_str().unwrap();
        assert!(
            root().join(member).join("Cargo.toml").exists(),
            "workspace member {member}"
        );
    }
    for bench in manifest["bench"].as_array().into_iter().flatten() {
        let name = bench["name"].as_str().unwrap();
        assert!(
            root().join(format!("benches/{name}.rs")).exists(),
            "bench {name}"
        );
    }
}
