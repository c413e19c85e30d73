//! Reading the current machine: the components a host-ID code is built from.
//!
//! Only what the code needs is read, and nothing is refreshed wholesale:
//!
//! | component | Linux | elsewhere |
//! | --- | --- | --- |
//! | machine identity | `/etc/machine-id`, else `/var/lib/dbus/machine-id` | `/etc/hostid` (BSDs); not read on Windows / macOS |
//! | DMI product UUID | `/sys/class/dmi/id/product_uuid` (root only) | not read |
//! | MAC addresses | `/sys/class/net/*` | sysinfo's network list (no statistics refresh) |
//! | CPU vendor + brand | first block of `/proc/cpuinfo` | sysinfo's CPU list (no usage refresh) |
//!
//! The whole probe takes well under a millisecond (see `benches/gethostid.rs`), so a server can
//! call [`current`] or [`current_strong`] every time it loads an activation file. One probe
//! gives both forms: [`Probe::strong_host_id`], then [`HostId::to_short`] for the short code
//! (the same as [`Probe::host_id`]).

use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::code::{ComponentKind, Components, HostId};
use crate::error::CodeError;

/// Largest identity file read (machine-id, product_uuid, sysfs attributes).
const SMALL_FILE_LIMIT: u64 = 256;
/// Largest part of `/proc/cpuinfo` or `/proc/1/cgroup` read.
const CPUINFO_LIMIT: usize = 64 * 1024;

/// The code of this machine.
///
/// Reads the machine (see [`probe`]) and builds its code. Fails with
/// [`CodeError::TooFewComponents`] when fewer than two stable components can be read (for
/// example a container with neither a machine identity nor a physical network adapter):
/// a code from so little would be too easy to reproduce elsewhere.
///
/// ```
/// match hostid::current() {
///     Ok(code) => println!("this server: {code}"),
///     Err(e) => eprintln!("no host ID on this machine: {e}"),
/// }
/// ```
pub fn current() -> Result<HostId, CodeError> {
    probe().host_id()
}

/// The strong code of this machine: the same probe and refusal as [`current`], with 65-bit
/// fingerprints. Its [`HostId::to_short`] is what [`current`] returns, so a server that
/// checks files bound to either form probes once, with this.
///
/// ```
/// match hostid::current_strong() {
///     Ok(code) => println!("this server: {code} (short: {})", code.to_short()),
///     Err(e) => eprintln!("no host ID on this machine: {e}"),
/// }
/// ```
pub fn current_strong() -> Result<HostId, CodeError> {
    probe().strong_host_id()
}

/// Where the probe ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Environment {
    /// No sign of a hypervisor or a container.
    BareMetal,
    /// A hypervisor was detected (DMI vendor / product name, or the CPU's `hypervisor` flag).
    VirtualMachine,
    /// A container was detected (`/.dockerenv`, `/run/.containerenv`, the `container`
    /// variable, or container paths in `/proc/1/cgroup`). Takes precedence over a VM.
    Container,
}

impl Environment {
    /// Stable lower-case name, as in `gethostid --json`.
    pub fn name(self) -> &'static str {
        match self {
            Environment::BareMetal => "bare-metal",
            Environment::VirtualMachine => "virtual-machine",
            Environment::Container => "container",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something the user should know about the code of this machine. Never carries a raw value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Warning {
    /// Running in a container: its machine identity and MACs belong to the container.
    Container,
    /// Every MAC address used is locally administered (bit `0x02` of the first octet), as
    /// hypervisors and container runtimes assign them.
    LocallyAdministeredMacs,
    /// No adapter has a hardware device behind it, so interfaces were chosen by name only.
    NoHardwareAdapters {
        /// How many interfaces were used instead.
        used: usize,
    },
}

impl Warning {
    /// Stable kebab-case name of the warning.
    pub fn name(&self) -> &'static str {
        match self {
            Warning::Container => "container",
            Warning::LocallyAdministeredMacs => "locally-administered-macs",
            Warning::NoHardwareAdapters { .. } => "no-hardware-adapters",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Container => f.write_str(
                "running in a container: the code may change when the container or VM is recreated",
            ),
            Warning::LocallyAdministeredMacs => f.write_str(
                "all network adapters have locally administered MAC addresses (assigned by a \
                 hypervisor or container runtime): the code may change when the container or VM \
                 is recreated",
            ),
            Warning::NoHardwareAdapters { used } => write!(
                f,
                "no network adapter has a hardware device; using {used} interface(s) chosen by \
                 name: the code may change when the container or VM is recreated"
            ),
        }
    }
}

/// What [`probe`] found: the raw components (never printed), the environment and warnings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Probe {
    /// Raw component values. Their `Debug` output shows only which are present.
    pub components: Components,
    /// Where the probe ran.
    pub environment: Environment,
    /// What the user should know about the stability of the code.
    pub warnings: Vec<Warning>,
}

