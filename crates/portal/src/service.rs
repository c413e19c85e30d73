//! What the portal does, once, for both the pages and the API: every operation takes the
//! caller and checks what they may see and do before it touches the ledger. An account (or
//! anything in it) the caller may not see answers exactly as one that does not exist.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use format::{LicenseType, SecretKey, Timestamp};
use issuer::{
    AccountRef, ActivityFilter, ActivityRow, Attachment, Catalog, FileDetails, IssueRequest,
    Issued, Ledger, NewRequest, PartQuantity, PortalUser, RequestRecord, Site, SiteDetails,
    Summary, UpdateRequest, UpgradeSelection, UpgradedLine,
};

use crate::auth::{Sessions, Throttle};
use crate::error::PortalError;
use crate::kept::{Kept, Key};
pub use crate::policy::Caller;

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (served over TLS, or behind a proxy that terminates it).
    pub secure_cookies: bool,
    /// Reverse proxies whose header names the client address (for login throttling).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// How long a login of an account under attack waits ([`crate::throttle`]).
    pub login_delay: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            trusted_proxies: Default::default(),
            login_delay: crate::throttle::ACCOUNT_DELAY,
        }
    }
}

/// Everything a request handler reaches: the ledger (one writer, a few readers, and the
/// browser sessions kept in it), the catalog, the signing key and the login throttle.
pub struct AppState {
    writer: Mutex<Ledger>,
    readers: Vec<Mutex<Reader>>,
    next_reader: AtomicUsize,
    /// Whether a read may run on the async thread that asked for it: an SQLite read takes
    /// well under a millisecond. PostgreSQL's client blocks on a runtime of its own, which
    /// may not run on an async thread (and its reads wait for the network anyway).
    inline_reads: bool,
    /// The product catalog.
    pub catalog: Catalog,
    key: SecretKey,
    /// Login attempts.
    pub throttle: Throttle,
    /// Password checks allowed at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// How the server was started.
    pub config: Config,
    /// Requests to issue files, waiting for the writer.
    issues: IssueQueue,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("readers", &self.readers.len())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Readers opened beside the writer, so pages are served while a file is being issued.
pub const READERS: usize = 4;

impl AppState {
    /// Open the ledger at `location` (a path or a [`issuer::location::LedgerLocation`];
    /// created or migrated) with [`READERS`] readers.
    pub fn open(
        location: impl Into<issuer::location::LedgerLocation>,
        catalog: Catalog,
        key: SecretKey,
        config: Config,
    ) -> Result<AppState, issuer::IssuerError> {
        let location = location.into();
        let writer = Ledger::open_at(&location)?;
        let readers = (0..READERS)
            .map(|_| {
                Ledger::open_at(&location).map(|ledger| {
                    Mutex::new(Reader {
                        ledger,
                        kept: Kept::default(),
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AppState {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            inline_reads: matches!(location, issuer::location::LedgerLocation::Sqlite(_)),
            catalog,
            key,
            throttle: Throttle::new(config.login_delay),
            password_checks: Arc::new(tokio::sync::Semaphore::new(crate::auth::PASSWORD_CHECKS)),
            config,
            issues: IssueQueue::default(),
        })
    }

    /// The ledger file's permissions when group or others may open it, as found when the
    /// ledger was opened.
    pub fn loose_permissions(&self) -> Option<issuer::LoosePermissions> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .loose_permissions()
            .cloned()
    }

    /// The browser sessions, kept in the ledger (every portal process on it shares them).
    pub fn sessions(self: &Arc<Self>) -> Sessions<'_> {
        Sessions { state: self }
    }

    /// The public key's id (for the server log; the key itself is never served).
    pub fn key_id(&self) -> String {
        self.key.key_id().to_string()
    }

    /// Run a read on one of the readers, in one read transaction (every query of it sees
    /// the same state of the ledger): right here when one is free (a page's reads take well
    /// under a millisecond, less than handing them to another thread costs), else on a
    /// blocking thread that waits for one. On PostgreSQL a free reader runs as a change does
    /// ([`AppState::write`]: this thread, its async work moved elsewhere).
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&Ledger, &Catalog) -> Result<T, PortalError> + Send + 'static,
    {
        self.read_kept(move |l, _, cat| f(l, cat)).await
    }

    /// [`AppState::read`], with what this reader keeps of its earlier reads at the same
    /// ledger state (see [`crate::kept`]): `f` checks the caller against the ledger, then
    /// takes what does not depend on the caller from [`Kept::get_or`].
    pub async fn read_kept<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&Ledger, &mut Kept, &Catalog) -> Result<T, PortalError> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        {
            let free = (0..self.readers.len())
                .map(|i| (start + i) % self.readers.len())
                .find_map(|k| self.readers[k].try_lock().ok());
            match free {
                Some(mut r) if self.inline_reads => return r.run(&self.catalog, f),
                Some(mut r) if multi_threaded() => {
                    return tokio::task::block_in_place(|| r.run(&self.catalog, f));
                }
                // No free reader (or none may run here): a blocking thread waits for one.
                _ => {}
            }
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let n = me.next_reader.fetch_add(1, Ordering::Relaxed) % me.readers.len();
            let mut r = me.readers[n].lock().unwrap_or_else(|e| e.into_inner());
            r.run(&me.catalog, f)
        })
        .await
        .map_err(PortalError::internal)?
    }

