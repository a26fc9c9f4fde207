//! `ListDisks`: the disks an install could go to, from `lsblk`, plus (only
//! when the daemon configuration allows image targets) the image files in
//! `image_dir`. A disk is `in_use` when lsblk shows it or a partition
//! mounted, or when [`blockdev::busy`] says so (mounted, swap, held by LVM,
//! md or device-mapper, member of a mounted btrfs): the verdict the validate
//! phase refuses a target on. Devices the target policy never accepts
//! (zram, loop, ...; [`blockdev::kind_refusal`]) are not listed. The record
//! and its `a{sv}` form are `forge_proto::wire::DiskInfo`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use forge_proto::wire::DiskInfo;
use serde::Deserialize;

use crate::config::DaemonConfig;
use crate::resources::{blockdev, command};

/// Longest `lsblk` may take.
const LSBLK_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Deserialize)]
struct Lsblk {
    blockdevices: Vec<Dev>,
}

#[derive(Debug, Deserialize)]
struct Dev {
    path: Option<String>,
    model: Option<String>,
    size: Option<u64>,
    rm: Option<bool>,
    ro: Option<bool>,
    tran: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    mountpoints: Vec<Option<String>>,
    #[serde(default)]
    children: Vec<Dev>,
}

impl Dev {
    fn in_use(&self) -> bool {
        self.mountpoints.iter().any(|m| m.is_some()) || self.children.iter().any(Dev::in_use)
    }
}

/// Parses `lsblk --json --bytes -o PATH,MODEL,SIZE,RM,RO,TRAN,TYPE,MOUNTPOINTS`.
pub fn parse_lsblk(json: &str) -> Result<Vec<DiskInfo>, serde_json::Error> {
    let l: Lsblk = serde_json::from_str(json)?;
    Ok(l.blockdevices
        .iter()
        .filter(|d| d.kind.as_deref() == Some("disk") && d.size.unwrap_or(0) > 0)
        .filter_map(|d| {
            Some(DiskInfo {
                device: d.path.clone()?,
                model: d.model.clone().unwrap_or_default().trim().to_string(),
                size: d.size.unwrap_or(0),
                removable: d.rm.unwrap_or(false),
                read_only: d.ro.unwrap_or(false),
                transport: d.tran.clone().unwrap_or_default(),
                in_use: d.in_use(),
            })
        })
        .collect())
}

/// Runs lsblk and lists the disks (and allowed image files).
pub fn list(config: &DaemonConfig) -> Result<Vec<DiskInfo>, String> {
    // An unauthenticated call: lsblk gets a deadline (and is killed after
    // it), so a hung device cannot pile up blocked calls.
    let out = command::run(
        Command::new("lsblk").args([
            "--json",
            "--bytes",
            "-o",
            "PATH,MODEL,SIZE,RM,RO,TRAN,TYPE,MOUNTPOINTS",
        ]),
        LSBLK_TIMEOUT,
    )
    .map_err(|e| e.to_string())?;
    let mut disks = parse_lsblk(&out.stdout).map_err(|e| format!("parsing lsblk output: {e}"))?;
    disks.retain_mut(|d| match blockdev::dev_of(Path::new(&d.device)) {
        Some(dev) => {
            d.in_use |= blockdev::busy(dev).is_some();
            blockdev::kind_refusal(dev).is_none_or(|k| k == blockdev::Refused::ReadOnly)
        }
        None => true,
    });
    if config.allow_image_targets {
        disks.extend(image_files(config));
    }
    Ok(disks)
}

fn image_files(config: &DaemonConfig) -> Vec<DiskInfo> {
    let Ok(dir) = std::fs::read_dir(&config.image_dir) else {
        return Vec::new();
    };
    let mut v: Vec<DiskInfo> = dir
        .flatten()
        .filter_map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).ok()?;
            if !meta.is_file() {
                return None;
            }
            Some(DiskInfo {
                device: e.path().to_string_lossy().into_owned(),
                model: String::new(),
                size: meta.len(),
                removable: false,
                read_only: false,
                transport: "image".into(),
                in_use: false,
            })
        })
        .collect();
    v.sort_by(|a, b| a.device.cmp(&b.device));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lsblk_and_marks_mounted_disks_in_use() {
        let json = r#"{"blockdevices":[
          {"path":"/dev/zram0","model":null,"size":0,"rm":false,"ro":false,"tran":null,"type":"disk","mountpoints":[null]},
          {"path":"/dev/sda","model":"Disk A  ","size":1000,"rm":false,"ro":false,"tran":"sata","type":"disk","mountpoints":[null],
           "children":[{"path":"/dev/sda1","model":null,"size":900,"rm":false,"ro":false,"tran":null,"type":"part","mountpoints":["/"]}]},
          {"path":"/dev/sdb","model":"Stick","size":2000,"rm":true,"ro":false,"tran":"usb","type":"disk","mountpoints":[null]},
          {"path":"/dev/sr0","model":"DVD","size":3000,"rm":true,"ro":true,"tran":"sata","type":"rom","mountpoints":[null]}
        ]}"#;
        let d = parse_lsblk(json).expect("parses");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].device, "/dev/sda");
        assert_eq!(d[0].model, "Disk A");
        assert!(d[0].in_use);
        assert_eq!(d[1].transport, "usb");
        assert!(d[1].removable && !d[1].in_use);
        assert!(parse_lsblk("not json").is_err());
    }
}