impl Probe {
    /// The component kinds found (never their values).
    pub fn kinds(&self) -> Vec<ComponentKind> {
        self.components.kinds()
    }

    /// The short code built from what was found.
    pub fn host_id(&self) -> Result<HostId, CodeError> {
        HostId::from_components(&self.components)
    }

    /// The strong code built from what was found; its [`HostId::to_short`] is
    /// [`Probe::host_id`].
    pub fn strong_host_id(&self) -> Result<HostId, CodeError> {
        HostId::strong_from_components(&self.components)
    }
}

/// Read this machine's components and environment.
pub fn probe() -> Probe {
    probe_source(&Source {
        root: Path::new("/"),
        live: true,
    })
}

/// Read the components of a Linux file tree mounted at `root` (its `etc/machine-id`,
/// `sys/class/dmi/id`, `sys/class/net`, `proc/cpuinfo`, ...) instead of this machine's.
///
/// For tests and for inspecting a mounted system. Unlike [`probe`], nothing of the running
/// process is consulted: no sysinfo fallbacks and no `container` environment variable.
/// [`current`] always reads `/`.
pub fn probe_at(root: &Path) -> Probe {
    probe_source(&Source { root, live: false })
}

/// Where the probe reads from.
struct Source<'a> {
    root: &'a Path,
    /// The running machine: sysinfo fallbacks and the process environment may be used.
    live: bool,
}

impl Source<'_> {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    /// Linux file layout: always for a given root, else on Linux only.
    fn linux(&self) -> bool {
        !self.live || cfg!(target_os = "linux")
    }

    fn read(&self, p: &str) -> Option<String> {
        read_small(self.path(p))
    }

    fn exists(&self, p: &str) -> bool {
        self.path(p).exists()
    }
}

fn probe_source(src: &Source<'_>) -> Probe {
    let cpu = read_cpu(src);
    let environment = detect_environment(src, cpu.hypervisor);
    let interfaces = list_interfaces(src);
    let selection = select_macs(&interfaces);

    let mut warnings = Vec::new();
    if environment == Environment::Container {
        warnings.push(Warning::Container);
    }
    if selection.fallback {
        warnings.push(Warning::NoHardwareAdapters {
            used: selection.names.len(),
        });
    }
    if !selection.macs.is_empty() && selection.macs.iter().all(is_locally_administered) {
        warnings.push(Warning::LocallyAdministeredMacs);
    }

    Probe {
        components: Components {
            machine_id: read_machine_id(src),
            dmi_uuid: read_dmi_uuid(src),
            macs: selection.macs,
            cpu: cpu.identity,
        },
        environment,
        warnings,
    }
}

// ---------------------------------------------------------------- files