    /// Run a change on the writer, off the async threads.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger, &Catalog, &SecretKey) -> Result<T, PortalError> + Send + 'static,
    {
        let me = self.clone();
        let run = move || {
            let mut l = me.writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut l, &me.catalog, &me.key)
        };
        // On the server's multi-threaded runtime the change runs right here, the runtime
        // moving this thread's other work to another thread while it waits for the disk (no
        // hand-off to a blocking thread and back in the request's way); elsewhere (a test's
        // single-threaded runtime) on a blocking thread.
        if multi_threaded() {
            // A panic is an internal error of this request, as on a blocking thread.
            return tokio::task::block_in_place(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
                    .unwrap_or_else(|_| Err(PortalError::internal("a change panicked")))
            });
        }
        tokio::task::spawn_blocking(run)
            .await
            .map_err(PortalError::internal)?
    }
}

/// Whether this runs on a multi-threaded runtime (the server's), where a blocking call may
/// run right on the async thread through `block_in_place`.
fn multi_threaded() -> bool {
    tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
}

/// A reader of the ledger and what it keeps of its last reads.
struct Reader {
    ledger: Ledger,
    kept: Kept,
}

impl Reader {
    fn run<T>(
        &mut self,
        cat: &Catalog,
        f: impl FnOnce(&Ledger, &mut Kept, &Catalog) -> Result<T, PortalError>,
    ) -> Result<T, PortalError> {
        let Reader { ledger, kept } = self;
        ledger.read_snapshot(|l| {
            kept.at(l.change_counter()?);
            f(l, kept, cat)
        })
    }
}

