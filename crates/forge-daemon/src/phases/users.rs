//! Phase `users`: the root password and the first user, written offline into
//! the target's /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow (no
//! `useradd`/`chpasswd`: a password must never be an argument or cross a
//! pipe to a tool). An admin user joins `wheel` (created when missing); the
//! home directory is a copy of /etc/skel owned by the user.
//!
//! Hash scheme: the target's `/etc/login.defs` `ENCRYPT_METHOD` when it
//! names one (YESCRYPT or SHA512); otherwise yescrypt when the target ships
//! libxcrypt (`libcrypt.so.1`, what Debian's PAM uses), else SHA-512 crypt,
//! which every crypt(3) — busybox's included — understands.

use std::path::Path;

use forge_proto::i18n::{tr, trf};

use crate::pipeline::{JobContext, PhaseError};
use crate::resources::passwd_hash::{self, Scheme};
use forge_payload::confined;

/// One of the colon-separated account databases, kept as lines so entries
/// FORGE does not touch stay byte for byte.
#[derive(Debug, Default, Clone)]
pub struct Table {
    pub lines: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str) -> Table {
        Table {
            lines: text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.split(':').map(str::to_string).collect())
                .collect(),
        }
    }
    pub fn render(&self) -> String {
        self.lines.iter().map(|l| l.join(":") + "\n").collect()
    }
    pub fn find(&self, name: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| l.first().map(String::as_str) == Some(name))
    }
    /// Replaces the entry named `fields[0]` or appends it.
    pub fn upsert(&mut self, fields: Vec<String>) {
        match self.find(&fields[0]) {
            Some(i) => self.lines[i] = fields,
            None => self.lines.push(fields),
        }
    }
    /// Numeric ids in column `col` (2 for uid/gid).
    pub fn ids(&self, col: usize) -> Vec<u32> {
        self.lines
            .iter()
            .filter_map(|l| l.get(col).and_then(|v| v.parse().ok()))
            .collect()
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

/// The first id >= `min` (and < 60000) used by neither table.
fn free_id(a: &[u32], b: &[u32], min: u32) -> Option<u32> {
    (min..60000).find(|id| !a.contains(id) && !b.contains(id))
}

/// GECOS may not contain ':' or ',' or a newline.
fn gecos(full_name: &str) -> String {
    full_name
        .chars()
        .filter(|c| !matches!(c, ':' | ',' | '\n' | '\r'))
        .collect()
}

fn read(root: &Path, rel: &str) -> Result<String, PhaseError> {
    let bytes = confined::read_file(root, Path::new(rel)).map_err(|e| {
        PhaseError::new(
            tr("Could not read the new system's account files"),
            e.to_string(),
        )
    })?;
    Ok(String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned())
}

/// The hash scheme the target expects (see the module doc).
pub fn scheme_for(root: &Path) -> Scheme {
    let defs = confined::read_file(root, Path::new("etc/login.defs"))
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    for line in defs.lines() {
        let mut it = line.split_whitespace();
        if it.next() == Some("ENCRYPT_METHOD") {
            match it.next().map(str::to_ascii_uppercase).as_deref() {
                Some("YESCRYPT") => return Scheme::Yescrypt,
                Some("SHA512") => return Scheme::Sha512,
                _ => {}
            }
        }
    }
    let libxcrypt = [
        "usr/lib/x86_64-linux-gnu/libcrypt.so.1",
        "lib/x86_64-linux-gnu/libcrypt.so.1",
        "usr/lib/libcrypt.so.1",
        "usr/lib64/libcrypt.so.1",
    ];
    if libxcrypt
        .iter()
        .any(|p| confined::exists(root, Path::new(p)))
    {
        Scheme::Yescrypt
    } else {
        Scheme::Sha512
    }
}

/// Days since the epoch, for shadow's "last change" field.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86400).to_string()
}

