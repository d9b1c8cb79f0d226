//! Which process a manifest's run entry belongs to, so that a later run can tell a run still
//! going from one that was killed (its entry would otherwise say `running` forever).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunProcess {
    pub host: String,
    pub pid: u32,
}

impl RunProcess {
    pub fn current() -> Self {
        Self { host: host_name(), pid: std::process::id() }
    }

    /// False only when this is the process's host and the process is gone. A run on another
    /// machine (a shared results folder, a copied tree) is never declared dead from here.
    pub fn may_be_alive(&self) -> bool {
        self.host != host_name() || pid_alive(self.pid)
    }
}

fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer outlives the call and its length is passed; gethostname writes at
    // most that many bytes.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "unknown".into();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// Signal 0 checks for existence without signalling; EPERM means it exists under another
/// user. A recycled pid reads as alive, which only leaves an entry `running`.
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: kill with signal 0 sends nothing.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(RunProcess::current().may_be_alive());
        let mut child = std::process::Command::new("true").spawn().expect("spawn `true`");
        let pid = child.id();
        child.wait().expect("wait for `true`");
        let gone = RunProcess { host: host_name(), pid };
        assert!(!gone.may_be_alive());
        let elsewhere = RunProcess { host: format!("{}-elsewhere", host_name()), pid };
        assert!(elsewhere.may_be_alive(), "a run on another host is never declared dead");
    }
}