/// The summary rows of an account the caller may see (404 otherwise), account-wide or for
/// one install site, optionally of one product category only.
pub fn summary_parts(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<(AccountRef, Vec<issuer::PartSummary>), PortalError> {
    let a = account(l, c, id)?;
    let rows = parts_of(l, cat, &a, site, category)?;
    Ok((a, rows))
}

fn parts_of(
    l: &Ledger,
    cat: &Catalog,
    a: &AccountRef,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<Vec<issuer::PartSummary>, PortalError> {
    let mut rows = l.summary_parts(cat, &a.name, site)?;
    if let Some(k) = category {
        rows.retain(|p| p.category.eq_ignore_ascii_case(k));
    }
    Ok(rows)
}

/// What the Account Summary page shows.
#[derive(Debug, Clone)]
pub struct SummaryView {
    /// The account.
    pub account: AccountRef,
    /// Its rows, filtered.
    pub rows: Vec<issuer::PartSummary>,
    /// The product categories the account ordered (for the category filter).
    pub categories: Vec<String>,
    /// Its install sites (for the site filter).
    pub sites: Vec<Site>,
}

/// The Account Summary page of an account the caller may see (404 otherwise), taken from
/// what the reader keeps when the ledger is unchanged since it was read.
pub fn summary_view(
    l: &Ledger,
    kept: &mut Kept,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<String>,
    category: Option<String>,
) -> Result<Arc<SummaryView>, PortalError> {
    let a = account(l, c, id)?;
    let key = Key::Summary {
        account: a.id,
        site: site.clone(),
        category: category.clone(),
    };
    kept.get_or(key, || {
        let (site, category) = (site.as_deref(), category.as_deref());
        let rows = parts_of(l, cat, &a, site, category)?;
        // The category filter lists the categories the account ordered.
        let mut categories: Vec<String> = if site.is_none() && category.is_none() {
            rows.iter().map(|p| p.category.clone()).collect()
        } else {
            parts_of(l, cat, &a, None, None)?
                .into_iter()
                .map(|p| p.category)
                .collect()
        };
        categories.dedup();
        let sites = l.sites(&a.name)?;
        Ok(SummaryView {
            account: a.clone(),
            rows,
            categories,
            sites,
        })
    })
}

/// The accounts the caller may see, by name.
pub fn accounts(l: &Ledger, c: &Caller) -> Result<Vec<AccountRef>, PortalError> {
    Ok(l.account_refs()?
        .into_iter()
        .filter(|a| c.may_see(&a.name))
        .collect())
}

/// The account with this id, if the caller may see it; else 404.
pub fn account(l: &Ledger, c: &Caller, id: i64) -> Result<AccountRef, PortalError> {
    match l.account_by_id(id)? {
        Some(a) if c.may_see(&a.name) => Ok(a),
        _ => Err(PortalError::not_found()),
    }
}

/// The account a file belongs to, if the caller may see it; else 404.
pub fn file_account(l: &Ledger, c: &Caller, file: &str) -> Result<AccountRef, PortalError> {
    match l.file_account(file) {
        Ok(a) if c.may_see(&a.name) => Ok(a),
        Ok(_) | Err(issuer::IssuerError::UnknownFile { .. }) => Err(PortalError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The Account Summary, optionally for one install site and one product category
/// (`CIC 4.0`): the account's rows keep only parts of that category.
pub fn summary(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<Summary, PortalError> {
    let a = account(l, c, id)?;
    let mut s = l.summary(cat, &a.name, site)?;
    if let Some(k) = category {
        s.parts.retain(|p| p.category.eq_ignore_ascii_case(k));
        for site in &mut s.sites {
            site.parts.retain(|p| p.category.eq_ignore_ascii_case(k));
        }
    }
    Ok(s)
}

/// Filters of the Activation File Activity list as a page or the API takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(default)]
pub struct ActivityQuery {
    /// Install site.
    pub site: Option<String>,
    /// `yes`, `no` or `all` (the default).
    pub active: Option<String>,
    /// License type (`production`).
    #[serde(rename = "type")]
    pub license_type: Option<String>,
    /// Product line, `CIC` or `CIC 4.0`.
    pub product: Option<String>,
    /// Generated on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Generated on or before this date (`YYYY-MM-DD`, the whole day counts).
    pub to: Option<String>,
    /// Machine name of either server.
    pub machine: Option<String>,
    /// Page, from 1.
    pub page: Option<u64>,
}

/// Rows per page of the activity list.
pub const PAGE_SIZE: u32 = 50;
/// The highest page number accepted.
pub const MAX_PAGE: u64 = 1_000_000_000;

fn date(flag: &str, s: &str, end: bool) -> Result<Timestamp, PortalError> {
    let t: Timestamp = format!("{}T00:00:00Z", s.trim()).parse().map_err(|_| {
        PortalError::bad_request(format!(
            "{flag} '{}' is not a date: write it as YYYY-MM-DD",
            s.escape_debug()
        ))
    })?;
    Ok(if end { t.plus_days(1) } else { t })
}

/// A text field as given, trimmed, or `None` when it is missing or blank.
pub(crate) fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ActivityQuery {
    /// The ledger's filter for this query, for one account.
    pub fn filter(&self, account: &str) -> Result<ActivityFilter, PortalError> {
        let active = match nonempty(&self.active)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("all") => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(other) => {
                return Err(PortalError::bad_request(format!(
                    "active '{}' is not one of yes, no, all",
                    other.escape_debug()
                )))
            }
        };
        let license_type = nonempty(&self.license_type)
            .map(|t| {
                t.parse::<LicenseType>()
                    .map_err(|e| PortalError::bad_request(format!("type: {e}")))
            })
            .transpose()?;
        let from = nonempty(&self.from)
            .map(|s| date("from", s, false))
            .transpose()?;
        let to = nonempty(&self.to)
            .map(|s| date("to", s, true))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(PortalError::bad_request(
                    "the 'from' date is after the 'to' date: nothing could match",
                ));
            }
        }
        Ok(ActivityFilter {
            account: Some(account.to_string()),
            site: nonempty(&self.site).map(String::from),
            from,
            to,
            active,
            product_line: nonempty(&self.product).map(String::from),
            license_type,
            generated_by: None,
            machine: nonempty(&self.machine).map(String::from),
        })
    }
}

/// One page of the Activation File Activity list of an account the caller may see (404
/// otherwise), and the number of rows in all.
pub fn activity(
    l: &Ledger,
    c: &Caller,
    id: i64,
    q: &ActivityQuery,
) -> Result<(AccountRef, Vec<ActivityRow>, u64), PortalError> {
    let a = account(l, c, id)?;
    let (rows, total) = activity_of(l, &a, q)?;
    Ok((a, rows, total))
}

fn activity_of(
    l: &Ledger,
    a: &AccountRef,
    q: &ActivityQuery,
) -> Result<(Vec<ActivityRow>, u64), PortalError> {
    let f = q.filter(&a.name)?;
    let page = q.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(PortalError::bad_request(format!(
            "page {page} is not a page number from 1 to {MAX_PAGE}"
        )));
    }
    Ok(l.activity_page(
        &f,
        PAGE_SIZE,
        (page - 1).saturating_mul(u64::from(PAGE_SIZE)),
    )?)
}

/// What the Activation File Activity page shows.
#[derive(Debug, Clone)]
pub struct ActivityView {
    /// The account.
    pub account: AccountRef,
    /// The rows of the page asked for.
    pub rows: Vec<ActivityRow>,
    /// The number of rows on every page.
    pub total: u64,
    /// The account's install sites (for the site filter).
    pub sites: Vec<Site>,
}

/// The Activation File Activity page of an account the caller may see (404 otherwise),
/// taken from what the reader keeps when the ledger is unchanged since it was read.
pub fn activity_view(
    l: &Ledger,
    kept: &mut Kept,
    c: &Caller,
    id: i64,
    q: ActivityQuery,
) -> Result<Arc<ActivityView>, PortalError> {
    let a = account(l, c, id)?;
    let key = Key::Activity {
        account: a.id,
        query: q.clone(),
    };
    kept.get_or(key, || {
        let (rows, total) = activity_of(l, &a, &q)?;
        Ok(ActivityView {
            sites: l.sites(&a.name)?,
            account: a.clone(),
            rows,
            total,
        })
    })
}

/// The active user of an API token that is not revoked, by the token's SHA-256 (`None`
/// otherwise), taken from what the reader keeps when the ledger is unchanged.
pub fn token_user(
    l: &Ledger,
    kept: &mut Kept,
    digest: [u8; 32],
) -> Result<Arc<Option<PortalUser>>, PortalError> {
    kept.get_or(Key::Token(digest), || Ok(l.portal_token_user(&digest)?))
}

/// The portal user with this id as the caller of a session started under `epoch`, when they
/// exist, are not disabled and their sessions were not ended since (`None` otherwise),
/// taken from what the reader keeps when the ledger is unchanged.
pub fn caller(
    l: &Ledger,
    kept: &mut Kept,
    id: i64,
    epoch: i64,
) -> Result<Option<Caller>, PortalError> {
    let user = user(l, kept, id)?;
    Ok(Option::clone(&user)
        .filter(|u| u.active && u.sessions_epoch == epoch)
        .map(|user| Caller { user }))
}

/// The portal user with this id as the ledger has them (`None` when there is none), taken
/// from what the reader keeps when the ledger is unchanged since it was read.
pub fn user(l: &Ledger, kept: &mut Kept, id: i64) -> Result<Arc<Option<PortalUser>>, PortalError> {
    kept.get_or(Key::User(id), || Ok(l.portal_user(id)?))
}

/// The View License page of a file.
pub fn file(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: &str,
) -> Result<(AccountRef, FileDetails), PortalError> {
    let a = file_account(l, c, id)?;
    Ok((a, l.show(cat, id)?))
}

/// The recorded bytes of a file and the name to download it as (`MACHINE.i3lic`).
pub fn download(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: &str,
) -> Result<(String, Vec<u8>), PortalError> {
    let (_, f) = file(l, cat, c, id)?;
    let name = issuer::batch_file_name(&f.activation.primary_host.machine)
        .unwrap_or_else(|_| format!("{}.i3lic", f.id));
    Ok((name, l.file_bytes(&f.id)?))
}

/// The checks of a request to issue a file for an account, before it goes to the ledger:
/// the caller may see the account (404 otherwise) and generate files (403 otherwise); the
/// request's account must be the account's name, in any case (or empty); who generated it is the
/// caller; a partner's files are marked as theirs.
fn issue_request(
    l: &Ledger,
    c: &Caller,
    id: i64,
    mut req: IssueRequest,
) -> Result<IssueRequest, PortalError> {
    let a = account(l, c, id)?;
    c.require_generate()?;
    if !req.account.is_empty() && !issuer::ledger::policy::same_name(&req.account, &a.name) {
        return Err(PortalError::bad_request(format!(
            "the request names account '{}', but it was sent for account '{}'",
            req.account.escape_debug(),
            a.name.escape_debug()
        )));
    }
    req.account = a.name;
    // The file's "generated by" is also the audit log's actor of its row: `portal:EMAIL`.
    req.generated_by = c.actor();
    req.partner = c.may_generate_non_ordered();
    Ok(req)
}

/// A request to issue a file, waiting for the writer.
struct IssueJob {
    caller: Caller,
    account: i64,
    req: IssueRequest,
    done: tokio::sync::oneshot::Sender<Result<Issued, PortalError>>,
}

/// Requests to issue files waiting for the writer, and whether one request is taking them
/// there.
#[derive(Default)]
pub(crate) struct IssueQueue(Mutex<(Vec<IssueJob>, bool)>);

impl IssueQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<IssueJob>, bool)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Issue a file for an account ([`issue_request`]'s checks first). Requests that arrive
/// while the writer is busy are issued together when it is free: one durable transaction
/// for all of them ([`Ledger::issue_each`], group commit), each recorded or refused on its
/// own, so a file costs one fsync shared with the others instead of one of its own. Every
/// caller's answer waits for that commit.
pub async fn issue(
    st: &Arc<AppState>,
    c: Caller,
    id: i64,
    req: IssueRequest,
) -> Result<Issued, PortalError> {
    let (done, answer) = tokio::sync::oneshot::channel();
    let lead = {
        let mut q = st.issues.lock();
        q.0.push(IssueJob {
            caller: c,
            account: id,
            req,
            done,
        });
        !std::mem::replace(&mut q.1, true)
    };
    if lead {
        let mut leading = Leading {
            st: st.clone(),
            finished: false,
        };
        let more = issue_round(st).await;
        leading.finished = true;
        if more {
            carry_on(st);
        }
    }
    answer.await.map_err(PortalError::internal)?
}

/// A task takes the waiting requests to the writer, round after round, until none is left
/// (so a leader's own answer does not wait for those that came after it).
fn carry_on(st: &Arc<AppState>) {
    let st = st.clone();
    tokio::spawn(async move { while issue_round(&st).await {} });
}

/// A leader whose round did not finish (its request was dropped while it waited for the
/// writer) hands the queue on: to a task when requests are waiting, else nobody leads.
struct Leading {
    st: Arc<AppState>,
    finished: bool,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let waiting = {
            let mut q = self.st.issues.lock();
            q.1 = !q.0.is_empty();
            q.1
        };
        if waiting {
            carry_on(&self.st);
        }
    }
}

/// Take every waiting request to the writer in one transaction and answer each. Whether
/// more are waiting now (the caller then takes them too); if not, nobody is leading.
async fn issue_round(st: &Arc<AppState>) -> bool {
    let jobs = std::mem::take(&mut st.issues.lock().0);
    if !jobs.is_empty() {
        // A failed round (a panic) drops the jobs' senders: each waiting caller gets 500.
        let _ = st
            .write(move |l, cat, key| {
                issue_jobs(l, cat, key, jobs);
                Ok(())
            })
            .await;
    }
    let mut q = st.issues.lock();
    if q.0.is_empty() {
        q.1 = false;
        false
    } else {
        true
    }
}

fn issue_jobs(l: &mut Ledger, cat: &Catalog, key: &SecretKey, jobs: Vec<IssueJob>) {
    // The requests that pass their checks, and beside them who asked and where to answer.
    let mut reqs = Vec::with_capacity(jobs.len());
    let mut ready = Vec::with_capacity(jobs.len());
    for job in jobs {
        match issue_request(l, &job.caller, job.account, job.req) {
            Ok(req) => {
                reqs.push(req);
                ready.push((job.caller.user.email, job.done));
            }
            Err(e) => {
                let _ = job.done.send(Err(e));
            }
        }
    }
    if reqs.is_empty() {
        return;
    }
    match l.issue_each(cat, &reqs, key, Timestamp::now()) {
        Ok(results) => {
            for ((by, done), r) in ready.into_iter().zip(results) {
                if let Ok(i) = &r {
                    tracing::info!(target: "i3lic::portal", file = %i.file_id, by = %by, together = reqs.len(), "issued");
                }
                let _ = done.send(r.map_err(PortalError::from));
            }
        }
        Err(e) => {
            let e = PortalError::from(e);
            for (_, done) in ready {
                let _ = done.send(Err(e.clone()));
            }
        }
    }
}

/// What a page or the API asks an update to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateForm {
    /// Units to add, by part.
    pub add: Vec<PartQuantity>,
    /// The switchover server's host-ID code (given later than the first file).
    pub switchover_host_id: Option<String>,
    /// The switchover server's machine name.
    pub switchover_machine: Option<String>,
    /// The switchover server item.
    pub switchover_part: Option<String>,
    /// A new host-ID code for the primary server.
    pub host_id: Option<String>,
    /// A new machine name for the primary server.
    pub machine: Option<String>,
}