/// Read a small text file, trimmed; `None` when missing, unreadable, empty or oversized.
fn read_small(path: impl AsRef<Path>) -> Option<String> {
    let f = fs::File::open(path).ok()?;
    let mut s = String::new();
    let n = f.take(SMALL_FILE_LIMIT + 1).read_to_string(&mut s).ok()?;
    if n as u64 > SMALL_FILE_LIMIT {
        return None;
    }
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

// ---------------------------------------------------------------- machine identity

fn read_machine_id(src: &Source<'_>) -> Option<String> {
    let candidates: &[&str] = if src.linux() {
        &["/etc/machine-id", "/var/lib/dbus/machine-id"]
    } else {
        // FreeBSD / NetBSD / DragonFly write the host UUID here at first boot.
        &["/etc/hostid", "/etc/machine-id", "/var/lib/dbus/machine-id"]
    };
    candidates
        .iter()
        .find_map(|p| src.read(p).and_then(|s| normalise_machine_id(&s)))
}

/// Accept a machine identity: 32 hex digits (dashes allowed, as in `/etc/hostid`), not all
/// zero. systemd writes `uninitialized` during first boot: refused.
pub(crate) fn normalise_machine_id(raw: &str) -> Option<String> {
    let hex = hex_digits(raw)?;
    if hex.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(hex)
}

fn hex_digits(raw: &str) -> Option<String> {
    let hex: String = raw
        .trim()
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

// ---------------------------------------------------------------- DMI

fn read_dmi_uuid(src: &Source<'_>) -> Option<String> {
    if !src.linux() {
        return None;
    }
    src.read("/sys/class/dmi/id/product_uuid")
        .and_then(|s| normalise_dmi_uuid(&s))
}

/// Accept a DMI product UUID unless it is a firmware placeholder: all one digit (all-zero,
/// all-F), or the `03000200-0400-0500-0006-000700080009` many boards ship with.
pub fn normalise_dmi_uuid(raw: &str) -> Option<String> {
    const PLACEHOLDERS: &[&str] = &[
        "03000200040005000006000700080009",
        "00020003000400050006000700080009",
        "12345678123456781234567812345678",
    ];
    let hex = hex_digits(raw)?;
    let first = hex.as_bytes().first().copied()?;
    if hex.bytes().all(|b| b == first) || PLACEHOLDERS.contains(&hex.as_str()) {
        return None;
    }
    Some(hex)
}

// ---------------------------------------------------------------- CPU

struct CpuInfo {
    identity: Option<String>,
    hypervisor: bool,
}

fn read_cpu(src: &Source<'_>) -> CpuInfo {
    let mut info = CpuInfo {
        identity: None,
        hypervisor: false,
    };
    if src.linux() {
        if let Ok(f) = fs::File::open(src.path("/proc/cpuinfo")) {
            // Small reads: the kernel formats records on demand, and only the first is needed.
            info = parse_cpuinfo(BufReader::with_capacity(1024, f));
        }
    }
    if info.identity.is_none() && src.live {
        info.identity = read_cpu_sysinfo();
    }
    info
}

/// Read the first processor block of `/proc/cpuinfo`: vendor, brand, and whether the
/// `hypervisor` flag is set. Stops at the first blank line so large machines are not
/// enumerated.
fn parse_cpuinfo(r: impl BufRead) -> CpuInfo {
    let mut vendor = None;
    let mut brand = None;
    let mut hypervisor = false;
    let mut read = 0usize;
    // Bounded before any line is allocated: a line is read whole, however long it is.
    for line in r.take(CPUINFO_LIMIT as u64).lines() {
        let Ok(line) = line else { break };
        read += line.len() + 1;
        if line.trim().is_empty() {
            if vendor.is_some() || brand.is_some() {
                break;
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let value = value.trim();
            match key.trim() {
                // x86 / arm64 / s390 / ppc spellings.
                "vendor_id" | "vendor" | "CPU implementer" if vendor.is_none() => {
                    vendor = Some(value.to_owned())
                }
                "model name" | "cpu model" | "cpu" | "Processor" | "uarch" | "CPU part"
                    if brand.is_none() =>
                {
                    brand = Some(value.to_owned())
                }
                "flags" | "Features" => {
                    hypervisor |= value.split_whitespace().any(|f| f == "hypervisor")
                }
                _ => {}
            }
        }
        if read > CPUINFO_LIMIT {
            break;
        }
    }
    CpuInfo {
        identity: cpu_identity(vendor.as_deref(), brand.as_deref()),
        hypervisor,
    }
}

fn cpu_identity(vendor: Option<&str>, brand: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [vendor, brand]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn read_cpu_sysinfo() -> Option<String> {
    use sysinfo::{CpuRefreshKind, RefreshKind, System};
    // CPU list only, without usage or frequency.
    let sys =
        System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()));
    sys.cpus()
        .first()
        .and_then(|c| cpu_identity(Some(c.vendor_id()), Some(c.brand())))
}

// ---------------------------------------------------------------- environment

fn detect_environment(src: &Source<'_>, cpu_hypervisor: bool) -> Environment {
    if in_container(src) {
        Environment::Container
    } else if cpu_hypervisor || dmi_says_vm(src) {
        Environment::VirtualMachine
    } else {
        Environment::BareMetal
    }
}

fn in_container(src: &Source<'_>) -> bool {
    if src.exists("/.dockerenv") || src.exists("/run/.containerenv") {
        return true;
    }
    // systemd-nspawn, LXC and podman set `container` for init and its children.
    if src.live && std::env::var_os("container").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    if !src.linux() {
        return false;
    }
    let Ok(f) = fs::File::open(src.path("/proc/1/cgroup")) else {
        return false;
    };
    let mut s = String::new();
    if f.take(CPUINFO_LIMIT as u64).read_to_string(&mut s).is_err() {
        return false;
    }
    cgroup_says_container(&s)
}

/// Whether `/proc/1/cgroup` places init in a container runtime's cgroup.
pub(crate) fn cgroup_says_container(cgroup: &str) -> bool {
    const MARKERS: &[&str] = &[
        "/docker",
        "/kubepods",
        "/lxc",
        "/containerd",
        "/libpod",
        "/crio",
        "/podman",
        "/garden",
        "/ecs/",
        "/actions_job",
    ];
    cgroup.lines().any(|l| {
        let path = l.splitn(3, ':').nth(2).unwrap_or("");
        MARKERS.iter().any(|m| path.contains(m))
    })
}

fn dmi_says_vm(src: &Source<'_>) -> bool {
    if !src.linux() {
        return false;
    }
    let vendor = src.read("/sys/class/dmi/id/sys_vendor").unwrap_or_default();
    let product = src
        .read("/sys/class/dmi/id/product_name")
        .unwrap_or_default();
    dmi_names_vm(&vendor, &product)
}

/// Whether DMI vendor / product name belong to a hypervisor.
pub(crate) fn dmi_names_vm(vendor: &str, product: &str) -> bool {
    const NAMES: &[&str] = &[
        "qemu",
        "kvm",
        "vmware",
        "virtualbox",
        "innotek",
        "xen",
        "bochs",
        "parallels",
        "amazon ec2",
        "google compute engine",
        "openstack",
        "virtual machine",
        "hvm domu",
        "bhyve",
        "cloud hypervisor",
        "firecracker",
    ];
    let both = format!("{vendor} {product}").to_ascii_lowercase();
    NAMES.iter().any(|n| both.contains(n))
}

// ---------------------------------------------------------------- network adapters

/// Whether a network interface sits on a hardware device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceLink {
    /// A bus device backs it (Linux: `/sys/class/net/NAME/device` exists).
    Hardware,
    /// A purely software interface (no device link).
    Software,
    /// Not known on this platform.
    Unknown,
}

/// How the kernel assigned an interface's MAC address (Linux `addr_assign_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MacOrigin {
    /// Burned in or set by the hypervisor (`0`). The only origin that counts on hardware.
    Permanent,
    /// Randomly generated (`1`): changes at every boot.
    Random,
    /// Copied from another device (`2`), as bonds and VLANs do.
    Stolen,
    /// Set from user space (`3`), as container runtimes do. Counts only in the fallback.
    Set,
    /// Not known on this platform.
    Unknown,
}

