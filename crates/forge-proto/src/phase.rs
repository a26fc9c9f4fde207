//! The 13 phases of an install, in order, and the states of a job. These are
//! machine-readable names on the wire; frontends map them to translated labels.

use serde::{Deserialize, Serialize};

/// One phase of the install pipeline (docs/design.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Validate,
    Verify,
    Partition,
    Mount,
    VirtualFs,
    Packages,
    Config,
    Users,
    Mok,
    Bootloader,
    Hooks,
    Services,
    Cleanup,
}

impl Phase {
    /// Every phase, in the order the pipeline runs them.
    pub const ALL: [Phase; 13] = [
        Phase::Validate,
        Phase::Verify,
        Phase::Partition,
        Phase::Mount,
        Phase::VirtualFs,
        Phase::Packages,
        Phase::Config,
        Phase::Users,
        Phase::Mok,
        Phase::Bootloader,
        Phase::Hooks,
        Phase::Services,
        Phase::Cleanup,
    ];

    /// The wire name: `validate`, `virtual-fs`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Validate => "validate",
            Phase::Verify => "verify",
            Phase::Partition => "partition",
            Phase::Mount => "mount",
            Phase::VirtualFs => "virtual-fs",
            Phase::Packages => "packages",
            Phase::Config => "config",
            Phase::Users => "users",
            Phase::Mok => "mok",
            Phase::Bootloader => "bootloader",
            Phase::Hooks => "hooks",
            Phase::Services => "services",
            Phase::Cleanup => "cleanup",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Zero-based position in [`Phase::ALL`].
    pub fn index(self) -> u32 {
        Phase::ALL.iter().position(|p| *p == self).unwrap_or(0) as u32
    }

    /// A short translated label for people.
    pub fn label(self) -> String {
        use crate::i18n::tr;
        match self {
            Phase::Validate => tr("Checking the plan"),
            Phase::Verify => tr("Verifying packages"),
            Phase::Partition => tr("Partitioning the disk"),
            Phase::Mount => tr("Mounting file systems"),
            Phase::VirtualFs => tr("Preparing the system"),
            Phase::Packages => tr("Installing packages"),
            Phase::Config => tr("Writing configuration"),
            Phase::Users => tr("Creating users"),
            Phase::Mok => tr("Creating the Secure Boot key"),
            Phase::Bootloader => tr("Installing the boot loader"),
            Phase::Hooks => tr("Running package scripts"),
            Phase::Services => tr("Enabling services"),
            Phase::Cleanup => tr("Finishing up"),
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `State` property of a job object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    Running,
    AwaitingOverride,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::AwaitingOverride => "awaiting-override",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<JobState> {
        [
            JobState::Running,
            JobState::AwaitingOverride,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// True once the job has said its last word.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_phases_in_design_order() {
        let names: Vec<_> = Phase::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "validate",
                "verify",
                "partition",
                "mount",
                "virtual-fs",
                "packages",
                "config",
                "users",
                "mok",
                "bootloader",
                "hooks",
                "services",
                "cleanup"
            ]
        );
        for (i, p) in Phase::ALL.iter().enumerate() {
            assert_eq!(p.index() as usize, i);
            assert_eq!(Phase::from_name(p.as_str()), Some(*p));
        }
    }
}