/// Update a file: a new file supersedes it.
pub fn update(
    l: &mut Ledger,
    cat: &Catalog,
    key: &SecretKey,
    c: &Caller,
    id: &str,
    u: UpdateForm,
) -> Result<Issued, PortalError> {
    file_account(l, c, id)?;
    c.require_generate()?;
    let opt = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let req = UpdateRequest {
        host_id: opt(u.host_id),
        machine: opt(u.machine),
        switchover_host_id: opt(u.switchover_host_id),
        switchover_machine: opt(u.switchover_machine),
        switchover_part: opt(u.switchover_part),
        add: u.add.into_iter().filter(|p| p.quantity > 0).collect(),
        generated_by: c.actor(),
        ..Default::default()
    };
    Ok(l.update(cat, id, &req, key, None, Timestamp::now())?)
}

/// The install sites of an account.
pub fn sites(l: &Ledger, c: &Caller, id: i64) -> Result<(AccountRef, Vec<Site>), PortalError> {
    let a = account(l, c, id)?;
    let s = l.sites(&a.name)?;
    Ok((a, s))
}

/// A new install site, as a form or the API sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Site name.
    pub name: String,
    /// Up to three address lines.
    #[serde(default)]
    pub address: Vec<String>,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State.
    #[serde(default)]
    pub state: String,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
}

