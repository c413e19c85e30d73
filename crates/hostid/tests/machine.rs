//! Reading a machine: the interface filter over constructed interface lists, and whole
//! probes over constructed Linux file trees.

use std::fs;
use std::path::Path;

use hostid::machine::{
    is_locally_administered, is_virtual_name, probe_at, select_macs, DeviceLink, Environment,
    Interface, MacOrigin, Warning,
};
use hostid::{match_codes, CodeError, CodeForm, ComponentKind, HostId};

const NIC1: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c];
const NIC2: [u8; 6] = [0x3c, 0xec, 0xef, 0x10, 0x20, 0x30];
const NIC3: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5d];

fn hw(name: &str, mac: [u8; 6]) -> Interface {
    Interface::new(name, mac).hardware()
}

fn software(name: &str, mac: [u8; 6], origin: MacOrigin) -> Interface {
    let mut i = Interface::new(name, mac);
    i.device = DeviceLink::Software;
    i.origin = origin;
    i
}

// ---------------------------------------------------------------- interface filter

#[test]
fn virtual_interface_names_never_count() {
    for name in [
        "lo",
        "docker0",
        "veth1a2b3c",
        "br-5f3e2a",
        "br0",
        "virbr0",
        "virbr0-nic",
        "tun0",
        "tap3",
        "vnet2",
        "bond0",
        "team0",
        "ifb0",
        "dummy0",
        "wg0",
        "cni0",
        "flannel.1",
        "cali12ab",
        "vxlan.calico",
        "tailscale0",
        "zt7nnig26",
        "vboxnet0",
        "vmnet8",
        "macvtap0",
        "kube-ipvs0",
        "podman0",
        "lxcbr0",
        "utun3",
        "awdl0",
        "bridge100",
        "",
    ] {
        assert!(is_virtual_name(name), "{name:?} should be virtual");
    }
    for name in [
        "eth0", "eno1", "enp3s0f1", "ens192", "em1", "wlp2s0", "en0", "ib0x",
    ] {
        assert!(!is_virtual_name(name), "{name:?} should count");
    }
}

