//! Phase 10 of the seed: `<OUTPUT>.manifest`, a sorted-per-section text
//! file recording the build's parameters, every input's and output's
//! SHA-256 and each tool's version. Outputs are named by role, not by path,
//! so two builds of the same inputs to different output paths have
//! identical manifests.
//!
//! ```text
//! forge-iso-manifest 1
//! param <key> <value>             profile, source_date_epoch, label, iso_uuid, verity_root_hash, ...
//! input <role> <sha256> <path>    (directories: SHA-256 of a sorted walk, see hash::tree)
//! output <role> <sha256> [<ISO byte offset> <size>]
//! tool <name> <version line>
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

/// The manifest being assembled.
#[derive(Default, Debug, Clone)]
pub struct Manifest {
    params: BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, String>,
    tools: BTreeMap<String, String>,
}

impl Manifest {
    pub fn param(&mut self, key: &str, value: impl ToString) {
        self.params.insert(key.to_owned(), value.to_string());
    }

    pub fn input(&mut self, role: &str, sha256: &str, path: &Path) {
        self.inputs
            .insert(role.to_owned(), format!("{sha256} {}", path.display()));
    }

    pub fn output(&mut self, role: &str, sha256: &str, placed: Option<(u64, u64)>) {
        let v = match placed {
            Some((offset, size)) => format!("{sha256} {offset} {size}"),
            None => sha256.to_owned(),
        };
        self.outputs.insert(role.to_owned(), v);
    }

    pub fn tools(&mut self, tools: BTreeMap<String, String>) {
        self.tools = tools;
    }

    /// The manifest text.
    pub fn render(&self) -> String {
        let mut s = String::from("forge-iso-manifest 1\n");
        for (kind, map) in [
            ("param", &self.params),
            ("input", &self.inputs),
            ("output", &self.outputs),
            ("tool", &self.tools),
        ] {
            for (k, v) in map {
                s.push_str(&format!("{kind} {k} {v}\n"));
            }
        }
        s
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.render()).with_context(|| format!("writing {}", path.display()))
    }
}

/// A `param` value from a rendered manifest (e.g. `verity_root_hash`).
pub fn read_param(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("param ")?
                .strip_prefix(key)?
                .strip_prefix(' ')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_sections_and_reads_params_back() {
        let mut m = Manifest::default();
        m.param("source_date_epoch", 5);
        m.param("label", "IGOS_LIVE");
        m.input("kernel", "aa", Path::new("/t/boot/vmlinuz-1"));
        m.output("iso", "bb", None);
        m.output("filesystem.squashfs", "cc", Some((4096, 8192)));
        let text = m.render();
        assert_eq!(
            text,
            "forge-iso-manifest 1\nparam label IGOS_LIVE\nparam source_date_epoch 5\n\
             input kernel aa /t/boot/vmlinuz-1\noutput filesystem.squashfs cc 4096 8192\noutput iso bb\n"
        );
        assert_eq!(read_param(&text, "label").as_deref(), Some("IGOS_LIVE"));
        assert_eq!(read_param(&text, "lab"), None);
    }
}
