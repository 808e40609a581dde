//! The catalog of 4.8.0's mqadmin subcommands (`rmq_admin::catalog`) checked against the code:
//! every subcommand of ours is in it, in 4.8.0's order; every row names a test that exists and
//! runs that subcommand, and an interop program that runs the real 4.8.0 one; and the appendix
//! table in `book/src/appendix/mqadmin.md` is the one the catalog generates
//! (`RMQ_BLESS_BOOK=1 cargo test -p rmq-admin --test catalog` rewrites it).
//!
//! Book: Appendix "mqadmin subcommands". 4.8.0 counterpart: `MQAdminStartup.initCommand`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rmq_admin::catalog::{Owner, MQADMIN_4_8_0};
use rmq_admin::commands::SUB_COMMANDS;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

#[test]
fn the_catalog_lists_4_8_0s_49_subcommands_once() {
    let names: BTreeSet<&str> = MQADMIN_4_8_0.iter().map(|r| r.name).collect();
    assert_eq!(MQADMIN_4_8_0.len(), 49);
    assert_eq!(names.len(), 49, "a name appears twice");
}

#[test]
fn our_command_table_follows_the_catalog() {
    let position = |name: &str| MQADMIN_4_8_0.iter().position(|r| r.name == name);
    let mut last = None;
    for c in SUB_COMMANDS {
        let p = position(c.name).unwrap_or_else(|| panic!("{} is not a 4.8.0 subcommand", c.name));
        assert!(last < Some(p), "{} is out of 4.8.0's order", c.name);
        last = Some(p);
    }
    for r in MQADMIN_4_8_0 {
        if let Owner::Here { .. } = r.owner {
            assert!(
                SUB_COMMANDS.iter().any(|c| c.name == r.name),
                "{} is catalogued as ours but missing from the command table",
                r.name
            );
        }
    }
}

#[test]
fn every_row_names_a_test_and_an_interop_program_that_run_it() {
    for r in MQADMIN_4_8_0 {
        let Owner::Here { test } = r.owner else {
            assert!(r.interop.is_none(), "{}: owned by another suite", r.name);
            continue;
        };
        let (file, func) = test.split_once("::").expect("file::function");
        let text = read(file);
        assert!(
            text.contains(&format!("fn {func}(")),
            "{test} does not exist"
        );
        assert!(
            text.contains(&format!("\"{}\"", r.name)),
            "{file} never runs {}",
            r.name
        );
        let program = r
            .interop
            .unwrap_or_else(|| panic!("{}: no interop program", r.name));
        let java = read(&format!("interop/java/src/main/java/interop/{program}"));
        assert!(
            java.contains(&format!("\"{}\"", r.name)),
            "{program} never runs {}",
            r.name
        );
    }
    // The interop programs are run by `make interop`.
    let run_sh = read("interop/run.sh");
    for program in ["MqAdminAll", "Interop", "ReplyInterop"] {
        assert!(
            run_sh.contains(&format!("interop.{program}")),
            "run.sh does not run {program}"
        );
    }
    assert!(
        run_sh.contains("interop.Extras")
            || read("interop/java/src/main/java/interop/Interop.java").contains("Extras.")
    );
}

#[test]
fn the_appendix_table_is_generated_from_the_catalog() {
    rmq_testkit::check_generated_section(
        &repo_root().join("book/src/appendix/mqadmin.md"),
        "<!-- BEGIN GENERATED: mqadmin-subcommands -->\n",
        "<!-- END GENERATED: mqadmin-subcommands -->",
        &rmq_admin::catalog::appendix_table(),
        "RMQ_BLESS_BOOK=1 cargo test -p rmq-admin --test catalog",
    );
}
