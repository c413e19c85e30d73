//! Command-line surface of `issuer` (DESIGN.md, "CLI surface").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Issue and keep track of i3lic activation files.
#[derive(Debug, Parser)]
#[command(name = "issuer", version, about, long_about = None)]
pub struct Cli {
    /// Ledger file (default: $I3LIC_DB, else the config file's ledger, else
    /// $XDG_DATA_HOME/i3lic/ledger.db, else ~/.local/share/i3lic/ledger.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Product catalog to use instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// JSON on standard output for scripts, for every command, before or after it; an error
    /// is then {"error": {"kind", "message", "exit_code"}} on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a signing key pair: DIR/NAME.key (0600) and DIR/NAME.pub (0644).
    #[command(
        after_help = "Examples:\n  issuer keygen --kid vendor-2026 --out keys\n  I3LIC_KEY_PASSPHRASE=... issuer keygen --kid ci --out keys --force\n  issuer keygen --kid demo --out /tmp/k --unencrypted   # demos and tests only"
    )]
    Keygen {
        /// Key name (file name stem, and the name written in the key files).
        #[arg(long, value_name = "NAME")]
        kid: String,
        /// Folder to write the two files to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Store the secret key unencrypted (demos and tests only).
        #[arg(long)]
        unencrypted: bool,
        /// Replace existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Accounts (companies that order and are sold to).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Install sites of an account.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Ordered items of an account.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Total, used and available units per part, for the account and per install site.
    #[command(
        after_help = "Examples:\n  issuer summary --account Contoso\n  issuer summary --account Contoso --site HQ\n  issuer summary --account Contoso --category \"CIC 4.0\" --json"
    )]
    Summary {
        /// The account.
        #[arg(long)]
        account: String,
        /// Only this install site.
        #[arg(long)]
        site: Option<String>,
        /// Only parts of this product category ("CIC 4.0"; case is ignored).
        #[arg(long, value_name = "CATEGORY")]
        category: Option<String>,
    },
    /// Generate a new activation file; prints its id.
    #[command(
        after_help = "Examples:\n  issuer issue --account Contoso --site HQ --product CIC --version 4.0 --type production \\\n      --host-id CODE --machine ic1 --server-part SW-001-4.0-SL03 --add SW-001-4.0-AL02=50 \\\n      --key keys/vendor.key --out ic1.i3lic\n  issuer issue --request req.json --key keys/vendor.key --out -     # the file on stdout\n  issuer issue --request batch.json --out-dir files/"
    )]
    Issue(Box<IssueArgs>),
    /// Write an issued file again, byte for byte.
    #[command(
        after_help = "Examples:\n  issuer download 1855ae5d55e32e1c00fc29806544c5be --out copy.i3lic\n  issuer download 1855ae --out -     # a unique prefix; the bytes on stdout"
    )]
    Download {
        /// The file id, or a unique prefix of at least 4 of its digits.
        id: String,
        /// Where to write it ('-' for standard output).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The product catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Issue a new file that supersedes an active one, with changes (the switchover server
    /// given later, more or fewer units, a new host); prints the new file's id.
    #[command(
        after_help = "Examples:\n  issuer update 1855ae --switchover-host-id CODE --switchover-machine ic2 --key keys/vendor.key --out ic1.i3lic\n  issuer update 1855ae --add SW-001-4.0-AL02=10 --key keys/vendor.key --out ic1.i3lic"
    )]
    Update(Box<UpdateArgs>),
    /// Deactivate a file. Its units are available again at once with a valid release receipt
    /// (--receipt), under the account's rehost allowance, or with --approve; otherwise they
    /// stay used, pending approval. A production file that active disaster-recovery files
    /// name is refused (exit 20) unless --with-recovery is given.
    #[command(
        after_help = "Examples:\n  issuer deactivate 1855ae --receipt release.txt\n  issuer deactivate 1855ae\n  issuer deactivate 1855ae --approve\n  issuer deactivate 1855ae5d55e32e1c00fc29806544c5be --with-recovery --json"
    )]
    Deactivate {
        /// The file id, or a unique prefix of at least 4 of its digits.
        id: String,
        /// Also deactivate the active disaster-recovery files that name this production file
        /// (--related), in the same transaction; each returns its units.
        #[arg(long)]
        with_recovery: bool,
        /// The release receipt `licadmin release` printed on the server (a file, or - for
        /// standard input): checked against the install key the file binds, the units
        /// return at once.
        #[arg(long, value_name = "FILE", conflicts_with = "approve")]
        receipt: Option<std::path::PathBuf>,
        /// Vendor staff approval: a pending deactivation returns its units; an active file
        /// is deactivated and returns them at once.
        #[arg(long)]
        approve: bool,
    },
    /// Activation File Activity: issued, updated and deactivated files, newest first.
    #[command(
        after_help = "Examples:\n  issuer activity --account Contoso\n  issuer activity --from 2026-12-01 --to 2026-12-31 --active all\n  issuer activity --type production --machine ic1 --json"
    )]
    Activity(ActivityArgs),
    /// View License: everything one file says, and its state in the ledger.
    #[command(
        after_help = "Examples:\n  issuer show 1855ae\n  issuer show 1855ae5d55e32e1c00fc29806544c5be --json"
    )]
    Show {
        /// The file id, or a unique prefix of at least 4 of its digits.
        id: String,
    },
    /// Upgrade Software: move ordered items to a newer version per the catalog's mapping.
    #[command(
        after_help = "Examples:\n  issuer upgrade --account Contoso --from 3.0 --to 4.0 --mirror --dry-run\n  issuer upgrade --account Contoso --from 3.0 --to 4.0 --part SW-001-3.0-AL02"
    )]
    Upgrade(UpgradeArgs),
    /// The append-only, hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The ledger as a whole: copy it into an empty ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  issuer completions bash > /etc/bash_completion.d/issuer\n  issuer completions zsh > \"${fpath[1]}/_issuer\"\n  issuer completions fish > ~/.config/fish/completions/issuer.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these same definitions.
    #[command(
        after_help = "Examples:\n  issuer man > /usr/local/share/man/man1/issuer.1\n  issuer man | man -l -"
    )]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-compute the hash chain and check it against the files; exit 3 naming each row or
    /// file at fault.
    #[command(
        after_help = "Examples:\n  issuer audit verify\n  issuer audit verify --head 42:9f86d08... --json"
    )]
    Verify {
        /// A head noted earlier (`issuer audit head`), which must still be in the chain.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
    },
    /// Print the last row's sequence number and hash (SEQ:HASH), to note elsewhere.
    #[command(after_help = "Examples:\n  issuer audit head > audit-head.txt")]
    Head,
    /// The audit rows, oldest first: when, who, what, to what, and the state after.
    #[command(
        after_help = "Examples:\n  issuer audit log --last 20\n  issuer audit log --subject Contoso --json"
    )]
    Log {
        /// Only rows whose subject (an account, ACCOUNT/SITE, a file id) contains TEXT.
        #[arg(long, value_name = "TEXT")]
        subject: Option<String>,
        /// Only the last N rows.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Copy the whole ledger (--db) into an empty ledger DST, in one transaction: every
    /// file byte for byte, the audit log as it is (same head), portal users, tokens and
    /// requests. A missing DST is created (0600); one holding anything is refused (exit 20)
    /// and left untouched. Progress goes to standard error.
    #[command(after_help = "Examples:
  issuer --db ledger.db ledger copy /backup/ledger-copy.db
  issuer --db ledger.db ledger copy new.db --quiet --json")]
    Copy {
        /// The target ledger: a file path (a postgres:// URL is refused in this release).
        #[arg(value_name = "DST")]
        target: PathBuf,
        /// No progress on standard error.
        #[arg(long, short)]
        quiet: bool,
    },
}

