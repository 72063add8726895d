//! Settings for every subcommand from a TOML file, environment variables and
//! the command line, with one order of precedence: a flag beats an
//! environment variable, which beats the file, which beats the built-in
//! default. This module owns that layering and the `--print-config` report;
//! it knows no flag by name, so a flag added to any subcommand is settable
//! from the file and the environment at once.
//!
//! How: before clap parses the command line, every argument of every
//! subcommand whose value the environment or the file gives gets that value
//! as its default. Clap's own parsing then gives the precedence, its types
//! and checks stay the only ones, and the result is the binary's typed clap
//! structs. Each value from the file or the environment is first checked
//! with its argument's own value parser, so that an error names the file,
//! table and key, or the variable.
//!
//! - The file (`--config FILE`, or `TRAWL_CONFIG`): top-level keys set the
//!   global flags (`log_json`); a table per subcommand (`[crawl]`, `[serve]`,
//!   ...) sets that subcommand's flags. A key is the long flag name with `_`
//!   or `-` (`delay_ms`), or a positional argument's name (`urls`). Values
//!   are strings or numbers, `true`/`false` for switches, arrays for
//!   repeatable flags; a table (`[[crawl.site]]`) reaches its flag as JSON. Unknown tables, unknown keys and values of the wrong
//!   type are errors. Relative paths are relative to the working directory,
//!   as on the command line.
//! - The environment: `TRAWL_` and the key in capitals (`TRAWL_DELAY_MS`); a
//!   repeatable flag's values are separated by commas; a switch takes `true`
//!   or `false` (or `1`/`0`, `yes`/`no`, `on`/`off`). An empty variable
//!   counts as unset.
//!
//! A switch set by the file or the environment cannot be turned off by a
//! flag (a switch flag has no value); `TRAWL_ALLOW_PRIVATE=false` can.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue};
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

/// The environment variable naming the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "TRAWL_CONFIG";
/// What every setting's environment variable starts with.
pub const ENV_PREFIX: &str = "TRAWL_";

/// The ids of the arguments this module adds to the command line.
const CONFIG_ARG: &str = "config";
const PRINT_CONFIG_ARG: &str = "print_config";
/// After each subcommand's own flags in its `--help`, rather than among them.
const LAST_IN_HELP: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{at}: unknown {}{hint}", if at.is_table { "table" } else { "key" })]
    Unknown { at: Location, hint: Hint },
    #[error("{at}: {reason}")]
    InvalidValue { at: Location, reason: String },
    #[error("environment variable {var}: {reason}")]
    InvalidEnv { var: String, reason: String },
    /// The command line itself (and `--help`, `--version`): print it with
    /// [`clap::Error::exit`].
    #[error(transparent)]
    CommandLine(#[from] clap::Error),
}

/// Where in a config file a key (or a table) is.
#[derive(Debug)]
pub struct Location {
    file: PathBuf,
    /// The tables around the key, outermost first; empty at the top level.
    tables: Vec<String>,
    key: String,
    is_table: bool,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}: ", self.file.display())?;
        if self.is_table {
            let path: Vec<&str> = self
                .tables
                .iter()
                .chain([&self.key])
                .map(String::as_str)
                .collect();
            write!(f, "[{}]", path.join("."))
        } else if self.tables.is_empty() {
            write!(f, "top-level key {}", self.key)
        } else {
            write!(f, "[{}] {}", self.tables.join("."), self.key)
        }
    }
}

/// What an unknown key or table might have meant.
#[derive(Debug)]
pub enum Hint {
    None,
    Similar(String),
    SimilarTable(String),
    InTables(Vec<String>),
    TopLevel,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::None => Ok(()),
            Hint::Similar(name) => write!(f, "; did you mean {name}?"),
            Hint::SimilarTable(name) => write!(f, "; did you mean [{name}]?"),
            Hint::InTables(tables) => {
                let tables: Vec<String> = tables.iter().map(|table| format!("[{table}]")).collect();
                write!(
                    f,
                    "; it is a setting of {}: put it in that table",
                    tables.join(", ")
                )
            }
            Hint::TopLevel => write!(f, "; it is a top-level key: put it before the first table"),
        }
    }
}

/// The parsed command line, and what `--print-config` reports about it.
pub struct Loaded<P> {
    pub cli: P,
    /// `--print-config` was given: print [`Loaded::effective_settings`]
    /// instead of running.
    pub print_config: bool,
    command: Command,
    matches: ArgMatches,
    origins: Origins,
    file: Option<PathBuf>,
}