impl MacOrigin {
    fn from_assign_type(t: Option<&str>) -> MacOrigin {
        match t {
            Some("0") => MacOrigin::Permanent,
            Some("1") => MacOrigin::Random,
            Some("2") => MacOrigin::Stolen,
            Some("3") => MacOrigin::Set,
            _ => MacOrigin::Unknown,
        }
    }
}

/// One network interface as the probe saw it; input to [`select_macs`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Interface {
    /// Interface name (`eth0`, `enp3s0`, `docker0`, ...).
    pub name: String,
    /// Its MAC address (for bond members, the permanent one).
    pub mac: [u8; 6],
    /// Whether a hardware device backs it.
    pub device: DeviceLink,
    /// How its MAC was assigned.
    pub origin: MacOrigin,
    /// The OS says it is a software device: bridge, bond master, tun/tap, loopback, or a
    /// non-Ethernet link type.
    pub virtual_device: bool,
}

impl Interface {
    /// An interface with only a name and MAC known (device link and origin unknown).
    pub fn new(name: impl Into<String>, mac: [u8; 6]) -> Interface {
        Interface {
            name: name.into(),
            mac,
            device: DeviceLink::Unknown,
            origin: MacOrigin::Unknown,
            virtual_device: false,
        }
    }

    /// The same interface marked as backed by hardware, with a permanent MAC (what Linux
    /// reports for a physical or hypervisor-provided adapter).
    pub fn hardware(mut self) -> Interface {
        self.device = DeviceLink::Hardware;
        self.origin = MacOrigin::Permanent;
        self
    }
}

