//! The kernel modules the live init loads, resolved with the live tree's
//! own `modules.dep` (never the host's kernel): each wanted module with its
//! dependencies, in an order in which `insmod` can load them (dependencies
//! first). Modules built into the kernel (`modules.builtin`) need nothing.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};

/// The module's name as the kernel spells it: file name without `.ko*`,
/// dashes as underscores.
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

/// `modules.dep` parsed: module name -> (its file, relative to
/// /lib/modules/<release>, and its dependencies' files).
pub struct ModuleDeps {
    by_name: BTreeMap<String, (String, Vec<String>)>,
    builtin: BTreeSet<String>,
}

impl ModuleDeps {
    /// Parses `modules.dep` and `modules.builtin` text.
    pub fn parse(dep: &str, builtin: &str) -> Result<ModuleDeps> {
        let mut by_name = BTreeMap::new();
        for line in dep.lines().filter(|l| !l.trim().is_empty()) {
            let (file, deps) = line
                .split_once(':')
                .with_context(|| format!("modules.dep line without ':': {line:?}"))?;
            let deps = deps.split_whitespace().map(str::to_string).collect();
            by_name.insert(module_name(file), (file.to_string(), deps));
        }
        let builtin = builtin
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(module_name)
            .collect();
        Ok(ModuleDeps { by_name, builtin })
    }

    /// The module files to load for `wanted`, dependencies first, each once.
    /// A wanted module that is built in is skipped; one that is in neither
    /// list is an error unless it is in `optional`.
    pub fn load_order(&self, wanted: &[&str], optional: &[&str]) -> Result<Vec<String>> {
        let mut order = Vec::new();
        let mut placed = BTreeSet::new();
        for w in wanted.iter().chain(optional) {
            let name = module_name(w);
            if self.builtin.contains(&name) {
                continue;
            }
            let Some((file, _)) = self.by_name.get(&name) else {
                if optional.contains(w) {
                    continue;
                }
                bail!("kernel module {w} is neither in modules.dep nor built in");
            };
            self.place(file, &mut placed, &mut order, 0)?;
        }
        Ok(order)
    }

    fn place(
        &self,
        file: &str,
        placed: &mut BTreeSet<String>,
        order: &mut Vec<String>,
        depth: usize,
    ) -> Result<()> {
        if placed.contains(file) {
            return Ok(());
        }
        if depth > 64 {
            bail!("module dependency loop at {file}");
        }
        let (_, deps) = self.by_name.get(&module_name(file)).with_context(|| {
            format!("{file} is named in modules.dep but has no line of its own")
        })?;
        for d in deps {
            self.place(d, placed, order, depth + 1)?;
        }
        placed.insert(file.to_string());
        order.push(file.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko\n\
                       kernel/drivers/md/dm-bufio.ko:\n\
                       kernel/drivers/md/dm-mod.ko:\n\
                       kernel/fs/squashfs/squashfs.ko:\n\
                       kernel/drivers/scsi/sr_mod.ko: kernel/drivers/cdrom/cdrom.ko\n\
                       kernel/drivers/cdrom/cdrom.ko:\n";

    #[test]
    fn dependencies_come_first_once() {
        let m = ModuleDeps::parse(DEP, "kernel/fs/isofs/isofs.ko\n").unwrap();
        let order = m
            .load_order(
                &["dm_verity", "squashfs", "dm-mod", "isofs"],
                &["sr_mod", "nope"],
            )
            .unwrap();
        assert_eq!(
            order,
            [
                "kernel/drivers/md/dm-bufio.ko",
                "kernel/drivers/md/dm-mod.ko",
                "kernel/drivers/md/dm-verity.ko",
                "kernel/fs/squashfs/squashfs.ko",
                "kernel/drivers/cdrom/cdrom.ko",
                "kernel/drivers/scsi/sr_mod.ko",
            ]
        );
        assert!(m.load_order(&["nope"], &[]).is_err());
    }

    #[test]
    fn names_normalize() {
        assert_eq!(
            module_name("kernel/drivers/md/dm-verity.ko.xz"),
            "dm_verity"
        );
        assert_eq!(module_name("virtio_scsi"), "virtio_scsi");
    }
}