/// Where a value that clap sees as a default came from, by command path
/// ("trawl crawl") and argument id.
type Origins = HashMap<(String, String), Origin>;

enum Origin {
    Env(String),
    File,
}

/// Parses the process's command line as [`Parser::parse`](clap::Parser::parse)
/// does, with the config file and the environment under it; on an error,
/// prints it and exits.
pub fn parse<P: CommandFactory + FromArgMatches>() -> Loaded<P> {
    match try_parse_from(std::env::args_os(), std::env::vars_os()) {
        Ok(loaded) => loaded,
        Err(ConfigError::CommandLine(error)) => error.exit(),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    }
}

/// Parses `args` (the program name first) with the settings of `env` and of
/// the config file that `--config` in `args` or `TRAWL_CONFIG` in `env`
/// names.
pub fn try_parse_from<P, A, E>(args: A, env: E) -> Result<Loaded<P>, ConfigError>
where
    P: CommandFactory + FromArgMatches,
    A: IntoIterator,
    A::Item: Into<OsString>,
    E: IntoIterator<Item = (OsString, OsString)>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let env: BTreeMap<String, OsString> = env
        .into_iter()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value)))
        .filter(|(name, value)| name.starts_with(ENV_PREFIX) && !value.is_empty())
        .collect();
    let file = config_path(&args, &env);
    let table = match &file {
        Some(path) => Some(read_table(path)?),
        None => None,
    };

    let command = P::command()
        .arg(
            Arg::new(CONFIG_ARG)
                .long("config")
                .value_name("FILE")
                .global(true)
                .value_parser(clap::value_parser!(PathBuf))
                .display_order(LAST_IN_HELP)
                .help(format!("Read settings from this TOML file [env: {CONFIG_ENV}]")),
        )
        .arg(
            Arg::new(PRINT_CONFIG_ARG)
                .long("print-config")
                .global(true)
                .action(ArgAction::SetTrue)
                .display_order(LAST_IN_HELP)
                .help("Print the effective settings, and where each came from, instead of running"),
        );
    let declared = command.clone();
    let mut layering = Layering {
        root: &declared,
        env: &env,
        file: file.as_deref(),
        origins: Origins::new(),
    };
    let command = layering.layer(command, table.as_ref(), &mut Vec::new())?;
    let origins = layering.origins;

    let matches = command.clone().try_get_matches_from(&args)?;
    let cli = P::from_arg_matches(&matches).map_err(|error| error.format(&mut command.clone()))?;
    Ok(Loaded {
        cli,
        print_config: matches.get_flag(PRINT_CONFIG_ARG),
        command,
        matches,
        origins,
        file,
    })
}

/// `--config FILE` or `--config=FILE` anywhere before `--`, else `TRAWL_CONFIG`.
/// Clap sees `--config` too (it is a declared argument): this look-ahead only
/// finds the file before the arguments are defined.
fn config_path(args: &[OsString], env: &BTreeMap<String, OsString>) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.to_str().and_then(|arg| arg.strip_prefix("--config=")) {
            return Some(PathBuf::from(path));
        }
    }
    env.get(CONFIG_ENV).map(PathBuf::from)
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse()
        .map_err(|error: toml::de::Error| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })
}

/// How an argument takes its values.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A flag without a value: `true` or `false`.
    Switch,
    /// One value.
    One,
    /// Repeatable: a list of values.
    Many,
}

/// An argument that the file and the environment may set.
struct Setting {
    id: String,
    /// Its name in the file; in capitals after `TRAWL_`, in the environment.
    key: String,
    kind: Kind,
    /// Its values are never printed (`hide_env_values` on the flag: an API
    /// key).
    secret: bool,
}

impl Setting {
    fn env_var(&self) -> String {
        format!("{ENV_PREFIX}{}", self.key.to_ascii_uppercase())
    }
}