/// `issuer update ID`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The active file to replace: its id, or a unique prefix of at least 4 of its digits.
    pub id: String,
    /// A new host-ID code for the primary server.
    #[arg(long, value_name = "CODE")]
    pub host_id: Option<String>,
    /// A new machine name for the primary server.
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,
    /// Host-ID code of the switchover server (with --switchover-machine).
    #[arg(long, value_name = "CODE", requires = "switchover_machine")]
    pub switchover_host_id: Option<String>,
    /// Machine name of the switchover server (with --switchover-host-id).
    #[arg(long, value_name = "NAME", requires = "switchover_host_id")]
    pub switchover_machine: Option<String>,
    /// Switchover server item to use for the pair.
    #[arg(long, value_name = "PART")]
    pub switchover_part: Option<String>,
    /// Drop the switchover server from the file.
    #[arg(long, conflicts_with_all = ["switchover_host_id", "switchover_part"])]
    pub remove_switchover: bool,
    /// Add units of a part to the file (repeatable): its quantity grows by QTY.
    #[arg(long, value_name = "PART=QTY")]
    pub add: Vec<String>,
    /// Set the file's quantity of a part (repeatable); 0 removes the part.
    #[arg(long, value_name = "PART=QTY")]
    pub set: Vec<String>,
    /// A new system type.
    #[arg(long)]
    pub system_type: Option<String>,
    /// A new mail connector.
    #[arg(long)]
    pub mail_connector: Option<String>,
    /// Who makes the update (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub generated_by: Option<String>,
    /// Secret key to sign with (default: $I3LIC_KEY, else the config file's key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Where to write the new file ('-' for standard output; the id then goes to standard
    /// error).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `issuer activity`: the filters of the Activation File Activity tab.