/// The MAC addresses chosen from a list of interfaces, see [`select_macs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MacSelection {
    /// Chosen MACs, sorted and without duplicates.
    pub macs: Vec<[u8; 6]>,
    /// Names of the interfaces they came from, sorted.
    pub names: Vec<String>,
    /// True when no interface had a hardware device, so interfaces were chosen by name and
    /// MAC only (a container, typically).
    pub fallback: bool,
}

/// Whether an interface name is one of the virtual kinds that never count: loopback,
/// container and VM plumbing (docker, veth, bridges, virbr, tun/tap, ...), tunnels, bonds and
/// teams (their MAC is copied from a member), dummy and intermediate functional blocks.
pub fn is_virtual_name(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "lo",
        "docker",
        "veth",
        "br-",
        "br",
        "virbr",
        "lxcbr",
        "lxdbr",
        "podman",
        "cni",
        "flannel",
        "cali",
        "cilium",
        "weave",
        "kube",
        "vxlan",
        "genev",
        "tun",
        "tap",
        "utun",
        "vnet",
        "vmnet",
        "vboxnet",
        "bond",
        "team",
        "dummy",
        "ifb",
        "wg",
        "zt",
        "tailscale",
        "gre",
        "gretap",
        "erspan",
        "sit",
        "ip6",
        "ipip",
        "ppp",
        "macvtap",
        "macvlan",
        "ipvlan",
        "awdl",
        "llw",
        "bridge",
        "anpi",
        "ap",
        "nlmon",
        "vcan",
        "vrf",
        "ovs",
        "nordlynx",
        "p2p",
    ];
    let n = name.to_ascii_lowercase();
    // `eth0@if12` style names come from container tooling; judge the base name.
    let base = n.split('@').next().unwrap_or("");
    base.is_empty() || PREFIXES.iter().any(|p| base.starts_with(p))
}

/// Whether a MAC is locally administered (bit `0x02` of the first octet).
pub fn is_locally_administered(mac: &[u8; 6]) -> bool {
    mac[0] & 0x02 != 0
}

fn is_usable_mac(mac: &[u8; 6]) -> bool {
    // Not all-zero, not broadcast, not multicast (bit 0x01).
    *mac != [0; 6] && *mac != [0xff; 6] && mac[0] & 0x01 == 0
}