/// The settable arguments of `command` itself (not of its subcommands), in
/// the order they are declared.
fn settings_of(command: &Command) -> Vec<Setting> {
    command
        .get_arguments()
        .filter(|arg| arg.get_id() != CONFIG_ARG && arg.get_id() != PRINT_CONFIG_ARG)
        .filter_map(|arg| {
            let kind = match arg.get_action() {
                ArgAction::SetTrue | ArgAction::SetFalse => Kind::Switch,
                ArgAction::Set => Kind::One,
                ArgAction::Append => Kind::Many,
                // --help, --version, counters: nothing to configure.
                _ => return None,
            };
            let key = match arg.get_long() {
                Some(long) => long.replace('-', "_"),
                None => arg.get_id().to_string(),
            };
            Some(Setting {
                id: arg.get_id().to_string(),
                key,
                kind,
                secret: arg.is_hide_env_values_set(),
            })
        })
        .collect()
}

struct Layering<'a> {
    /// The command line as declared, for hints about misplaced keys.
    root: &'a Command,
    env: &'a BTreeMap<String, OsString>,
    file: Option<&'a Path>,
    origins: Origins,
}

impl Layering<'_> {
    /// Gives `command`'s arguments, and its subcommands', their values from
    /// the environment or from `table` (the file's table for `command`, at
    /// `tables` in the file) as defaults.
    fn layer(
        &mut self,
        mut command: Command,
        table: Option<&toml::Table>,
        tables: &mut Vec<String>,
    ) -> Result<Command, ConfigError> {
        let settings = settings_of(&command);
        let path = command_path(tables);
        let mut file_values = match table {
            Some(table) => self.file_values(&command, &settings, table, tables)?,
            None => HashMap::new(),
        };
        for setting in &settings {
            let var = setting.env_var();
            let chosen = match self.env.get(&var) {
                Some(text) => Some((
                    env_values(&command, setting, &var, text)?,
                    Origin::Env(var.clone()),
                )),
                None => file_values
                    .remove(&setting.id)
                    .map(|values| (values, Origin::File)),
            };
            command = command.mut_arg(&setting.id, |arg| with_env_help(arg, &var));
            if let Some((values, origin)) = chosen {
                // A value from the file or the environment satisfies a
                // required argument: clap checks `required` before defaults.
                command = command.mut_arg(&setting.id, |arg| arg.default_values(values).required(false));
                self.origins.insert((path.clone(), setting.id.clone()), origin);
            }
        }

        let names: Vec<String> = command
            .get_subcommands()
            .map(|sub| sub.get_name().to_string())
            .collect();
        for name in names {
            let Some(sub) = command.find_subcommand(&name).cloned() else {
                continue;
            };
            let sub_table = table
                .and_then(|table| table.get(&name))
                .and_then(toml::Value::as_table);
            tables.push(name.clone());
            let sub = self.layer(sub, sub_table, tables)?;
            tables.pop();
            command = command.mut_subcommand(&name, |_| sub);
        }
        Ok(command)
    }

    /// The values `table` gives `command`'s settings, by argument id, each
    /// checked; an error for anything in it that is not a setting or a
    /// subcommand's table.
    fn file_values(
        &self,
        command: &Command,
        settings: &[Setting],
        table: &toml::Table,
        tables: &[String],
    ) -> Result<HashMap<String, Vec<String>>, ConfigError> {
        let subcommands: Vec<&str> = command.get_subcommands().map(Command::get_name).collect();
        let mut values = HashMap::new();
        for (key, value) in table {
            let at = Location {
                file: self.file.unwrap_or(Path::new("")).to_path_buf(),
                tables: tables.to_vec(),
                key: key.clone(),
                is_table: value.is_table(),
            };
            let normalized = key.replace('-', "_");
            if let Some(setting) = settings.iter().find(|setting| setting.key == normalized) {
                let arg = find_arg(command, &setting.id);
                let checked = file_value(setting.kind, value).and_then(|texts| {
                    texts.iter().try_for_each(|text| check_value(arg, text))?;
                    Ok(texts)
                });
                let texts = match checked {
                    Ok(texts) => texts,
                    Err(reason) => return Err(ConfigError::InvalidValue { at, reason }),
                };
                if values.insert(setting.id.clone(), texts).is_some() {
                    return Err(ConfigError::InvalidValue {
                        at,
                        reason: format!("{} is set twice (with - and with _)", setting.key),
                    });
                }
            } else if subcommands.contains(&key.as_str()) {
                if !value.is_table() {
                    return Err(ConfigError::InvalidValue {
                        at,
                        reason: format!("expected a table ([{key}]), found {}", type_name(value)),
                    });
                }
            } else {
                let hint = self.hint(&normalized, at.is_table, settings, &subcommands, tables);
                return Err(ConfigError::Unknown { at, hint });
            }
        }
        Ok(values)
    }

    fn hint(
        &self,
        key: &str,
        is_table: bool,
        settings: &[Setting],
        subcommands: &[&str],
        tables: &[String],
    ) -> Hint {
        let candidates: Vec<&str> = if is_table {
            subcommands.to_vec()
        } else {
            settings.iter().map(|setting| setting.key.as_str()).collect()
        };
        match closest(key, &candidates) {
            Some(similar) if is_table => return Hint::SimilarTable(similar.to_string()),
            Some(similar) => return Hint::Similar(similar.to_string()),
            None => {}
        }
        if is_table {
            return Hint::None;
        }
        if tables.is_empty() {
            // A subcommand's setting written at the top level.
            let owners: Vec<String> = self
                .root
                .get_subcommands()
                .filter(|sub| settings_of(sub).iter().any(|setting| setting.key == key))
                .map(|sub| sub.get_name().to_string())
                .collect();
            if !owners.is_empty() {
                return Hint::InTables(owners);
            }
        } else if settings_of(self.root).iter().any(|setting| setting.key == key) {
            return Hint::TopLevel;
        }
        Hint::None
    }
}

