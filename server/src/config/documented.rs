//! `docs/configuration.md` against the code: every setting the code takes — each key of
//! [`FileConfig`], each flag and environment variable of `server serve`/`migrate` (and the
//! global `--log-format`) and of `server node` — has a row in the reference's tables, and
//! the tables name nothing the code does not take, and each plain default they give is the
//! code's. The lists come from the code itself (serde's field names, clap's arguments), so a
//! new setting fails these tests until it is documented, and a removed one until its row goes.
use super::FileConfig;
use clap::CommandFactory;
use serde::{
    Deserialize,
    de::{self, Visitor},
};

const DOC: &str = "docs/configuration.md";
/// The reference's section for `serve` and `migrate` (heading text after `## `).
const SERVE_SECTION: &str = "`server serve` and `server migrate`";
/// Its section for hosted nodes.
const NODE_SECTION: &str = "`server node`";
/// Environment variables read outside clap, each with the source file that reads it (checked
/// below, so an entry cannot outlive its reader).
const READ_DIRECTLY: [(&str, &str); 2] =
    [("LEPTOS_SITE_ADDR", include_str!("../config.rs")), ("RUST_LOG", include_str!("../telemetry.rs"))];

/// A deserializer that only records the field names a derived `Deserialize` struct asks for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only a struct's field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The keys the configuration file accepts, exactly as serde matches them.
fn file_keys() -> Vec<&'static str> {
    let mut fields: &'static [&'static str] = &[];
    let _ = FileConfig::deserialize(FieldNames(&mut fields));
    fields.to_vec()
}

/// A flag as clap defines it: `--long`, its environment variable, and its id.
struct Flag {
    long: String,
    env: Option<String>,
    id: String,
}

fn flags(command: &clap::Command, globals: bool) -> Vec<Flag> {
    command
        .get_arguments()
        .filter(|a| globals || !a.is_global_set())
        .filter_map(|a| {
            Some(Flag {
                long: format!("--{}", a.get_long()?),
                env: a.get_env().map(|e| e.to_string_lossy().into_owned()),
                id: a.get_id().to_string(),
            })
        })
        .filter(|f| f.long != "--help" && f.long != "--version")
        .collect()
}

/// One row of a reference table: the backquoted words of its first four cells (file key,
/// flag, environment, default).
struct Row {
    line: String,
    keys: Vec<String>,
    flags: Vec<String>,
    envs: Vec<String>,
    defaults: Vec<String>,
}

fn quoted(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The rows of every table in the section whose heading is `## {heading}`.
fn rows(doc: &str, heading: &str) -> Vec<Row> {
    let section = doc
        .split("\n## ")
        .find(|s| s.lines().next().is_some_and(|h| h.trim() == heading))
        .unwrap_or_else(|| panic!("{DOC} has no section `## {heading}`"));
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| file key"))
        .filter(|l| !l.trim_start_matches('|').trim_start().starts_with('-'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            let cell = |i: usize| quoted(cells.get(i).copied().unwrap_or_default());
            Row {
                line: line.to_owned(),
                keys: cell(1),
                flags: cell(2).into_iter().filter(|f| f.starts_with("--")).collect(),
                envs: cell(3),
                defaults: cell(4),
            }
        })
        .collect()
}

fn doc() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DOC);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What to add for a missing setting, said once for every failure.
fn add_row(what: &str, section: &str) -> String {
    format!(
        "{what} is not documented: add a row `| file key | flag | environment | default | what it does |` \
         for it (`–` in the cells it does not have) to a table under the heading \"## {section}\" in {DOC}"
    )
}

#[test]
fn every_file_key_is_documented_and_every_documented_key_exists() {
    let doc = doc();
    let rows = rows(&doc, SERVE_SECTION);
    let keys = file_keys();
    assert!(keys.len() > 30 && keys.contains(&"bind"), "FileConfig's fields were not read: {keys:?}");
    for key in &keys {
        assert!(
            rows.iter().any(|r| r.keys.iter().any(|k| k == key)),
            "{}",
            add_row(&format!("the file key `{key}` (FileConfig in server/src/config.rs)"), SERVE_SECTION)
        );
    }
    for row in &rows {
        for key in &row.keys {
            assert!(
                keys.contains(&key.as_str()),
                "{DOC} documents the file key `{key}`, which FileConfig (server/src/config.rs) does not \
                 have: remove or rename it in this row: {}",
                row.line
            );
        }
    }
}