/// An install site as sent, checked: a name that cannot add segments to an address, at
/// most three address lines (blank ones dropped), every value trimmed.
fn site_details(s: &NewSite) -> Result<(String, SiteDetails), PortalError> {
    let name = s.name.trim();
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(PortalError::bad_request(format!(
            "an install site name cannot contain '/' or '\\' or be '.' or '..' (got '{}')",
            name.escape_debug()
        )));
    }
    // Counted as sent, before blank lines are dropped: the ledger's rule.
    issuer::ledger::policy::check_address_lines(s.address.len())?;
    let d = SiteDetails {
        address: s
            .address
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        city: s.city.trim().into(),
        state: s.state.trim().into(),
        country: s.country.trim().into(),
        postal_code: s.postal_code.trim().into(),
    };
    Ok((name.to_string(), d))
}

/// Add an install site to an account.
pub fn add_site(l: &mut Ledger, c: &Caller, id: i64, s: &NewSite) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    let (name, d) = site_details(s)?;
    Ok(l.add_site(&a.name, &name, &d, &c.actor())?)
}

/// Rename an install site or change its address.
pub fn edit_site(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    site: &str,
    s: &NewSite,
) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    let (name, d) = site_details(s)?;
    let new_name = (name != site).then_some(name.as_str());
    l.edit_site(&a.name, site, new_name, &d, &c.actor())?;
    Ok(())
}

