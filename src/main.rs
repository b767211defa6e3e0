//! The `rookery` command: `serve`, `migrate`, and `admin …` tasks for operators.

use std::path::PathBuf;

// jemalloc by default: on the timelines bench it served 1.5 times glibc's requests, and mimalloc
// about as many at twice the memory (docs/PERFORMANCE.md, issue 23).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use rookery::config::Config;
use rookery::service::accounts::{self, CreateLocalAccount, Role};
use rookery::service::emojis;
use rookery::service::moderation::{self, AccountAction};
use rookery::state::AppState;
use rookery::storage::accounts as store;

#[derive(Parser)]
#[command(name = "rookery", version, about = "A federated social server")]
struct Cli {
    /// Configuration file (TOML). Without it, `config/rookery.toml` is read when present, and
    /// `ROOKERY__SECTION__KEY` variables override either.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations, then serve HTTP.
    Serve {
        /// `all` (the default): the client API, pages and federation, and every background
        /// worker; `web`: HTTP only, no workers; `worker`: the workers, with only `/health`,
        /// `/ready` and `/metrics` over HTTP (docs/DEPLOY.md, "Several machines").
        #[arg(long, default_value = "all", value_parser = ["all", "web", "worker"])]
        role: String,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Operator tasks.
    Admin {
        #[command(subcommand)]
        what: Admin,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Local accounts.
    Account {
        #[command(subcommand)]
        action: AccountCmd,
    },
    /// Custom emojis.
    Emoji {
        #[command(subcommand)]
        action: EmojiCmd,
    },
    /// Other servers: block (suspend) or unblock them.
    Domain {
        #[command(subcommand)]
        action: DomainCmd,
    },
    /// Media files.
    Media {
        #[command(subcommand)]
        action: MediaCmd,
    },
    /// Reports about accounts.
    Report {
        #[command(subcommand)]
        action: ReportCmd,
    },
    /// Announcements shown in apps.
    Announcement {
        #[command(subcommand)]
        action: AnnouncementCmd,
    },
}

#[derive(Subcommand)]
enum AnnouncementCmd {
    /// Publish an announcement now (plain text; links are linked). Prints its ID.
    Create {
        #[arg(long)]
        text: String,
        /// When the event it announces starts (RFC 3339).
        #[arg(long)]
        starts_at: Option<chrono::DateTime<chrono::Utc>>,
        /// When it stops being shown (RFC 3339).
        #[arg(long)]
        ends_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The times are dates only.
        #[arg(long)]
        all_day: bool,
    },
    /// Delete an announcement (apps drop it at once).
    Delete {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum DomainCmd {
    /// Stop federating with a server: its activities are refused, nothing is sent to or fetched
    /// from it, and follows with its accounts end.
    Block {
        domain: String,
        #[arg(long, default_value = "suspend", value_parser = ["suspend", "silence", "noop"])]
        severity: String,
        /// A note for other admins.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Lift a block.
    Unblock { domain: String },
}

#[derive(Subcommand)]
enum AccountCmd {
    /// Create a confirmed, approved local account and print its id.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "user", value_parser = ["user", "moderator", "admin"])]
        role: String,
    },
    /// Change an account's role.
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["user", "moderator", "admin"])]
        role: String,
    },
    /// Stop an account from signing in (its tokens and sessions are revoked).
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Suspend an account (`name` or `name@domain`): its content is removed at once and, for a
    /// local account, every known server is told to delete it.
    Suspend {
        account: String,
        /// Resolve this report with the action.
        #[arg(long)]
        report: Option<i64>,
    },
    /// Lift a suspension (removed content stays removed).
    Unsuspend { account: String },
    /// Limit an account: its posts reach only its followers.
    Silence {
        account: String,
        #[arg(long)]
        report: Option<i64>,
    },
    /// Lift a limit.
    Unsilence { account: String },
    /// Import a CSV file in Mastodon's format into an account, showing progress; rows that fail
    /// are listed with their line and reason at the end.
    Import {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["following", "blocking", "muting", "domain_blocking", "bookmarks", "lists"])]
        kind: String,
        /// Remove what the file does not list (else merge).
        #[arg(long)]
        overwrite: bool,
        file: PathBuf,
    },
    /// Write an account's CSV file in Mastodon's format (to `--output`, else standard output).
    Export {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["following", "blocking", "muting", "domain_blocking", "bookmarks", "lists"])]
        kind: String,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Approve a sign-up held for approval.
    Approve { username: String },
    /// Reject (delete) a sign-up held for approval.
    Reject { username: String },
}

#[derive(Subcommand)]
enum ReportCmd {
    /// Open reports (with `--resolved`, resolved ones), newest first.
    List {
        #[arg(long)]
        resolved: bool,
    },
    /// Mark a report resolved without acting on the account.
    Resolve { id: i64 },
}