/// Choose the MAC addresses that identify this machine from a list of interfaces.
///
/// Never counted: virtual names ([`is_virtual_name`]), software devices, all-zero, broadcast
/// and multicast MACs, and random or stolen MACs. Interfaces backed by hardware with a
/// permanent MAC are used; when the OS reports device links and no interface has one (a
/// container), the remaining interfaces with a permanent, user-set or unknown MAC origin are
/// used instead and [`MacSelection::fallback`] is set. The result does not depend on the list's order.
pub fn select_macs(interfaces: &[Interface]) -> MacSelection {
    let eligible = |i: &&Interface| {
        !i.virtual_device
            && i.device != DeviceLink::Software
            && !is_virtual_name(&i.name)
            && is_usable_mac(&i.mac)
            && matches!(i.origin, MacOrigin::Permanent | MacOrigin::Unknown)
    };
    let mut chosen: Vec<&Interface> = interfaces.iter().filter(eligible).collect();
    // The OS told us which adapters have a device behind them (Linux), and none does: a
    // container, or a software-only network. Use the remaining interfaces, and say so.
    let device_links_known = interfaces.iter().any(|i| i.device != DeviceLink::Unknown);
    let any_hardware = interfaces.iter().any(|i| {
        i.device == DeviceLink::Hardware && !i.virtual_device && !is_virtual_name(&i.name)
    });
    let mut fallback = false;
    if device_links_known && !any_hardware {
        chosen = interfaces
            .iter()
            .filter(|i| {
                !i.virtual_device
                    && !is_virtual_name(&i.name)
                    && is_usable_mac(&i.mac)
                    && !matches!(i.origin, MacOrigin::Random | MacOrigin::Stolen)
            })
            .collect();
        fallback = !chosen.is_empty();
    }
    let mut macs: Vec<[u8; 6]> = chosen.iter().map(|i| i.mac).collect();
    macs.sort_unstable();
    macs.dedup();
    let mut names: Vec<String> = chosen.iter().map(|i| i.name.clone()).collect();
    names.sort_unstable();
    names.dedup();
    MacSelection {
        macs,
        names,
        fallback,
    }
}

/// Parse `aa:bb:cc:dd:ee:ff` (or dashes). Anything else, such as InfiniBand's 20-byte
/// addresses, is `None`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.trim().split([':', '-']);
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn list_interfaces(src: &Source<'_>) -> Vec<Interface> {
    if src.linux() {
        if let Some(v) = list_interfaces_sysfs(src) {
            return v;
        }
    }
    if src.live {
        list_interfaces_sysinfo()
    } else {
        Vec::new()
    }
}

fn list_interfaces_sysfs(src: &Source<'_>) -> Option<Vec<Interface>> {
    let dir = src.path("/sys/class/net");
    let dir = dir.as_path();
    let entries = fs::read_dir(dir).ok()?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Cheap name check first: most virtual interfaces end here, without more reads.
        if is_virtual_name(&name) {
            continue;
        }
        let base = dir.join(&name);
        // Six-byte addresses only: loopback (all zero), tunnels (none), InfiniBand (20 bytes)
        // and FireWire (8 bytes) end here.
        let Some(address) = read_small(base.join("address")).and_then(|s| parse_mac(&s)) else {
            continue;
        };
        let mut origin =
            MacOrigin::from_assign_type(read_small(base.join("addr_assign_type")).as_deref());
        let mut mac = address;
        if matches!(origin, MacOrigin::Set | MacOrigin::Stolen) {
            // A bond member shows the bond's MAC; its own is kept in `perm_hwaddr`.
            if let Some(perm) =
                read_small(base.join("bonding_slave/perm_hwaddr")).and_then(|s| parse_mac(&s))
            {
                mac = perm;
                origin = MacOrigin::Permanent;
            }
        }
        let virtual_device = base.join("bridge").exists()
            || base.join("bonding").exists()
            || base.join("tun_flags").exists();
        let device = if base.join("device").exists() {
            DeviceLink::Hardware
        } else {
            DeviceLink::Software
        };
        out.push(Interface {
            name,
            mac,
            device,
            origin,
            virtual_device,
        });
    }
    Some(out)
}