/// Activate or deactivate an install site.
pub fn set_site_active(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    site: &str,
    active: bool,
) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    Ok(l.set_site_active(&a.name, site, active, &c.actor())?)
}

#[allow(clippy::too_many_arguments)]
/// Upgrade an account's ordered items of a product from one version to another (every
/// item with an upgrade option), or with `dry_run` show what would move.
pub fn upgrade(
    l: &mut Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    product: &str,
    from: &str,
    to: &str,
    dry_run: bool,
) -> Result<Vec<UpgradedLine>, PortalError> {
    let a = account(l, c, id)?;
    if !dry_run {
        c.require_generate()?;
    }
    Ok(l.upgrade(
        cat,
        &a.name,
        product,
        from,
        to,
        &UpgradeSelection::Mirror,
        dry_run,
        &c.actor(),
    )?)
}

/// Send an activation file request for an account the caller may see.
pub fn add_request(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    mut r: NewRequest,
    attachments: &[Attachment],
) -> Result<String, PortalError> {
    let a = account(l, c, id)?;
    r.account = a.name;
    Ok(l.add_request(&r, attachments, &c.actor())?)
}

/// The requests the caller may see, newest first.
pub fn requests(l: &Ledger, c: &Caller) -> Result<Vec<RequestRecord>, PortalError> {
    if c.sees_every_account() {
        return Ok(l.requests(None)?);
    }
    let mut v = Vec::new();
    for a in &c.user.accounts {
        v.extend(l.requests(Some(a))?);
    }
    v.sort_by(|a, b| b.number.cmp(&a.number));
    Ok(v)
}

