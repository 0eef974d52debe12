//! Everything loaded from files, validated in one pass: config, rules, policy, templates,
//! knowledge base.
//!
//! `srgate check`, start-up and (later) reload all go through [`Setup::load`],
//! which reports every problem of every file at once, each with file and line.

use std::path::Path;

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::kb::Kb;
use crate::policy::Policy;
use crate::rules::{POLICY_FILE, RosterCse, RosterView, RuleSet};
use crate::template::Templates;

/// A validated, ready-to-use set of files.
#[derive(Debug)]
pub struct Setup {
    /// The configuration.
    pub config: Config,
    /// The rules, in evaluation order.
    pub rules: RuleSet,
    /// Business hours, holidays, targets.
    pub policy: Policy,
    /// The mail templates.
    pub templates: Templates,
    /// The knowledge-base articles (empty without a `kb/` folder).
    pub kb: Kb,
}

/// What the rules may name: the roster's engineers and the products they list.
pub fn roster_view(config: &Config) -> RosterView {
    let cses = config.cses.iter().map(|c| RosterCse { name: c.name.clone(), email: c.email.clone() }).collect();
    let listed: Vec<String> = config.cses.iter().filter_map(|c| c.products.clone()).flatten().collect();
    let every_cse_any_product = config.cses.iter().any(|c| c.products.is_none());
    let pools = (!listed.is_empty() && !every_cse_any_product).then_some(listed);
    let addresses = Some(config.own_addresses().into_iter().map(str::to_string).collect());
    RosterView { cses, pools, addresses }
}

impl Setup {
    /// Loads and checks everything the config file points to.
    pub fn load(config_path: &Path) -> Result<Setup, Diagnostics> {
        let config = Config::load(config_path, &crate::io::access::lookup_group)?;
        let mut errors: Vec<Diagnostic> = Vec::new();
        let rules = RuleSet::load_dir(&config.rules_dir, &roster_view(&config)).map_err(|d| errors.extend(d.0)).ok();
        let policy_path = config.rules_dir.join(POLICY_FILE);
        let policy =
            if policy_path.exists() { Policy::load(&policy_path).map_err(|d| errors.extend(d.0)).ok() } else { Some(Policy::standard()) };
        let templates = Templates::load_with(&config.templates_dir, &config.address_templates()).map_err(|d| errors.extend(d.0)).ok();
        let kb = load_kb(&config.kb_dir, config.kb_dir_set).map_err(|d| errors.extend(d.0)).ok();
        match (rules, policy, templates, kb) {
            (Some(rules), Some(policy), Some(templates), Some(kb)) if errors.is_empty() => {
                Ok(Setup { config, rules, policy, templates, kb })
            }
            _ => Err(Diagnostics(errors)),
        }
    }
}

/// Reads every `*.toml` file of the knowledge-base folder, in file-name order, and
/// compiles them (see [`crate::kb`]). A missing folder is no knowledge base, unless
/// the config named it (`explicit`): then it is an error.
pub fn load_kb(dir: &Path, explicit: bool) -> Result<Kb, Diagnostics> {
    if !explicit && !dir.exists() {
        return Ok(Kb::default());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| crate::kb::folder_error(dir, format!("kb_dir: cannot read the folder: {e}")))?;
    let mut errors = Vec::new();
    let mut paths: Vec<std::path::PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) if e.path().extension().is_some_and(|x| x == "toml") && e.path().is_file() => paths.push(e.path()),
            Ok(_) => {}
            Err(e) => errors.push(Diagnostic::in_file(dir, format!("cannot list the folder: {e}"))),
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let mut sources = Vec::new();
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(text) => sources.push((p, text)),
            Err(e) => errors.push(Diagnostic::in_file(&p, format!("cannot read: {e}"))),
        }
    }
    let borrowed: Vec<(&Path, &str)> = sources.iter().map(|(p, t)| (p.as_path(), t.as_str())).collect();
    match Kb::compile(&borrowed) {
        Ok(kb) if errors.is_empty() => Ok(kb),
        Ok(_) => Err(Diagnostics(errors)),
        Err(Diagnostics(more)) => {
            errors.extend(more);
            Err(Diagnostics(errors))
        }
    }
}