#[derive(Subcommand)]
enum MediaCmd {
    /// Evict cached copies of remote media older than `--days` (default: media.remote_cache_days)
    /// and delete uploads left unattached for a day. Prints what was removed.
    Prune {
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum EmojiCmd {
    /// Add a custom emoji from a PNG, GIF or WebP file (at most 256 KiB).
    Add {
        #[arg(long)]
        shortcode: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        category: Option<String>,
    },
    /// Remove a custom emoji.
    Remove {
        #[arg(long)]
        shortcode: String,
    },
    /// List this instance's emojis, or (`--remote`) those other servers' posts brought.
    List {
        #[arg(long)]
        remote: bool,
    },
    /// Make a remote emoji (SHORTCODE@DOMAIN) one of this instance's own.
    Copy {
        emoji: String,
        #[arg(long)]
        category: Option<String>,
    },
    /// Hide an emoji (SHORTCODE, or SHORTCODE@DOMAIN for a remote one) everywhere.
    Disable { emoji: String },
    /// Show a disabled emoji again.
    Enable { emoji: String },
}

/// Logs to standard output, as `log.format` says: text, or one JSON object per line (with the
/// current span's fields, `request_id` among them).
fn init_tracing(format: rookery::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    match format {
        rookery::config::LogFormat::Text => {
            tracing_subscriber::fmt().with_env_filter(filter).init()
        }
        rookery::config::LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
    }
    rookery::server::log_panics();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cfg = Config::load(cli.config.as_deref())?;
    init_tracing(cfg.log.format);
    match cli.command {
        Command::Serve { role } => {
            let role = rookery::server::Role::parse(&role).unwrap_or(rookery::server::Role::All);
            rookery::server::run(cfg, role).await
        }
        Command::Migrate => {
            let db = rookery::server::open_db(&cfg).await?;
            println!("migrations applied ({})", db.kind());
            Ok(())
        }
        Command::Admin { what } => {
            let db = rookery::server::open_db(&cfg).await?;
            let state = AppState::new(cfg, db)?;
            // What the command publishes (an announcement) reaches the nodes' streams.
            // ... and what it changes (a disabled account, say) leaves the nodes' caches at once.
            let relay = match &state.db {
                rookery::storage::Db::Postgres(pool, ..)
                    if state.config.federation.shared_queue =>
                {
                    let node = rookery::jobs::node_id();
                    Some(rookery::realtime::cluster::start_sending(
                        &state.hub,
                        pool.clone(),
                        node,
                    ))
                }
                _ => None,
            };
            let result = admin(&state, what).await;
            state.hub.disconnect();
            if let Some(relay) = relay {
                let _ = relay.await;
                rookery::realtime::cluster::flushed(std::time::Duration::from_secs(5)).await;
            }
            state.db.close().await;
            result
        }
    }
}

async fn user_by_username(state: &AppState, username: &str) -> anyhow::Result<store::UserRow> {
    let account = store::find_local_account_by_username(&state.db, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no local account named {username:?}"))?;
    store::find_user_by_account(&state.db, account.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{username:?} has no user record"))
}

/// An account by `name` (local) or `name@domain` (remote, as known here).
async fn account_by_acct(state: &AppState, acct: &str) -> anyhow::Result<store::AccountRow> {
    let (username, domain) = accounts::parse_acct(acct, &state.config.server.domain)
        .ok_or_else(|| anyhow::anyhow!("{acct:?} is not NAME or NAME@DOMAIN"))?;
    store::find_account_by_acct(&state.db, username, domain)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account {acct:?} is known here"))
}

/// `rookery admin account import`: the same import as `POST /api/v1/imports`, processed here with a
/// progress bar. Its job is queued claimed by this process and kept claimed while it runs; if this
/// process dies, the server's worker resumes the import where it stopped.
async fn import_file(
    state: &AppState,
    username: &str,
    kind: &str,
    overwrite: bool,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use rookery::service::imports;
    let user = user_by_username(state, username).await?;
    let kind = imports::Kind::parse(kind).ok_or_else(|| anyhow::anyhow!("unknown kind {kind}"))?;
    let bytes = std::fs::read(file)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let federation = rookery::service::activitypub::context::build(state.clone()).await?;
    let (row, job) =
        imports::create_row(state, user.account_id, kind, overwrite, &name, &bytes, true)
            .await
            .map_err(explain)?;
    let db = state.db.clone();
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(rookery::jobs::HEARTBEAT).await;
            if let Err(e) = rookery::jobs::renew(&db, job).await {
                eprintln!("could not renew the import's claim: {e}");
            }
        }
    });
    let bar = indicatif::ProgressBar::new(row.total_items as u64);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)",
    )?);
    let result = imports::process(&federation, row.id, &|done, _| {
        bar.set_position(done as u64)
    })
    .await;
    heartbeat.abort();
    result.map_err(explain)?;
    rookery::jobs::finish(&state.db, job).await?;
    bar.finish_and_clear();
    let done = imports::show(state, user.account_id, &row.id.to_string())
        .await
        .map_err(explain)?;
    println!(
        "import {}: {} of {} rows imported, {} failed",
        done.id, done.imported_items, done.total_items, done.failed_items
    );
    for f in done.failures.unwrap_or_default().iter().take(50) {
        println!("line {}: {} — {}", f.line, f.item, f.error);
    }
    if done.failed_items > 50 {
        println!(
            "… and {} more (GET /api/v1/imports/{})",
            done.failed_items - 50,
            done.id
        );
    }
    Ok(())
}