fn command_path(tables: &[String]) -> String {
    std::iter::once("trawl")
        .chain(tables.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

fn find_arg<'c>(command: &'c Command, id: &str) -> &'c Arg {
    command
        .get_arguments()
        .find(|arg| arg.get_id() == id)
        .expect("settings come from the command's own arguments")
}

fn with_env_help(arg: Arg, var: &str) -> Arg {
    let help = match arg.get_help() {
        Some(help) => format!("{help} [env: {var}]"),
        None => format!("[env: {var}]"),
    };
    let long_help = arg.get_long_help().map(|help| format!("{help}\n\n[env: {var}]"));
    let arg = arg.help(help);
    match long_help {
        Some(long_help) => arg.long_help(long_help),
        None => arg,
    }
}

/// A file value as the texts clap would have had on the command line.
fn file_value(kind: Kind, value: &toml::Value) -> Result<Vec<String>, String> {
    match (kind, value) {
        (Kind::Switch, toml::Value::Boolean(on)) => Ok(vec![on.to_string()]),
        (Kind::Switch, other) => Err(format!("expected true or false, found {}", type_name(other))),
        (Kind::One, toml::Value::Array(_)) => {
            Err("expected one value, found an array (only repeatable flags take several)".to_string())
        }
        (Kind::One, value) => Ok(vec![scalar(value)?]),
        (Kind::Many, toml::Value::Array(items)) => items.iter().map(scalar).collect(),
        (Kind::Many, value) => Ok(vec![scalar(value)?]),
    }
}

fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        // A table is a structured value (a [[crawl.site]] rule): its flag
        // reads it as JSON.
        toml::Value::Table(table) => serde_json::to_string(table).map_err(|e| e.to_string()),
        other => Err(format!(
            "expected a string or a number, found {}",
            type_name(other)
        )),
    }
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// An environment variable's value as the texts clap would have had on the
/// command line, each checked.
fn env_values(
    command: &Command,
    setting: &Setting,
    var: &str,
    text: &std::ffi::OsStr,
) -> Result<Vec<String>, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidEnv {
        var: var.to_string(),
        reason,
    };
    let text = text
        .to_str()
        .ok_or_else(|| invalid("not valid UTF-8".to_string()))?;
    let texts = match setting.kind {
        Kind::Switch => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => vec!["true".to_string()],
            "false" | "0" | "no" | "off" => vec!["false".to_string()],
            _ => return Err(invalid(format!("expected true or false, found {text:?}"))),
        },
        Kind::One => vec![text.to_string()],
        // Commas, not whitespace: a directory name may hold a space, and no
        // repeatable flag's values (URLs, networks, HOST=IP) need a comma.
        Kind::Many => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let arg = find_arg(command, &setting.id);
    for text in &texts {
        check_value(arg, text).map_err(invalid)?;
    }
    Ok(texts)
}