fn list_interfaces_sysinfo() -> Vec<Interface> {
    // The interface list with MACs; traffic counters are not refreshed again.
    let networks = sysinfo::Networks::new_with_refreshed_list();
    networks
        .iter()
        .map(|(name, data)| Interface::new(name.clone(), data.mac_address().0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_first_block_x86_with_hypervisor_flag() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n\
                    model name\t: AMD EPYC 7B13\nflags\t\t: fpu vme hypervisor lahf_lm\n\n\
                    processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: other\n";
        let info = parse_cpuinfo(text.as_bytes());
        assert_eq!(info.identity.as_deref(), Some("AuthenticAMD AMD EPYC 7B13"));
        assert!(info.hypervisor);
    }

    #[test]
    fn cpuinfo_reads_are_bounded_even_without_a_line_break() {
        // An endless line (a tree whose proc/cpuinfo is /dev/zero) must not be read whole.
        struct Endless<'a>(&'a std::cell::Cell<usize>);
        impl Read for Endless<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.get() > 16 * CPUINFO_LIMIT {
                    return Err(std::io::Error::other("read far past the limit"));
                }
                buf.fill(b'a');
                self.0.set(self.0.get() + buf.len());
                Ok(buf.len())
            }
        }
        let consumed = std::cell::Cell::new(0);
        let info = parse_cpuinfo(BufReader::with_capacity(1024, Endless(&consumed)));
        assert!(info.identity.is_none());
        assert!(
            consumed.get() <= CPUINFO_LIMIT + 1024,
            "{} bytes read",
            consumed.get()
        );
    }

    #[test]
    fn cpuinfo_without_hypervisor_flag_and_arm_spelling() {
        let text = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n\
                    CPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n";
        let info = parse_cpuinfo(text.as_bytes());
        assert_eq!(info.identity.as_deref(), Some("0x41 0xd0c"));
        assert!(!info.hypervisor);
        // `hypervisor_x` is not the flag.
        let info = parse_cpuinfo("vendor_id: X\nflags: hypervisor_x\n".as_bytes());
        assert!(!info.hypervisor);
        assert!(parse_cpuinfo("".as_bytes()).identity.is_none());
    }

    #[test]
    fn dmi_placeholders_are_refused() {
        for p in [
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "03000200-0400-0500-0006-000700080009",
            "Not Settable",
            "",
            "1234",
        ] {
            assert_eq!(normalise_dmi_uuid(p), None, "{p}");
        }
        assert_eq!(
            normalise_dmi_uuid(" 4C4C4544-004B-4B10-804B-B4C04F4D3732\n").as_deref(),
            Some("4c4c4544004b4b10804bb4c04f4d3732")
        );
    }

    #[test]
    fn machine_id_validation() {
        assert_eq!(normalise_machine_id("uninitialized"), None);
        assert_eq!(normalise_machine_id(&"0".repeat(32)), None);
        assert_eq!(normalise_machine_id("abc"), None);
        assert_eq!(
            normalise_machine_id("3D1219C7C4C5404AAA1F6D2A48ADFDA4\n").as_deref(),
            Some("3d1219c7c4c5404aaa1f6d2a48adfda4")
        );
    }

    #[test]
    fn cgroup_markers() {
        assert!(cgroup_says_container(
            "0::/system.slice/docker-3f2a.scope\n"
        ));
        assert!(cgroup_says_container(
            "12:memory:/kubepods/besteffort/pod1/abc\n"
        ));
        assert!(!cgroup_says_container("0::/init.scope\n"));
        assert!(!cgroup_says_container("0::/\n1:cpu:/\n"));
        // A path component elsewhere than the cgroup path does not count.
        assert!(!cgroup_says_container("0:/docker:/\n"));
    }

    #[test]
    fn dmi_vm_names() {
        assert!(dmi_names_vm("QEMU", "Standard PC (Q35 + ICH9, 2009)"));
        assert!(dmi_names_vm("Microsoft Corporation", "Virtual Machine"));
        assert!(dmi_names_vm("innotek GmbH", "VirtualBox"));
        assert!(!dmi_names_vm("Dell Inc.", "PowerEdge R640"));
        assert!(!dmi_names_vm("", ""));
    }

    #[test]
    fn mac_text() {
        assert_eq!(
            parse_mac("00:1b:21:3A:4b:5c\n"),
            Some([0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c])
        );
        assert_eq!(
            parse_mac("00-1b-21-3a-4b-5c"),
            Some([0, 0x1b, 0x21, 0x3a, 0x4b, 0x5c])
        );
        assert_eq!(parse_mac("00:1b:21:3a:4b"), None);
        assert_eq!(parse_mac("00:1b:21:3a:4b:5c:6d"), None);
        assert_eq!(parse_mac("0:1b:21:3a:4b:5c"), None);
        assert_eq!(parse_mac("zz:1b:21:3a:4b:5c"), None);
        // InfiniBand: 20 bytes.
        assert_eq!(
            parse_mac("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:bb:cc"),
            None
        );
    }
}