#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// Sold-to account (default: every account).
    #[arg(long)]
    pub account: Option<String>,
    /// Install site.
    #[arg(long)]
    pub site: Option<String>,
    /// Generated on or after DATE (YYYY-MM-DD, or a full UTC time).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Generated on or before DATE (YYYY-MM-DD: the whole day, or a full UTC time).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Active files (yes, the default), inactive ones (no), or both (all).
    #[arg(long, value_name = "yes|no|all", default_value = "yes")]
    pub active: String,
    /// Product line: CIC, or CIC 4.0 for one version.
    #[arg(long, value_name = "P")]
    pub product_line: Option<String>,
    /// License type.
    #[arg(long = "type", value_name = "TYPE")]
    pub license_type: Option<String>,
    /// Who generated the file.
    #[arg(long, value_name = "NAME")]
    pub generated_by: Option<String>,
    /// Machine name (primary or switchover server).
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,
}

/// `issuer upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The account.
    #[arg(long)]
    pub account: String,
    /// Product line.
    #[arg(long, default_value = "CIC")]
    pub product: String,
    /// Version upgraded from (3.0).
    #[arg(long, value_name = "VERSION")]
    pub from: String,
    /// Version upgraded to (4.0).
    #[arg(long, value_name = "VERSION")]
    pub to: String,
    /// Mirror: upgrade every ordered item that has an upgrade option.
    #[arg(long, conflicts_with = "part", required_unless_present = "part")]
    pub mirror: bool,
    /// An ordered item of the old version to upgrade (repeatable).
    #[arg(long, value_name = "PART")]
    pub part: Vec<String>,
    /// Show what would move without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account.
    #[command(after_help = "Examples:\n  issuer account add \"Contoso\"")]
    Add {
        /// Its name.
        name: String,
    },
    /// List accounts.
    #[command(after_help = "Examples:\n  issuer account list\n  issuer account list --json")]
    List,
    /// Rename an account (files already issued keep the name they were signed with).
    #[command(after_help = "Examples:\n  issuer account rename \"Contoso\" \"Contoso Ltd\"")]
    Rename {
        /// Its name now.
        old: String,
        /// The new name.
        new: String,
    },
    /// Change an account's settings.
    #[command(after_help = "Examples:\n  issuer account edit \"Contoso\" --rehosts-per-year 2")]
    Edit {
        /// The account.
        name: String,
        /// Files a year (over the last 365 days) that may be deactivated without a release
        /// receipt and have their units back at once (default 0: staff approve each).
        #[arg(long, value_name = "N")]
        rehosts_per_year: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Add an install site.
    #[command(
        after_help = "Examples:\n  issuer site add --account Contoso --name HQ --address \"7601 Interactive Way\" --city Indianapolis --state IN --country US --postal-code 46278"
    )]
    Add {
        /// The account.
        #[arg(long)]
        account: String,
        /// Site name.
        #[arg(long)]
        name: String,
        /// An address line (up to three).
        #[arg(long, value_name = "LINE")]
        address: Vec<String>,
        /// City.
        #[arg(long, default_value = "")]
        city: String,
        /// State.
        #[arg(long, default_value = "")]
        state: String,
        /// Country.
        #[arg(long, default_value = "")]
        country: String,
        /// Postal code.
        #[arg(long, default_value = "")]
        postal_code: String,
    },
    /// List an account's install sites.
    #[command(
        after_help = "Examples:\n  issuer site list --account Contoso\n  issuer site list --account Contoso --json"
    )]
    List {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Change an install site's name or address; what is not given stays as it is.
    #[command(
        after_help = "Examples:\n  issuer site edit --account Contoso --name HQ --new-name \"Head Office\"\n  issuer site edit --account Contoso --name HQ --address1 \"1 Main St\" --city Carmel"
    )]
    Edit {
        /// The account.
        #[arg(long)]
        account: String,
        /// Site name now.
        #[arg(long)]
        name: String,
        /// A new site name.
        #[arg(long, value_name = "NAME")]
        new_name: Option<String>,
        /// First address line ('' clears it).
        #[arg(long, value_name = "LINE")]
        address1: Option<String>,
        /// Second address line.
        #[arg(long, value_name = "LINE")]
        address2: Option<String>,
        /// Third address line.
        #[arg(long, value_name = "LINE")]
        address3: Option<String>,
        /// City.
        #[arg(long)]
        city: Option<String>,
        /// State.
        #[arg(long)]
        state: Option<String>,
        /// Country.
        #[arg(long)]
        country: Option<String>,
        /// Postal code.
        #[arg(long)]
        postal_code: Option<String>,
    },
    /// Deactivate an install site (no more files are issued to it).
    #[command(
        after_help = "Examples:\n  issuer site deactivate --account Contoso --name \"Old Office\""
    )]
    Deactivate {
        /// The account.
        #[arg(long)]
        account: String,
        /// Site name.
        #[arg(long)]
        name: String,
    },
    /// Activate an install site again.
    #[command(
        after_help = "Examples:\n  issuer site activate --account Contoso --name \"Old Office\""
    )]
    Activate {
        /// The account.
        #[arg(long)]
        account: String,
        /// Site name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Record ordered units of a part.
    #[command(
        after_help = "Examples:\n  issuer order add --account Contoso --part SW-001-4.0-SL03 --quantity 1\n  issuer order add --account Contoso --part SW-001-4.0-AL02 --quantity 50 --non-perpetual"
    )]
    Add {
        /// The account.
        #[arg(long)]
        account: String,
        /// Part number from the catalog.
        #[arg(long)]
        part: String,
        /// Units ordered: a whole number from 1 to 10000000.
        #[arg(long, allow_negative_numbers = true, value_parser = parse_quantity)]
        quantity: u32,
        /// Perpetual units (the default).
        #[arg(long, conflicts_with = "non_perpetual")]
        perpetual: bool,
        /// Non-perpetual units (usable by time-limited files only).
        #[arg(long)]
        non_perpetual: bool,
    },
    /// An account's order lines: part, quantity, used, available, perpetual, state.
    #[command(
        after_help = "Examples:\n  issuer order list --account Contoso\n  issuer order list --account Contoso --json"
    )]
    List {
        /// The account.
        #[arg(long)]
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check a catalog and list its parts.
    #[command(
        after_help = "Examples:\n  issuer catalog list\n  issuer catalog list --kind server --version 4.0\n  issuer catalog list --search \"business client\" --json"
    )]
    List {
        /// Only parts of this kind: server, access, session or addon.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Only parts of this product version (4.0: category "CIC 4.0").
        #[arg(long, value_name = "VERSION")]
        version: Option<String>,
        /// Only parts whose number or description contains TEXT (case is ignored).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
    },
    /// What a part grants (license keys with per-unit counts, who may hold them and how,
    /// features, license types) and the license rules that apply to its keys.
    #[command(
        after_help = "Examples:\n  issuer catalog show SW-001-4.0-AL02\n  issuer --catalog my.catalog catalog show SW-001-4.0-SL03 --json"
    )]
    Show {
        /// The part number.
        part: String,
    },
    /// Every license rule of the catalog, grouped: key attributes, requires, implies,
    /// excludes and needs, each with its catalog line.
    #[command(after_help = "Examples:\n  issuer catalog rules\n  issuer catalog rules --json")]
    Rules,
}