/// Runs `text` through `arg`'s own value parser, for an error that can name
/// where the text came from.
fn check_value(arg: &Arg, text: &str) -> Result<(), String> {
    let probe = Command::new("probe").no_binary_name(true).arg(
        Arg::new("value")
            .long("value")
            .action(ArgAction::Set)
            .allow_hyphen_values(true)
            .value_parser(arg.get_value_parser().clone()),
    );
    match probe.try_get_matches_from([format!("--value={text}")]) {
        Ok(_) => Ok(()),
        Err(error) => {
            let reason = match (
                std::error::Error::source(&error),
                error.get(ContextKind::ValidValue),
            ) {
                (Some(source), _) => source.to_string(),
                (None, Some(ContextValue::Strings(valid))) => format!("expected one of {}", valid.join(", ")),
                (None, _) => error.kind().to_string(),
            };
            Err(format!("invalid value {text:?}: {reason}"))
        }
    }
}

/// The candidate closest to `key`, if it is close enough to be a typo of it.
fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (strsim::jaro_winkler(key, candidate), *candidate))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

impl<P> Loaded<P> {
    /// The settings the chosen subcommand runs with, one per line with where
    /// it came from (flag, env, file or default), as TOML that reads back as
    /// a config file.
    pub fn effective_settings(&self) -> String {
        let mut names = Vec::new();
        let mut matches = &self.matches;
        while let Some((name, sub_matches)) = matches.subcommand() {
            names.push(name.to_string());
            matches = sub_matches;
        }
        let mut out = format!(
            "# Effective settings of `{}`, each with where it came from:\n\
             # a flag, an environment variable, the config file or the built-in default.\n",
            command_path(&names)
        );
        if let Some(file) = &self.file {
            out.push_str(&format!("# config file: {}\n", file.display()));
        }
        let mut command = &self.command;
        let mut matches = &self.matches;
        let mut tables = Vec::new();
        loop {
            if !tables.is_empty() {
                out.push_str(&format!("\n[{}]\n", tables.join(".")));
            }
            let path = command_path(&tables);
            for setting in settings_of(command) {
                out.push_str(&self.line(&setting, matches, &path));
                out.push('\n');
            }
            let Some((name, sub_matches)) = matches.subcommand() else {
                break;
            };
            let Some(sub) = command.find_subcommand(name) else {
                break;
            };
            tables.push(name.to_string());
            command = sub;
            matches = sub_matches;
        }
        out
    }

    fn line(&self, setting: &Setting, matches: &ArgMatches, path: &str) -> String {
        use clap::parser::ValueSource;
        let values: Vec<String> = match matches.get_raw(&setting.id) {
            Some(raw) => raw.map(|value| value.to_string_lossy().into_owned()).collect(),
            None => Vec::new(),
        };
        let origin = match matches.value_source(&setting.id) {
            None => return format!("# {} is not set", setting.key),
            Some(ValueSource::CommandLine) => "flag".to_string(),
            Some(ValueSource::EnvVariable) => "env".to_string(),
            Some(_) => match self.origins.get(&(path.to_string(), setting.id.clone())) {
                Some(Origin::Env(var)) => format!("env {var}"),
                Some(Origin::File) => "file".to_string(),
                None => "default".to_string(),
            },
        };
        if setting.secret {
            return format!(
                "# {} is set ({} value(s), secret: not shown) # {origin}",
                setting.key,
                values.len()
            );
        }
        let value = match setting.kind {
            Kind::Switch => values.first().cloned().unwrap_or_else(|| "false".to_string()),
            Kind::One => values.first().map(|value| toml_value(value)).unwrap_or_default(),
            Kind::Many => {
                let items: Vec<String> = values.iter().map(|value| toml_string(value)).collect();
                format!("[{}]", items.join(", "))
            }
        };
        format!("{:<44} # {origin}", format!("{} = {value}", setting.key))
    }
}

/// A value as TOML: bare when TOML reads it as a number, else a string
/// (either reads back as the same text).
fn toml_value(text: &str) -> String {
    let is_number = !text.contains(['\n', '\r', '#'])
        && format!("value = {text}")
            .parse::<toml::Table>()
            .ok()
            .is_some_and(|table| {
                table.len() == 1
                    && matches!(
                        table.get("value"),
                        Some(toml::Value::Integer(_) | toml::Value::Float(_))
                    )
            });
    if is_number {
        text.to_string()
    } else {
        toml_string(text)
    }
}