/// One request, if the caller may see it.
pub fn request(l: &Ledger, c: &Caller, number: &str) -> Result<RequestRecord, PortalError> {
    match l.request(number) {
        Ok(r) if c.may_see(&r.account) => Ok(r),
        Ok(_) | Err(issuer::IssuerError::UnknownRequest { .. }) => Err(PortalError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// One attachment of a request the caller may see.
pub fn attachment(
    l: &Ledger,
    c: &Caller,
    number: &str,
    position: i64,
) -> Result<Attachment, PortalError> {
    request(l, c, number)?;
    l.request_attachment(number, position)
        .map_err(|_| PortalError::not_found())
}

/// Close a request with an answer (staff only).
pub fn close_request(
    l: &mut Ledger,
    c: &Caller,
    number: &str,
    answer: &str,
) -> Result<(), PortalError> {
    request(l, c, number)?;
    c.require_close_request()?;
    Ok(l.close_request(number, answer, &c.actor())?)
}

/// What the live host-ID check says about a code as typed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostIdCheck {
    /// Whether the code is valid.
    pub valid: bool,
    /// `short` or `strong` when valid.
    pub form: Option<String>,
    /// The code as it will be written (canonical form) when valid.
    pub canonical: Option<String>,
    /// What is wrong, in words, when not.
    pub message: String,
}

/// Check a host-ID code as a customer typed it, explaining typos.
pub fn check_host_id(code: &str) -> HostIdCheck {
    match code.trim().parse::<hostid::HostId>() {
        Ok(h) => HostIdCheck {
            valid: true,
            form: Some(h.form().as_str().to_string()),
            canonical: Some(h.to_string()),
            message: "This host ID is valid.".into(),
        },
        Err(e) => HostIdCheck {
            valid: false,
            form: None,
            canonical: None,
            message: e.to_string(),
        },
    }
}

/// A refusal for the form of an unknown product version.
pub fn unknown_version(product: &str, version: &str) -> PortalError {
    PortalError::new(
        StatusCode::BAD_REQUEST,
        "bad-request",
        format!(
            "the catalog has no product '{} {}'",
            product.escape_debug(),
            version.escape_debug()
        ),
    )
}