/// `issuer issue`. Every value may instead come from `--request FILE` (JSON with the same
/// names, `type` for the license type and `add` as a list of {"part", "quantity"}); a flag
/// given on the command line overrides the request file. A request file of the form
/// `{"defaults": {...}, "requests": [{...}, ...]}` is a batch: all its files are issued in
/// one transaction, all or nothing, into `--out-dir`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Request file (JSON): one request, or a batch {"defaults": {...}, "requests": [...]}.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
    /// The account (sold to).
    #[arg(long)]
    pub account: Option<String>,
    /// The install site.
    #[arg(long)]
    pub site: Option<String>,
    /// Product line (CIC).
    #[arg(long)]
    pub product: Option<String>,
    /// Product version (4.0).
    #[arg(long)]
    pub version: Option<String>,
    /// License type: production, switchover, development-small, development-large, trial,
    /// evaluation, disaster-recovery, media-server, multi-site-administration,
    /// e-faq-production, trial-system.
    #[arg(long = "type", value_name = "TYPE")]
    pub license_type: Option<String>,
    /// The server's host-ID code (from gethostid).
    #[arg(long, value_name = "CODE")]
    pub host_id: Option<String>,
    /// The server's machine name.
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,
    /// Host-ID code of the switchover server (omit to give it later).
    #[arg(long, value_name = "CODE")]
    pub switchover_host_id: Option<String>,
    /// Machine name of the switchover server.
    #[arg(long, value_name = "NAME")]
    pub switchover_machine: Option<String>,
    /// Switchover server item to use for the pair.
    #[arg(long, value_name = "PART")]
    pub switchover_part: Option<String>,
    /// The server item.
    #[arg(long, value_name = "PART")]
    pub server_part: Option<String>,
    /// An add-on item and how many units (repeatable).
    #[arg(long, value_name = "PART=QTY")]
    pub add: Vec<String>,
    /// System type, for example "Media Server Based (4.0+ only)".
    #[arg(long)]
    pub system_type: Option<String>,
    /// Mail connector, for example "Microsoft Exchange Server".
    #[arg(long)]
    pub mail_connector: Option<String>,
    /// Who generates the file (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub generated_by: Option<String>,
    /// Generated by a certified partner (non-ordered development files: 30 days, no units used).
    #[arg(long)]
    pub partner: bool,
    /// Disaster recovery: the related production file's id.
    #[arg(long, value_name = "ID")]
    pub related: Option<String>,
    /// Secret key to sign with (default: $I3LIC_KEY, else the config file's key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Where to write the new file ('-' for standard output; the id then goes to standard
    /// error).
    #[arg(long, value_name = "FILE", required_unless_present = "out_dir")]
    pub out: Option<PathBuf>,
    /// A folder to write each file into as <machine>.i3lic (required for a batch; an
    /// existing file is never replaced).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub out_dir: Option<PathBuf>,
}

/// `--quantity`: a whole number from 1 to [`format::MAX_COUNT`]; anything else (negative, zero,
/// too large for any count, not a number) is the same usage error (exit 2).
fn parse_quantity(s: &str) -> Result<u32, String> {
    quantity_in(s, 1)
}

/// A quantity from `min` to [`format::MAX_COUNT`], or why not: `out of range (...)` for every
/// number outside that range (negative, zero below `min`, past any integer type), `not a whole
/// number` for anything else; every flag that takes a quantity says the same.
pub fn quantity_in(s: &str, min: u32) -> Result<u32, String> {
    let t = s.trim();
    let out_of_range = || {
        format!(
            "out of range (expected a whole number from {min} to {})",
            format::MAX_COUNT
        )
    };
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number".into());
    }
    if t.starts_with('-') {
        return Err(out_of_range());
    }
    match digits.parse::<u64>() {
        Ok(n) if n >= u64::from(min) && n <= u64::from(format::MAX_COUNT) => {
            u32::try_from(n).map_err(|_| out_of_range())
        }
        _ => Err(out_of_range()),
    }
}