pub fn run(ctx: &mut JobContext) -> Result<(), PhaseError> {
    let user = ctx.plan.user.clone();
    if ctx.dry_run {
        ctx.operation(&tr("set the root password in /etc/shadow (hashed)"));
        ctx.operation(&trf(
            "create the user {user} with a home directory from /etc/skel",
            &[("user", &user.name)],
        ));
        if user.admin {
            ctx.operation(&trf(
                "add {user} to the group wheel",
                &[("user", &user.name)],
            ));
        }
        return Ok(());
    }
    let failed = tr("Could not create the user accounts");
    let root = ctx.state.root()?;
    let mut passwd = Table::parse(&read(&root, "etc/passwd")?);
    let mut group = Table::parse(&read(&root, "etc/group")?);
    let mut shadow = Table::parse(&read(&root, "etc/shadow")?);
    let mut gshadow = Table::parse(&read(&root, "etc/gshadow")?);
    let shell = ["bin/bash", "usr/bin/bash"]
        .iter()
        .find(|p| confined::exists(&root, Path::new(p)))
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| "/bin/sh".into());

    if passwd.find("root").is_none() {
        passwd.upsert(vec![
            s("root"),
            s("x"),
            s("0"),
            s("0"),
            s("root"),
            s("/root"),
            shell.clone(),
        ]);
    }
    if group.find("root").is_none() {
        group.upsert(vec![s("root"), s("x"), s("0"), s("")]);
    }
    let scheme = scheme_for(&root);
    ctx.log_line(&format!("password scheme: {scheme:?}"));
    let hash_of = |secret: &forge_proto::Secret| -> Result<String, PhaseError> {
        if secret.is_empty() {
            // No password: locked (log in through the admin user and sudo).
            return Ok(s("!"));
        }
        passwd_hash::hash(secret.expose(), scheme)
            .map_err(|d| PhaseError::new(tr("Could not hash the password"), d))
    };
    let root_hash = hash_of(&ctx.io.root_password)?;
    let user_hash = hash_of(&ctx.io.user_password)?;
    let day = today();
    shadow.upsert(vec![
        s("root"),
        root_hash,
        day.clone(),
        s("0"),
        s("99999"),
        s("7"),
        s(""),
        s(""),
        s(""),
    ]);
    ctx.log_line("root password set (hashed)");

    if passwd.find(&user.name).is_some() || group.find(&user.name).is_some() {
        return Err(PhaseError::new(
            trf(
                "user.name: {name} already exists in the installed system",
                &[("name", &user.name)],
            ),
            format!("{} is already in the target's passwd or group", user.name),
        ));
    }
    let (uids, gids) = (passwd.ids(2), group.ids(2));
    let Some(uid) = free_id(&uids, &gids, 1000) else {
        return Err(PhaseError::new(failed, "no free uid/gid at or above 1000"));
    };
    let home = format!("/home/{}", user.name);
    passwd.upsert(vec![
        user.name.clone(),
        s("x"),
        uid.to_string(),
        uid.to_string(),
        gecos(&user.full_name),
        home.clone(),
        shell,
    ]);
    group.upsert(vec![user.name.clone(), s("x"), uid.to_string(), s("")]);
    shadow.upsert(vec![
        user.name.clone(),
        user_hash,
        day,
        s("0"),
        s("99999"),
        s("7"),
        s(""),
        s(""),
        s(""),
    ]);
    gshadow.upsert(vec![user.name.clone(), s("!"), s(""), s("")]);
    if user.admin {
        if group.find("wheel").is_none() {
            let gid = if gids.contains(&10) {
                free_id(&uids, &gids, 100).unwrap_or(999)
            } else {
                10
            };
            group.upsert(vec![s("wheel"), s("x"), gid.to_string(), s("")]);
            ctx.log_line(&format!("created group wheel ({gid})"));
        }
        for table in [&mut group, &mut gshadow] {
            if table.find("wheel").is_none() {
                table.upsert(vec![s("wheel"), s("!"), s(""), s("")]);
            }
            let i = table.find("wheel").unwrap_or(0);
            let line = &mut table.lines[i];
            line.resize(4, String::new());
            let mut members: Vec<String> = line[3]
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            if !members.contains(&user.name) {
                members.push(user.name.clone());
            }
            line[3] = members.join(",");
        }
    }

    // shadow files: 0640 root:shadow when the group exists, else 0600.
    let (smode, sgid) = match group.find("shadow") {
        Some(i) => (
            0o640,
            group.lines[i]
                .get(2)
                .and_then(|g| g.parse().ok())
                .unwrap_or(0),
        ),
        None => (0o600, 0),
    };
    let write = |rel: &str, t: &Table, mode: u32, gid: u32| {
        confined::write_file_owned(&root, Path::new(rel), t.render().as_bytes(), mode, 0, gid)
            .map_err(|e| PhaseError::new(tr("Could not create the user accounts"), e.to_string()))
    };
    write("etc/passwd", &passwd, 0o644, 0)?;
    write("etc/group", &group, 0o644, 0)?;
    write("etc/shadow", &shadow, smode, sgid)?;
    write("etc/gshadow", &gshadow, smode, sgid)?;
    ctx.log_line(&format!(
        "user {} uid {uid}{} (password hashed)",
        user.name,
        if user.admin { ", group wheel" } else { "" }
    ));

    let home_rel = Path::new(home.trim_start_matches('/'));
    let skel = Path::new("etc/skel");
    let r = if confined::exists(&root, skel) {
        confined::copy_tree_owned(&root, skel, home_rel, uid, uid)
    } else {
        confined::mkdir_owned(&root, home_rel, 0o700, uid, uid)
    };
    r.map_err(|e| PhaseError::new(failed.clone(), e.to_string()))?;
    confined::mkdir_owned(&root, home_rel, 0o700, uid, uid)
        .map_err(|e| PhaseError::new(failed, e.to_string()))?;
    ctx.log_line(&format!("home {home} from /etc/skel"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_and_upsert() {
        let mut t = Table::parse("root:x:0:0:root:/root:/bin/sh\nbin:x:1:1::/:/bin/false\n");
        assert_eq!(
            t.render(),
            "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1::/:/bin/false\n"
        );
        t.upsert(vec![s("alice"), s("x"), s("1000")]);
        assert_eq!(t.find("alice"), Some(2));
        assert_eq!(t.ids(2), vec![0, 1, 1000]);
        assert_eq!(free_id(&[1000, 1001], &[1002], 1000), Some(1003));
        assert_eq!(gecos("A:b,c"), "Abc");
    }
}