/// `text` as a TOML basic string, on one line whatever it holds.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Parser, Subcommand};

    /// A command line shaped like trawl's: a global switch, subcommands
    /// with flattened arguments, required ones, lists and a positional.
    #[derive(Parser, Debug)]
    #[command(name = "trawl")]
    struct Cli {
        #[arg(long, global = true)]
        log_json: bool,
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Subcommand, Debug)]
    enum Sub {
        Crawl {
            #[command(flatten)]
            crawl: CrawlArgs,
        },
        Seed {
            #[arg(long)]
            redis: Option<String>,
            #[arg(value_name = "URL", required = true)]
            urls: Vec<String>,
        },
    }

    #[derive(Args, Debug)]
    struct CrawlArgs {
        #[arg(long = "seed")]
        seeds: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        delay_ms: u64,
        #[arg(long, default_value_t = 1.0)]
        delay_factor: f64,
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        allow_private: bool,
        #[arg(long)]
        max_pages: Option<u64>,
        #[arg(long, default_value = "host", value_parser = ["host", "domain"])]
        scope: String,
        /// Structured values: each table arrives as JSON.
        #[arg(long = "site", value_parser = |text: &str| -> Result<String, String> {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .filter(|rule| rule["host"].is_string())
                .map(|_| text.to_string())
                .ok_or_else(|| "a rule needs a host".to_string())
        })]
        sites: Vec<String>,
        /// A secret: --print-config does not print it.
        #[arg(long = "search-key", hide_env_values = true)]
        search_keys: Vec<String>,
    }

    fn config_file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    fn load(
        args: &[&str],
        env: &[(&str, &str)],
        file: Option<&tempfile::NamedTempFile>,
    ) -> Result<Loaded<Cli>, ConfigError> {
        let mut argv: Vec<OsString> = vec!["trawl".into()];
        if let Some(file) = file {
            argv.push("--config".into());
            argv.push(file.path().into());
        }
        argv.extend(args.iter().map(OsString::from));
        let env = env
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)));
        try_parse_from(argv, env)
    }

    fn crawl(loaded: &Loaded<Cli>) -> &CrawlArgs {
        match &loaded.cli.command {
            Sub::Crawl { crawl } => crawl,
            Sub::Seed { .. } => panic!("not a crawl"),
        }
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
        let file = config_file("[crawl]\ndata_dir = \"/from/file\"\ndelay_ms = 111\n");
        let flag = ["crawl", "--delay-ms", "333"];
        let env = [("TRAWL_DELAY_MS", "222")];

        assert_eq!(crawl(&load(&flag, &env, Some(&file)).unwrap()).delay_ms, 333);
        assert_eq!(crawl(&load(&["crawl"], &env, Some(&file)).unwrap()).delay_ms, 222);
        assert_eq!(crawl(&load(&["crawl"], &[], Some(&file)).unwrap()).delay_ms, 111);
        let alone = load(&["crawl", "--data-dir", "d"], &[], None).unwrap();
        assert_eq!(crawl(&alone).delay_ms, 1000);
    }

    #[test]
    fn the_file_satisfies_a_required_flag_and_takes_dashes_too() {
        let file = config_file("[crawl]\ndata-dir = \"/data\"\n");
        let loaded = load(&["crawl"], &[], Some(&file)).unwrap();
        assert_eq!(crawl(&loaded).data_dir, Path::new("/data"));
        assert!(load(&["crawl"], &[], None).is_err(), "--data-dir is required");
    }

    #[test]
    fn switches_come_from_the_file_and_the_environment() {
        let file = config_file("log_json = true\n[crawl]\ndata_dir = \"d\"\nallow_private = true\n");
        let loaded = load(&["crawl"], &[], Some(&file)).unwrap();
        assert!(loaded.cli.log_json);
        assert!(crawl(&loaded).allow_private);

        let env = [("TRAWL_ALLOW_PRIVATE", "false"), ("TRAWL_LOG_JSON", "1")];
        let loaded = load(&["crawl"], &env, Some(&file)).unwrap();
        assert!(!crawl(&loaded).allow_private, "the environment beats the file");
        assert!(loaded.cli.log_json);

        let error = load(&["crawl"], &[("TRAWL_ALLOW_PRIVATE", "maybe")], Some(&file))
            .err()
            .unwrap();
        assert!(error.to_string().contains("TRAWL_ALLOW_PRIVATE"), "{error}");
    }

    #[test]
    fn lists_come_from_arrays_and_comma_separated_variables() {
        let file =
            config_file("[crawl]\ndata_dir = \"d\"\nseed = [\"http://a.test/\", \"http://b.test/\"]\n");
        let loaded = load(&["crawl"], &[], Some(&file)).unwrap();
        assert_eq!(crawl(&loaded).seeds, ["http://a.test/", "http://b.test/"]);

        let env = [("TRAWL_SEED", "http://c.test/, http://d.test/")];
        let loaded = load(&["crawl"], &env, Some(&file)).unwrap();
        assert_eq!(crawl(&loaded).seeds, ["http://c.test/", "http://d.test/"]);

        // Flags replace the list; they do not add to it.
        let loaded = load(&["crawl", "--seed", "http://e.test/"], &env, Some(&file)).unwrap();
        assert_eq!(crawl(&loaded).seeds, ["http://e.test/"]);
    }

    #[test]
    fn tables_reach_their_flag_as_json_and_bad_ones_are_named() {
        let file = config_file(
            "[crawl]\ndata_dir = \"d\"\n[[crawl.site]]\nhost = \"a.test\"\ndelay_ms = 500\n\n[[crawl.site]]\nhost = \"*.b.test\"\nexclude = [\"/x\"]\n",
        );
        let loaded = load(&["crawl"], &[], Some(&file)).unwrap();
        let rules: Vec<serde_json::Value> = crawl(&loaded)
            .sites
            .iter()
            .map(|text| serde_json::from_str(text).unwrap())
            .collect();
        assert_eq!(
            rules,
            [
                serde_json::json!({"host": "a.test", "delay_ms": 500}),
                serde_json::json!({"host": "*.b.test", "exclude": ["/x"]}),
            ]
        );
        let file = config_file("[crawl]\ndata_dir = \"d\"\n[[crawl.site]]\ndelay_ms = 500\n");
        let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
        assert!(
            error.contains("[crawl] site") && error.contains("needs a host"),
            "{error}"
        );
    }

    #[test]
    fn secrets_are_not_printed() {
        let file = config_file("[crawl]\ndata_dir = \"d\"\nsearch_key = [\"a-secret-key-of-some-length\"]\n");
        let loaded = load(&["crawl"], &[], Some(&file)).unwrap();
        let printed = loaded.effective_settings();
        assert!(!printed.contains("a-secret-key"), "{printed}");
        assert!(
            printed.contains("# search_key is set (1 value(s), secret: not shown) # file"),
            "{printed}"
        );
    }

    #[test]
    fn a_positional_argument_is_a_key_too() {
        let file = config_file("[seed]\nurls = [\"http://a.test/\"]\n");
        let loaded = load(&["seed"], &[], Some(&file)).unwrap();
        let Sub::Seed { urls, .. } = &loaded.cli.command else {
            panic!("not seed")
        };
        assert_eq!(urls, &["http://a.test/"]);
    }

    #[test]
    fn the_config_file_can_come_from_the_environment() {
        let file = config_file("[crawl]\ndata_dir = \"d\"\ndelay_ms = 7\n");
        let path = file.path().to_str().unwrap();
        let loaded = load(&["crawl"], &[(CONFIG_ENV, path)], None).unwrap();
        assert_eq!(crawl(&loaded).delay_ms, 7);
        let error = load(&["crawl"], &[(CONFIG_ENV, "/no/such/trawl.toml")], None)
            .err()
            .unwrap();
        assert!(error.to_string().contains("/no/such/trawl.toml"), "{error}");
    }

    #[test]
    fn unknown_keys_and_tables_are_errors_that_name_them() {
        let file = config_file("[crawl]\ndata_dir = \"d\"\ndelay = 5\n");
        let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
        assert!(error.contains(&file.path().display().to_string()), "{error}");
        assert!(
            error.contains("[crawl] delay: unknown key; did you mean delay_ms?"),
            "{error}"
        );

        let file = config_file("[crawler]\ndata_dir = \"d\"\n");
        let error = load(&["crawl", "--data-dir", "d"], &[], Some(&file))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("[crawler]: unknown table; did you mean [crawl]?"),
            "{error}"
        );

        // Every table is checked, not only the running subcommand's.
        let file = config_file("[seed]\nreddis = \"redis://127.0.0.1\"\n");
        let error = load(&["crawl", "--data-dir", "d"], &[], Some(&file))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("[seed] reddis: unknown key; did you mean redis?"),
            "{error}"
        );
    }

    #[test]
    fn misplaced_keys_say_where_they_belong() {
        let file = config_file("data_dir = \"d\"\n");
        let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
        assert!(error.contains("top-level key data_dir: unknown key"), "{error}");
        assert!(error.contains("[crawl]"), "{error}");

        let file = config_file("[crawl]\nlog_json = true\n");
        let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
        assert!(error.contains("it is a top-level key"), "{error}");
    }

    #[test]
    fn values_of_the_wrong_type_are_errors() {
        for (line, expected) in [
            ("delay_ms = \"soon\"", "invalid value \"soon\""),
            ("delay_ms = -1", "invalid value \"-1\""),
            ("delay_ms = [1, 2]", "expected one value, found an array"),
            (
                "delay_ms = true",
                "expected a string or a number, found a boolean",
            ),
            (
                "allow_private = \"yes\"",
                "expected true or false, found a string",
            ),
            (
                "scope = \"planet\"",
                "invalid value \"planet\": expected one of host, domain",
            ),
            ("seed = [1, [2]]", "expected a string or a number, found an array"),
        ] {
            let file = config_file(&format!("[crawl]\ndata_dir = \"d\"\n{line}\n"));
            let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
            let key = line.split(' ').next().unwrap();
            assert!(
                error.contains(&format!("[crawl] {key}: {expected}")),
                "{line}: {error}"
            );
        }
        let error = load(&["crawl", "--data-dir", "d"], &[("TRAWL_DELAY_MS", "soon")], None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("TRAWL_DELAY_MS: invalid value \"soon\""),
            "{error}"
        );
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let file = config_file("[crawl]\ndelay_ms = = 3\n");
        let error = load(&["crawl"], &[], Some(&file)).err().unwrap().to_string();
        assert!(error.contains(&file.path().display().to_string()), "{error}");
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn the_effective_settings_say_where_each_came_from_and_read_back() {
        let file = config_file("[crawl]\ndata_dir = \"/data\"\ndelay_factor = 2.5\n");
        let env = [("TRAWL_SEED", "http://a.test/,http://b.test/")];
        let loaded = load(&["crawl", "--delay-ms", "5", "--print-config"], &env, Some(&file)).unwrap();
        assert!(loaded.print_config);
        let report = loaded.effective_settings();
        for expected in [
            "log_json = false",
            "[crawl]",
            "seed = [\"http://a.test/\", \"http://b.test/\"]",
            "delay_ms = 5",
            "delay_factor = 2.5",
            "data_dir = \"/data\"",
            "scope = \"host\"",
            "# max_pages is not set",
        ] {
            assert!(report.contains(expected), "{expected} missing from:\n{report}");
        }
        let origin = |key: &str| {
            let line = report
                .lines()
                .find(|line| line.starts_with(&format!("{key} =")))
                .unwrap();
            line.rsplit("# ").next().unwrap().to_string()
        };
        assert_eq!(origin("delay_ms"), "flag");
        assert_eq!(origin("seed"), "env TRAWL_SEED");
        assert_eq!(origin("data_dir"), "file");
        assert_eq!(origin("delay_factor"), "file");
        assert_eq!(origin("scope"), "default");

        // The report is a config file that gives the same settings.
        let again = config_file(&report);
        let reloaded = load(&["crawl", "--print-config"], &[], Some(&again)).unwrap();
        let first = crawl(&loaded);
        let second = crawl(&reloaded);
        assert_eq!(
            (&first.seeds, first.delay_ms, first.delay_factor, &first.data_dir),
            (
                &second.seeds,
                second.delay_ms,
                second.delay_factor,
                &second.data_dir
            )
        );
    }

    #[test]
    fn numbers_print_bare_and_everything_else_quoted() {
        assert_eq!(toml_value("1000"), "1000");
        assert_eq!(toml_value("2.5"), "2.5");
        assert_eq!(toml_value("127.0.0.1:8080"), "\"127.0.0.1:8080\"");
        assert_eq!(toml_value("1\nx = 2"), "\"1\\nx = 2\"");
        assert_eq!(toml_value("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        for text in [
            "1\nx = 2",
            "a \"b\" \\ c",
            "tab\tbell\u{7}",
            "127.0.0.1:8080",
            "1e3",
            "-0.5",
        ] {
            let table: toml::Table = format!("value = {}", toml_value(text)).parse().unwrap();
            let read = match &table["value"] {
                toml::Value::String(read) => read.clone(),
                other => other.to_string(),
            };
            assert_eq!(read.parse::<f64>().ok(), text.parse::<f64>().ok(), "{text}");
            if text.parse::<f64>().is_err() {
                assert_eq!(read, text);
            }
        }
    }
}