#[test]
fn every_flag_and_variable_of_serve_is_documented_with_its_file_key() {
    let doc = doc();
    let rows = rows(&doc, SERVE_SECTION);
    let keys = file_keys();
    let flags = flags(&crate::cli::Cli::command(), true);
    assert!(flags.iter().any(|f| f.long == "--bind"), "ServeArgs's flags were not read");
    for flag in &flags {
        let what = format!("the flag `{}` (ServeArgs in server/src/config.rs, or Cli)", flag.long);
        let row = rows.iter().find(|r| r.flags.contains(&flag.long)).unwrap_or_else(|| {
            panic!("{}", add_row(&what, SERVE_SECTION));
        });
        if let Some(env) = &flag.env {
            assert!(
                row.envs.contains(env),
                "{DOC}: the row of `{}` must name `{env}`: {}",
                flag.long,
                row.line
            );
        }
        if keys.contains(&flag.id.as_str()) {
            assert!(
                row.keys.contains(&flag.id),
                "{DOC}: the row of `{}` must name its file key `{}`: {}",
                flag.long,
                flag.id,
                row.line
            );
        }
    }
    check_documented_flags_exist(&rows, &flags, SERVE_SECTION);
}

#[test]
fn every_flag_and_variable_of_node_is_documented() {
    let doc = doc();
    let rows = rows(&doc, NODE_SECTION);
    let command = crate::cli::Cli::command();
    let node = command.find_subcommand("node").expect("a node subcommand");
    let flags = flags(node, false);
    assert!(flags.iter().any(|f| f.long == "--control-plane"), "NodeArgs's flags were not read");
    for flag in &flags {
        let what =
            format!("the flag `{}` of `server node` (NodeArgs in server/src/nodes/agent.rs)", flag.long);
        let row = rows.iter().find(|r| r.flags.contains(&flag.long)).unwrap_or_else(|| {
            panic!("{}", add_row(&what, NODE_SECTION));
        });
        if let Some(env) = &flag.env {
            assert!(
                row.envs.contains(env),
                "{DOC}: the row of `{}` must name `{env}`: {}",
                flag.long,
                row.line
            );
        }
    }
    for row in &rows {
        assert!(row.keys.is_empty(), "{DOC}: `server node` reads no configuration file: {}", row.line);
    }
    check_documented_flags_exist(&rows, &flags, NODE_SECTION);
}

/// Every flag and environment variable a section's tables name is one the code takes.
fn check_documented_flags_exist(rows: &[Row], flags: &[Flag], section: &str) {
    for (name, source) in READ_DIRECTLY {
        assert!(source.contains(name), "{name} is no longer read: drop it from READ_DIRECTLY and from {DOC}");
    }
    for row in rows {
        for long in &row.flags {
            assert!(
                flags.iter().any(|f| &f.long == long),
                "{DOC} documents `{long}` under `## {section}`, which the command does not take: {}",
                row.line
            );
        }
        for env in &row.envs {
            assert!(
                flags.iter().any(|f| f.env.as_ref() == Some(env))
                    || READ_DIRECTLY.iter().any(|(n, _)| n == env),
                "{DOC} documents the variable `{env}` under `## {section}`, which nothing reads: {}",
                row.line
            );
        }
    }
}

/// The configuration resolved from a file holding `text` (and no flags).
fn resolved(text: &str) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("web4.toml");
    std::fs::write(&file, text).expect("the file is written");
    let config = super::Config::resolve(super::ServeArgs { config: Some(file), ..Default::default() });
    format!("{:?}", config.unwrap_or_else(|e| panic!("{text:?} does not resolve: {e:#}")))
}

/// Setting a key to the default the reference gives it changes nothing: the documented default
/// is the code's. (Defaults that are not one plain value — `none`, `sqlite://<data_dir>/…` —
/// are left out.)
#[test]
fn every_documented_default_is_the_codes_default() {
    let doc = doc();
    let defaults = resolved("");
    let mut checked = 0;
    for row in rows(&doc, SERVE_SECTION) {
        let ([key], Some(default)) = (row.keys.as_slice(), row.defaults.first()) else { continue };
        if default.contains('<') {
            continue;
        }
        let value = match default.as_str() {
            "true" | "false" => default.clone(),
            number if number.parse::<i64>().is_ok() => number.to_owned(),
            text => format!("{text:?}"),
        };
        // Not assert_eq!: the two configurations are long; the row says what to fix.
        assert!(
            resolved(&format!("{key} = {value}\n")) == defaults,
            "{DOC} says `{key}` defaults to `{default}`, but setting it to that changes the configuration: \
             correct the default in this row: {}",
            row.line
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} defaults were checked");
}