#[test]
fn virtual_interfaces_are_ignored_even_with_hardware_like_macs() {
    let list = vec![
        hw("eth0", NIC1),
        // Named like plumbing: never counted, whatever the kernel says.
        hw("docker0", NIC2),
        hw("br-1234", [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
        hw("veth9f", [0x00, 0x11, 0x22, 0x33, 0x44, 0x56]),
        hw("lo", [0; 6]),
    ];
    let sel = select_macs(&list);
    assert_eq!(sel.macs, vec![NIC1]);
    assert_eq!(sel.names, vec!["eth0".to_owned()]);
    assert!(!sel.fallback);
}

#[test]
fn software_devices_random_and_stolen_macs_are_ignored() {
    let mut bridge = hw("lan", [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    bridge.virtual_device = true; // the OS says: bridge / bond master / tun
    let mut random = hw("eth1", [0x00, 0x11, 0x22, 0x33, 0x44, 0x66]);
    random.origin = MacOrigin::Random;
    let mut stolen = hw("eth0.100", NIC2);
    stolen.origin = MacOrigin::Stolen;
    let mut set = hw("eth2", [0x00, 0x11, 0x22, 0x33, 0x44, 0x77]);
    set.origin = MacOrigin::Set;
    let list = vec![
        hw("eth0", NIC1),
        bridge,
        random,
        stolen,
        set,
        hw("eth3", [0; 6]),
        hw("eth4", [0xff; 6]),
        hw("eth5", [0x01, 0x00, 0x5e, 0, 0, 1]), // multicast
        software("ens9", NIC3, MacOrigin::Permanent), // no device behind it
    ];
    let sel = select_macs(&list);
    assert_eq!(sel.macs, vec![NIC1]);
    assert!(!sel.fallback);
}

#[test]
fn interface_order_is_irrelevant() {
    let list = vec![
        hw("eth0", NIC1),
        hw("docker0", [0x02, 0x42, 0, 0, 0, 1]),
        hw("eth1", NIC2),
        hw("eth2", NIC3),
        hw("eth3", NIC1), // same MAC twice (bond members before enslaving)
    ];
    let forward = select_macs(&list);
    let mut rev = list.clone();
    rev.reverse();
    assert_eq!(select_macs(&rev), forward);
    let mut rotated = list.clone();
    rotated.rotate_left(2);
    assert_eq!(select_macs(&rotated), forward);
    assert_eq!(forward.macs, vec![NIC1, NIC3, NIC2]);
}

#[test]
fn container_without_hardware_falls_back_and_says_so() {
    let list = vec![
        software("lo", [0; 6], MacOrigin::Permanent),
        software("eth0", [0x02, 0x42, 0xac, 0x11, 0, 2], MacOrigin::Set),
        software("eth1", [0x02, 0x42, 0xac, 0x12, 0, 2], MacOrigin::Random),
    ];
    let sel = select_macs(&list);
    assert_eq!(sel.macs, vec![[0x02, 0x42, 0xac, 0x11, 0, 2]]);
    assert_eq!(sel.names, vec!["eth0".to_owned()]);
    assert!(sel.fallback);
    assert!(sel.macs.iter().all(is_locally_administered));
    // No fallback while any hardware adapter exists, even one whose MAC does not count.
    let mut random_hw = hw("wlan0", [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    random_hw.origin = MacOrigin::Random;
    let mut with_hw = list.clone();
    with_hw.push(random_hw);
    let sel = select_macs(&with_hw);
    assert!(sel.macs.is_empty());
    assert!(!sel.fallback);
}

#[test]
fn unknown_device_links_use_names_only() {
    // What sysinfo reports on other systems: names and MACs only.
    let list = vec![
        Interface::new("en0", NIC1),
        Interface::new("bridge0", NIC2),
        Interface::new("utun0", [0; 6]),
        Interface::new("awdl0", NIC3),
    ];
    let sel = select_macs(&list);
    assert_eq!(sel.macs, vec![NIC1]);
    assert!(!sel.fallback);
}

#[test]
fn locally_administered_bit() {
    assert!(is_locally_administered(&[0x02, 0xfc, 0, 0, 0, 1]));
    assert!(is_locally_administered(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    assert!(!is_locally_administered(&NIC1));
}

// ---------------------------------------------------------------- whole probes over file trees

struct Tree(tempfile::TempDir);

impl Tree {
    fn new() -> Tree {
        Tree(tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")))
    }

    fn root(&self) -> &Path {
        self.0.path()
    }

    fn file(&self, rel: &str, content: &str) -> &Tree {
        let p = self.root().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        fs::write(&p, content).unwrap_or_else(|e| panic!("write {p:?}: {e}"));
        self
    }

    fn dir(&self, rel: &str) -> &Tree {
        fs::create_dir_all(self.root().join(rel)).unwrap_or_else(|e| panic!("mkdir {rel}: {e}"));
        self
    }

    /// An interface in `sys/class/net`: ARPHRD type, MAC, assign type, hardware or not.
    fn nic(&self, name: &str, mac: &str, assign: &str, hardware: bool) -> &Tree {
        let base = format!("sys/class/net/{name}");
        self.file(&format!("{base}/type"), "1\n")
            .file(&format!("{base}/address"), &format!("{mac}\n"))
            .file(&format!("{base}/addr_assign_type"), &format!("{assign}\n"));
        if hardware {
            self.dir(&format!("{base}/device"));
        }
        self
    }

    fn server(&self) -> &Tree {
        self.file("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
            .file("sys/class/dmi/id/product_uuid", "4C4C4544-004B-4B10-804B-B4C04F4D3732\n")
            .file("sys/class/dmi/id/sys_vendor", "Dell Inc.\n")
            .file("sys/class/dmi/id/product_name", "PowerEdge R640\n")
            .file(
                "proc/cpuinfo",
                "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6230\nflags\t\t: fpu vme\n\n",
            )
            .file("proc/1/cgroup", "0::/init.scope\n")
            .nic("eno1", "00:1b:21:3a:4b:5c", "0", true)
            .nic("eno2", "00:1b:21:3a:4b:5d", "0", true)
            .nic("docker0", "02:42:7a:00:00:01", "3", false)
            .nic("ifb0", "02:0a:0b:6f:a0:00", "1", false)
            .file("sys/class/net/lo/type", "772\n")
            .file("sys/class/net/lo/address", "00:00:00:00:00:00\n")
    }
}

#[test]
fn bare_metal_server_tree() {
    let t = Tree::new();
    t.server();
    let p = probe_at(t.root());
    assert_eq!(p.environment, Environment::BareMetal);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        p.kinds(),
        vec![
            ComponentKind::MachineId,
            ComponentKind::DmiUuid,
            ComponentKind::Mac,
            ComponentKind::Cpu
        ]
    );
    assert_eq!(p.components.macs, vec![NIC1, NIC3]);
    let id = p.host_id().unwrap_or_else(|e| panic!("{e}"));
    // Reading the same tree again gives the same code.
    assert_eq!(probe_at(t.root()).host_id(), Ok(id));
}

#[test]
fn bond_members_count_with_their_permanent_mac() {
    let t = Tree::new();
    t.server()
        // Enslaved: `address` shows the bond's MAC (stolen), perm_hwaddr the real one.
        .nic("eno3", "00:1b:21:3a:4b:5c", "2", true)
        .file(
            "sys/class/net/eno3/bonding_slave/perm_hwaddr",
            "3c:ec:ef:10:20:30\n",
        )
        .nic("bond0", "00:1b:21:3a:4b:5c", "2", false)
        .dir("sys/class/net/bond0/bonding");
    let p = probe_at(t.root());
    assert_eq!(p.components.macs, vec![NIC1, NIC3, NIC2]);
}

#[test]
fn unprivileged_reader_of_the_same_machine_matches() {
    let t = Tree::new();
    t.server();
    let root_code = probe_at(t.root())
        .host_id()
        .unwrap_or_else(|e| panic!("{e}"));
    fs::remove_file(t.root().join("sys/class/dmi/id/product_uuid"))
        .unwrap_or_else(|e| panic!("{e}"));
    let p = probe_at(t.root());
    assert!(!p.kinds().contains(&ComponentKind::DmiUuid));
    let user_code = p.host_id().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(root_code, user_code);
    assert!(match_codes(&root_code, &user_code).is_match());
}

#[test]
fn new_virtual_interfaces_do_not_change_the_code() {
    let t = Tree::new();
    t.server();
    let before = probe_at(t.root()).host_id();
    t.nic("veth3f9a", "ae:11:22:33:44:55", "3", false)
        .nic("virbr0", "52:54:00:aa:bb:cc", "3", false)
        .nic("br-0123abcd", "02:42:11:22:33:44", "3", false)
        .nic("tap0", "de:ad:be:ef:00:01", "3", false)
        .dir("sys/class/net/tap0/tun_flags")
        .nic("lan", "00:11:22:33:44:55", "3", false)
        .dir("sys/class/net/lan/bridge");
    assert_eq!(probe_at(t.root()).host_id(), before);
}

#[test]
fn firmware_placeholder_uuid_is_not_a_component() {
    let t = Tree::new();
    t.server().file(
        "sys/class/dmi/id/product_uuid",
        "03000200-0400-0500-0006-000700080009\n",
    );
    assert!(!probe_at(t.root()).kinds().contains(&ComponentKind::DmiUuid));
}

#[test]
fn dbus_machine_id_is_the_fallback() {
    let t = Tree::new();
    t.server();
    let a = probe_at(t.root()).host_id();
    fs::rename(
        t.root().join("etc/machine-id"),
        t.root().join("var-lib-dbus-machine-id"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    t.dir("var/lib/dbus");
    fs::rename(
        t.root().join("var-lib-dbus-machine-id"),
        t.root().join("var/lib/dbus/machine-id"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(probe_at(t.root()).host_id(), a);
}

#[test]
fn virtual_machine_is_detected() {
    let t = Tree::new();
    t.server()
        .file("sys/class/dmi/id/sys_vendor", "QEMU\n")
        .file(
            "sys/class/dmi/id/product_name",
            "Standard PC (Q35 + ICH9, 2009)\n",
        );
    assert_eq!(probe_at(t.root()).environment, Environment::VirtualMachine);

    let t = Tree::new();
    t.server().file(
        "proc/cpuinfo",
        "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu hypervisor\n\n",
    );
    assert_eq!(probe_at(t.root()).environment, Environment::VirtualMachine);
}

#[test]
fn container_like_this_one_gets_a_code_with_warnings() {
    // A container: machine-id, one virtio adapter with a locally administered MAC, no DMI.
    let t = Tree::new();
    t.file("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
        .file(".dockerenv", "")
        .file(
            "proc/cpuinfo",
            "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\n",
        )
        .nic("eth0", "02:fc:00:00:00:01", "0", true)
        .nic("ifb0", "02:0a:0b:6f:a0:00", "1", false);
    let p = probe_at(t.root());
    assert_eq!(p.environment, Environment::Container);
    assert!(p.warnings.contains(&Warning::Container));
    assert!(p.warnings.contains(&Warning::LocallyAdministeredMacs));
    assert!(p.warnings.iter().all(|w| w
        .to_string()
        .contains("may change when the container or VM is recreated")));
    assert!(p.host_id().is_ok());
}

#[test]
fn container_without_hardware_adapters_falls_back() {
    let t = Tree::new();
    t.file("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
        .file("proc/1/cgroup", "0::/system.slice/docker-3f2a9c.scope\n")
        .nic("eth0", "02:42:ac:11:00:02", "3", false);
    let p = probe_at(t.root());
    assert_eq!(p.environment, Environment::Container);
    assert!(p
        .warnings
        .contains(&Warning::NoHardwareAdapters { used: 1 }));
    assert_eq!(p.components.macs, vec![[0x02, 0x42, 0xac, 0x11, 0, 2]]);
    assert!(p.host_id().is_ok());
}

#[test]
fn too_few_components_is_an_error_not_a_weak_code() {
    let t = Tree::new();
    t.file("etc/machine-id", "uninitialized\n")
        .file(
            "proc/cpuinfo",
            "vendor_id\t: GenuineIntel\nmodel name\t: Xeon\n\n",
        )
        .nic("eth0", "00:1b:21:3a:4b:5c", "0", true);
    let p = probe_at(t.root());
    assert_eq!(p.kinds(), vec![ComponentKind::Mac, ComponentKind::Cpu]);
    assert_eq!(
        p.host_id(),
        Err(CodeError::TooFewComponents {
            found: 1,
            needed: 2
        })
    );
    // An empty tree: nothing at all, and no panic.
    let empty = Tree::new();
    let p = probe_at(empty.root());
    assert!(p.kinds().is_empty());
    assert_eq!(p.environment, Environment::BareMetal);
    assert!(matches!(
        p.host_id(),
        Err(CodeError::TooFewComponents { found: 0, .. })
    ));
}

#[test]
fn oversized_and_garbage_files_are_ignored() {
    let t = Tree::new();
    t.server()
        .file("etc/machine-id", &"a".repeat(10_000))
        .file("sys/class/dmi/id/product_uuid", "\u{0}\u{1}garbage\n")
        .file("sys/class/net/eno1/address", "not a mac\n");
    let p = probe_at(t.root());
    assert!(!p.kinds().contains(&ComponentKind::MachineId));
    assert!(!p.kinds().contains(&ComponentKind::DmiUuid));
    assert_eq!(p.components.macs, vec![NIC3]);
}

#[test]
fn current_is_stable_within_a_process() {
    let a: Result<HostId, CodeError> = hostid::current();
    let b = hostid::current();
    assert_eq!(a, b);
    let p = hostid::machine::probe();
    assert_eq!(p.host_id(), a);
}

#[test]
fn one_probe_gives_both_forms() {
    let t = Tree::new();
    t.server();
    let p = probe_at(t.root());
    let strong = p.strong_host_id().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(strong.form(), CodeForm::Strong);
    assert_eq!(Ok(strong.to_short()), p.host_id());
    assert_eq!(probe_at(t.root()).strong_host_id(), Ok(strong));
    // An unprivileged strong reading still matches the root one, and checks the short code.
    fs::remove_file(t.root().join("sys/class/dmi/id/product_uuid"))
        .unwrap_or_else(|e| panic!("{e}"));
    let user = probe_at(t.root())
        .strong_host_id()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(match_codes(&strong, &user).is_match());
    assert!(match_codes(&strong.to_short(), &user).is_match());
    // Too few components: refused in both forms alike.
    let empty = Tree::new();
    empty.file("proc/cpuinfo", "vendor_id\t: GenuineIntel\n\n");
    let p = probe_at(empty.root());
    assert_eq!(p.strong_host_id().map(|_| ()), p.host_id().map(|_| ()));
}

#[test]
fn current_strong_is_current_in_the_strong_form() {
    let strong = hostid::current_strong();
    let short = hostid::current();
    match (&strong, &short) {
        (Ok(l), Ok(s)) => assert_eq!(&l.to_short(), s),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("the forms disagree: {strong:?} vs {short:?}"),
    }
    assert_eq!(hostid::machine::current_strong(), strong);
}
