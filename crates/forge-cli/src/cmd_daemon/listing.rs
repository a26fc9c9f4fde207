//! `forgectl disks` and `forgectl groups`: the daemon's `ListDisks` and
//! `ListPackageGroups` as aligned tables.

use std::process::ExitCode;

use forge_proto::i18n::tr;

use super::{connect, report, run_async, Exit};
use crate::cli::{DisksArgs, GroupsArgs};

/// `1.5 GiB` style sizes.
fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

pub fn disks(_: DisksArgs) -> ExitCode {
    run_async(async {
        let daemon = connect().await?;
        let disks = daemon.list_disks().await.map_err(|e| {
            report(&e);
            Exit(1)
        })?;
        println!(
            "{:<28} {:>10}  {:<10} {:<24} {}",
            tr("DEVICE"),
            tr("SIZE"),
            tr("TRANSPORT"),
            tr("MODEL"),
            tr("NOTES")
        );
        for d in &disks {
            let mut notes = Vec::new();
            if d.in_use {
                notes.push(tr("in use"));
            }
            if d.removable {
                notes.push(tr("removable"));
            }
            if d.read_only {
                notes.push(tr("read-only"));
            }
            println!(
                "{:<28} {:>10}  {:<10} {:<24} {}",
                d.device,
                human(d.size),
                d.transport,
                d.model,
                notes.join(", ")
            );
        }
        Ok(())
    })
}

pub fn groups(_: GroupsArgs) -> ExitCode {
    run_async(async {
        let daemon = connect().await?;
        let groups = daemon.list_package_groups().await.map_err(|e| {
            report(&e);
            Exit(1)
        })?;
        println!(
            "{:<10} {:>8} {:>10} {:>10}  {:<9} {}",
            tr("GROUP"),
            tr("PACKAGES"),
            tr("DOWNLOAD"),
            tr("INSTALLED"),
            tr("REQUIRED"),
            tr("DESCRIPTION")
        );
        for g in &groups {
            println!(
                "{:<10} {:>8} {:>10} {:>10}  {:<9} {}",
                g.name,
                g.packages,
                human(g.download_size),
                human(g.installed_size),
                if g.required { tr("yes") } else { tr("no") },
                g.description
            );
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn sizes_are_binary_units() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(20 << 30), "20.0 GiB");
    }
}