/// Shows an application error the way an operator needs it: the message, plus field details.
fn explain(e: rookery::error::AppError) -> anyhow::Error {
    let body = e.body();
    anyhow::anyhow!(
        "{}",
        body.get("details")
            .map(|d| format!("{} {d}", body["error"].as_str().unwrap_or("")))
            .unwrap_or_else(|| e.to_string())
    )
}

async fn admin(state: &AppState, what: Admin) -> anyhow::Result<()> {
    match what {
        Admin::Account { action } => match action {
            AccountCmd::Create {
                username,
                email,
                password,
                role,
            } => {
                let role = Role::parse(&role).unwrap_or(Role::User);
                let (account, _) = accounts::create_local(
                    state,
                    &CreateLocalAccount {
                        username: &username,
                        email: &email,
                        password: &password,
                        role,
                        approved: true,
                        locale: None,
                        reason: None,
                        allow_reserved: true,
                        confirmed: true,
                    },
                )
                .await
                .map_err(explain)?;
                println!("{}", account.id);
            }
            AccountCmd::Import {
                username,
                kind,
                overwrite,
                file,
            } => import_file(state, &username, &kind, overwrite, &file).await?,
            AccountCmd::Export {
                username,
                kind,
                output,
            } => {
                let user = user_by_username(state, &username).await?;
                let name = match kind.as_str() {
                    "following" => "following_accounts.csv",
                    "blocking" => "blocked_accounts.csv",
                    "muting" => "muted_accounts.csv",
                    "domain_blocking" => "blocked_domains.csv",
                    "bookmarks" => "bookmarks.csv",
                    _ => "lists.csv",
                };
                let csv = rookery::service::imports::export(state, user.account_id, name)
                    .await
                    .map_err(explain)?;
                match output {
                    Some(path) => {
                        std::fs::write(&path, &csv)?;
                        eprintln!("{} bytes written to {}", csv.len(), path.display());
                    }
                    None => std::io::Write::write_all(&mut std::io::stdout(), &csv)?,
                }
            }
            AccountCmd::SetRole { username, role } => {
                let user = user_by_username(state, &username).await?;
                store::set_role(&state.db, user.id, &role).await?;
                println!("{username} is now {role}");
            }
            AccountCmd::Disable { username } => {
                let user = user_by_username(state, &username).await?;
                moderation::disable_login(state, &user)
                    .await
                    .map_err(explain)?;
                println!("{username} is disabled");
            }
            AccountCmd::Enable { username } => {
                let user = user_by_username(state, &username).await?;
                store::set_disabled(&state.db, user.id, false).await?;
                println!("{username} is enabled");
            }
            AccountCmd::Suspend { account, report } => {
                let target = account_by_acct(state, &account).await?;
                moderation::act(state, None, &target, AccountAction::Suspend, report)
                    .await
                    .map_err(explain)?;
                println!("{account} is suspended");
            }
            AccountCmd::Unsuspend { account } => {
                let target = account_by_acct(state, &account).await?;
                moderation::undo(state, &target, AccountAction::Suspend)
                    .await
                    .map_err(explain)?;
                println!("{account} is no longer suspended");
            }
            AccountCmd::Silence { account, report } => {
                let target = account_by_acct(state, &account).await?;
                moderation::act(state, None, &target, AccountAction::Silence, report)
                    .await
                    .map_err(explain)?;
                println!("{account} is limited");
            }
            AccountCmd::Unsilence { account } => {
                let target = account_by_acct(state, &account).await?;
                moderation::undo(state, &target, AccountAction::Silence)
                    .await
                    .map_err(explain)?;
                println!("{account} is no longer limited");
            }
            AccountCmd::Approve { ref username } | AccountCmd::Reject { ref username } => {
                let approve = matches!(action, AccountCmd::Approve { .. });
                let target = account_by_acct(state, username).await?;
                moderation::decide_sign_up(state, &target, approve)
                    .await
                    .map_err(explain)?;
                println!(
                    "{username} is {}",
                    if approve { "approved" } else { "rejected" }
                );
            }
        },
        Admin::Report { action } => match action {
            ReportCmd::List { resolved } => {
                let filter = rookery::storage::reports::ReportFilter {
                    resolved,
                    ..Default::default()
                };
                let page = rookery::storage::sql::Page {
                    max_id: None,
                    since_id: None,
                    min_id: None,
                    limit: 200,
                };
                for r in rookery::storage::reports::list(&state.db, &filter, &page).await? {
                    let name = |id| async move {
                        store::find_account(&state.db, id)
                            .await
                            .ok()
                            .flatten()
                            .map(|a| match a.domain {
                                Some(d) => format!("{}@{d}", a.username),
                                None => a.username,
                            })
                            .unwrap_or_default()
                    };
                    println!(
                        "{}\t{}\t{} reported {} ({}): {}",
                        r.id,
                        r.created_at.format("%Y-%m-%d %H:%M"),
                        name(r.account_id).await,
                        name(r.target_account_id).await,
                        r.category,
                        r.comment.replace('\n', " ")
                    );
                }
            }
            ReportCmd::Resolve { id } => {
                rookery::storage::reports::find(&state.db, id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no report {id}"))?;
                rookery::storage::reports::set_resolved(&state.db, id, true, None).await?;
                println!("report {id} is resolved");
            }
        },
        Admin::Domain { action } => match action {
            DomainCmd::Block {
                domain,
                severity,
                comment,
            } => {
                let row = rookery::service::moderation::block_domain(
                    state,
                    &domain,
                    rookery::storage::domain_blocks::BlockSettings {
                        severity,
                        private_comment: comment,
                        ..Default::default()
                    },
                )
                .await
                .map_err(explain)?;
                println!("{} blocked ({})", row.domain, row.severity);
            }
            DomainCmd::Unblock { domain } => {
                if !rookery::service::moderation::unblock_domain(state, &domain)
                    .await
                    .map_err(explain)?
                {
                    anyhow::bail!("{domain} was not blocked");
                }
                println!("{domain} unblocked");
            }
        },
        Admin::Media {
            action: MediaCmd::Prune { days },
        } => {
            let r = rookery::service::media::prune(state, days)
                .await
                .map_err(explain)?;
            println!(
                "evicted {} cached remote files, deleted {} unattached uploads",
                r.evicted, r.deleted
            );
        }
        Admin::Announcement { action } => match action {
            AnnouncementCmd::Create {
                text,
                starts_at,
                ends_at,
                all_day,
            } => {
                let a = rookery::service::announcements::create(
                    state,
                    rookery::service::announcements::NewAnnouncement {
                        text: &text,
                        starts_at,
                        ends_at,
                        all_day,
                    },
                )
                .await
                .map_err(explain)?;
                println!("{}", a.id);
            }
            AnnouncementCmd::Delete { id } => {
                rookery::service::announcements::delete(state, id)
                    .await
                    .map_err(explain)?;
                println!("announcement {id} deleted");
            }
        },
        Admin::Emoji { action } => match action {
            EmojiCmd::Add {
                shortcode,
                file,
                category,
            } => {
                emojis::add_local(state, &shortcode, &file, category.as_deref())
                    .await
                    .map_err(explain)?;
                println!(":{shortcode}: added");
            }
            EmojiCmd::Remove { shortcode } => {
                if !emojis::remove_local(state, &shortcode)
                    .await
                    .map_err(explain)?
                {
                    anyhow::bail!("no emoji named :{shortcode}:");
                }
                println!(":{shortcode}: removed");
            }
            EmojiCmd::List { remote } => {
                let rows = if remote {
                    emojis::list_remote(state, 1000).await.map_err(explain)?
                } else {
                    rookery::storage::emojis::list_local(&state.db).await?
                };
                for r in rows {
                    let at = r
                        .domain
                        .as_deref()
                        .map(|d| format!("@{d}"))
                        .unwrap_or_default();
                    let off = if r.disabled { " (disabled)" } else { "" };
                    let category = r.category.as_deref().unwrap_or("");
                    println!(":{}:{at}\t{category}{off}", r.shortcode);
                }
            }
            EmojiCmd::Copy { emoji, category } => {
                emojis::copy_remote(state, &emoji, category.as_deref())
                    .await
                    .map_err(explain)?;
                println!("{emoji} copied");
            }
            EmojiCmd::Disable { emoji } => {
                emojis::set_disabled(state, &emoji, true)
                    .await
                    .map_err(explain)?;
                println!("{emoji} disabled");
            }
            EmojiCmd::Enable { emoji } => {
                emojis::set_disabled(state, &emoji, false)
                    .await
                    .map_err(explain)?;
                println!("{emoji} enabled");
            }
        },
    }
    Ok(())
}
