//! The D-Bus contract as data: every method, signal and property of
//! `org.intergenos.Forge1.Installer` and `org.intergenos.Forge1.Job` with its
//! D-Bus signature. The daemon's introspection is checked against this table
//! (forge-daemon's `service::contract_tests`), and the same test calls every
//! [`crate::dbus`] proxy method, reads every property and decodes every
//! signal against the served daemon, so the daemon, this table and the
//! proxies cannot drift apart.

use crate::dbus::{INSTALLER_INTERFACE, JOB_INTERFACE};

/// What kind of interface member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Method,
    Signal,
    Property,
}

/// One member and its signature: for a method its in- and out-arguments,
/// for a signal its arguments (`out` empty), for a property its type (`out`
/// is the access, `read` here).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    pub kind: Kind,
    pub name: String,
    pub args: String,
    pub out: String,
}

impl Member {
    fn new(kind: Kind, name: &str, args: &str, out: &str) -> Member {
        Member {
            kind,
            name: name.into(),
            args: args.into(),
            out: out.into(),
        }
    }
}

/// The agreed members of `interface` (one of the two FORGE interfaces),
/// sorted; empty for any other name.
pub fn members(interface: &str) -> Vec<Member> {
    use Kind::*;
    let mut v = match interface {
        INSTALLER_INTERFACE => vec![
            Member::new(Method, "ListDisks", "", "aa{sv}"),
            Member::new(Method, "ListPackageGroups", "", "aa{sv}"),
            Member::new(Method, "ValidatePlan", "s", "a(ss)"),
            Member::new(Method, "Install", "sa{sv}", "o"),
            Member::new(Property, "Version", "s", "read"),
            Member::new(Property, "ActiveJob", "o", "read"),
        ],
        JOB_INTERFACE => vec![
            Member::new(Method, "OverrideIntegrity", "s", ""),
            Member::new(Method, "Cancel", "", ""),
            Member::new(Property, "State", "s", "read"),
            Member::new(Property, "Phase", "s", "read"),
            Member::new(Property, "PhaseIndex", "u", "read"),
            Member::new(Property, "PhaseCount", "u", "read"),
            Member::new(Property, "Fraction", "d", "read"),
            Member::new(Property, "PhaseCompleted", "s", "read"),
            Member::new(Property, "Warnings", "as", "read"),
            Member::new(Signal, "PhaseStarted", "su", ""),
            Member::new(Signal, "PhaseFinished", "su", ""),
            Member::new(Signal, "Progress", "ds", ""),
            Member::new(Signal, "Warning", "s", ""),
            Member::new(Signal, "IntegrityFailed", "a(sss)s", ""),
            Member::new(Signal, "Finished", "bssas", ""),
        ],
        _ => Vec::new(),
    };
    v.sort();
    v
}

/// The members of `interface` in introspection XML, in the same form as
/// [`members`] (sorted). `Err` when the XML does not parse or lacks the
/// interface.
pub fn introspected(xml: &str, interface: &str) -> Result<Vec<Member>, String> {
    // Introspection XML starts with a DOCTYPE.
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, opts).map_err(|e| e.to_string())?;
    let iface = doc
        .descendants()
        .find(|n| n.has_tag_name("interface") && n.attribute("name") == Some(interface))
        .ok_or_else(|| format!("no interface {interface} in the introspection"))?;
    let args = |n: roxmltree::Node<'_, '_>, dir: &str, default: &str| -> String {
        n.children()
            .filter(|a| a.has_tag_name("arg"))
            .filter(|a| a.attribute("direction").unwrap_or(default) == dir)
            .filter_map(|a| a.attribute("type"))
            .collect()
    };
    let mut v = Vec::new();
    for n in iface.children().filter(|n| n.is_element()) {
        let name = n.attribute("name").unwrap_or_default();
        let m = match n.tag_name().name() {
            "method" => Member::new(
                Kind::Method,
                name,
                &args(n, "in", "in"),
                &args(n, "out", "in"),
            ),
            "signal" => Member::new(Kind::Signal, name, &args(n, "out", "out"), ""),
            "property" => Member::new(
                Kind::Property,
                name,
                n.attribute("type").unwrap_or_default(),
                n.attribute("access").unwrap_or_default(),
            ),
            _ => continue,
        };
        v.push(m);
    }
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_xml_reads_into_members() {
        let xml = r#"<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node><interface name="org.intergenos.Forge1.Installer">
            <method name="ValidatePlan"><arg name="yaml" type="s" direction="in"/>
              <arg type="a(ss)" direction="out"/></method>
            <method name="Install"><arg type="s" direction="in"/><arg type="a{sv}" direction="in"/>
              <arg type="o" direction="out"/></method>
            <method name="ListDisks"><arg type="aa{sv}" direction="out"/></method>
            <method name="ListPackageGroups"><arg type="aa{sv}" direction="out"/></method>
            <property name="Version" type="s" access="read"/>
            <property name="ActiveJob" type="o" access="read"/>
          </interface></node>"#;
        assert_eq!(
            introspected(xml, INSTALLER_INTERFACE).as_ref(),
            Ok(&members(INSTALLER_INTERFACE))
        );
        assert!(introspected(xml, JOB_INTERFACE).is_err());
        assert!(introspected("<node", JOB_INTERFACE).is_err());
    }
}
