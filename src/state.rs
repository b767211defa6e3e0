//! Shared application state: the context every service function and handler runs with (the
//! database, configuration, caches, the streaming hub, outgoing HTTP clients).

use std::sync::Arc;

use crate::config::Config;
use crate::media::MediaStore;
use crate::realtime::Hub;
use crate::service::rate_limit::SignInLimiter;
use crate::storage::Db;

/// Cheap to clone: one reference count (axum clones the state for every request, and cloning
/// each of [`Shared`]'s parts was 1 % of a timeline request's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub config: Arc<Config>,
    /// When this process read its configuration and started (`updated_at` of the instance's
    /// extended description, which lives in the configuration).
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub db: Db,
    pub sign_in_limiter: Arc<SignInLimiter>,
    /// Budgets for sign-ups, password resets and posting.
    pub limits: Arc<crate::service::rate_limit::ActionLimits>,
    /// Streaming events go out through here.
    pub hub: Hub,
    /// The instance's VAPID key pair for Web Push, loaded on first use.
    pub vapid: Arc<tokio::sync::OnceCell<Arc<crate::service::push::Vapid>>>,
    /// Wakes the Web Push delivery worker after notifications are stored.
    pub push_wakeup: Arc<tokio::sync::Notify>,
    /// Users' compiled filters, reused for a few seconds (see `service::filters`).
    pub filters: Arc<crate::service::filters::FilterCache>,
    /// Local accounts with a streaming connection open (presence).
    pub presence: Arc<crate::realtime::Presence>,
    /// Wakes the delivery worker after activities are queued.
    pub delivery_wakeup: Arc<tokio::sync::Notify>,
    /// Where media files are kept.
    pub media: MediaStore,
    /// Wakes the job workers after jobs are queued.
    pub jobs_wakeup: Arc<tokio::sync::Notify>,
    /// Told whenever a media job ends, for requests waiting on one (`POST /api/v1/media`).
    pub media_done: Arc<tokio::sync::Notify>,
    /// `server.trusted_proxies`, parsed (see `http::extract::client_ip`).
    pub trusted_proxies: Arc<crate::net::address::Ranges>,
    /// The address rule for outgoing requests (see [`crate::net`]).
    pub egress: crate::net::Egress,
    /// Fetches from other servers outside ActivityPub (media, cards, stories, NodeInfo) and sends
    /// Web Push: [`crate::net::Egress::client`].
    pub http_client: crate::net::Client,
    /// ActivityPub fetches and deliveries (`service::activitypub::context::client`).
    pub federation_client: crate::net::Client,
    /// The domain blocks, reused for a couple of seconds (see `service::moderation::BlockCache`).
    pub blocks: Arc<crate::service::moderation::BlockCache>,
    /// The servers whose deliveries are failing, reused for a couple of seconds (see
    /// `service::delivery::FailingCache`).
    pub failing: Arc<crate::service::delivery::FailingCache>,
    /// Mentioned handles that could not be looked up lately (`service::statuses`), not asked again
    /// for [`crate::service::statuses::MENTION_MISS_TTL`].
    pub mention_misses: Arc<crate::service::cache::Misses>,
    /// Applications statuses were posted with (`service::render`), at most 1,024.
    pub applications:
        Arc<quick_cache::sync::Cache<i64, crate::api_types::status::StatusApplication>>,
    /// Accounts with their counters rendered lately (`service::render`), at most 10,000, each
    /// for at most [`crate::service::render::ACCOUNTS_TTL`].
    pub accounts:
        Arc<crate::service::cache::Kept<i64, Arc<crate::storage::accounts::AccountWithStats>>>,
    /// URLs of avatars and headers by media ID (`service::media::profile_image_urls`), at most
    /// 10,000, each for at most [`crate::service::render::ACCOUNTS_TTL`].
    pub profile_images: Arc<crate::service::cache::Kept<i64, Option<String>>>,
    /// Mentions and hashtags of statuses rendered lately (`service::render`), at most 20,000.
    pub status_links:
        Arc<crate::service::cache::Kept<i64, Arc<crate::service::render::StatusLinks>>>,
    /// What statuses rendered lately quote and how often they are quoted (`service::render`), at
    /// most 20,000, each for at most [`crate::service::render::QUOTE_FACTS_TTL`].
    pub quote_facts: Arc<crate::service::cache::Kept<i64, Arc<crate::service::render::QuoteFacts>>>,
    /// Statuses rendered for nobody in particular, as JSON (`service::rendered`), at most
    /// [`crate::service::rendered::CAPACITY_BYTES`], each for at most
    /// [`crate::service::rendered::RENDERED_TTL`].
    pub rendered: crate::service::rendered::RenderedStatuses,
    /// The instance documents' counts and contact, reloaded when older than
    /// [`crate::service::instance::FACTS_TTL`].
    pub instance_facts: crate::service::cache::Reloaded<crate::service::instance::Facts>,
    /// Bearer tokens resolved recently (`service::oauth::PrincipalCache`).
    pub principals: Arc<crate::service::oauth::PrincipalCache>,
    /// The shorts `for_you` ranking, reused for a few seconds (see `service::shorts`).
    pub for_you: Arc<tokio::sync::Mutex<Option<crate::service::shorts::Ranking>>>,
}

impl AppState {
    /// Whether this node shares its PostgreSQL database with others (`federation.shared_queue`):
    /// streams, presence and claims then cross nodes.
    pub fn clustered(&self) -> bool {
        self.config.federation.shared_queue && matches!(self.db, Db::Postgres(..))
    }

    /// Errors: the media store cannot be opened (see [`MediaStore::open`]), or
    /// `federation.allowed_private_addresses` or `server.trusted_proxies` has an entry that is not an
    /// address range.
    pub fn new(config: Config, db: Db) -> anyhow::Result<AppState> {
        let media = MediaStore::open(&config)?;
        let egress = crate::net::Egress::new(&config)?;
        let trusted_proxies = Arc::new(
            crate::net::address::Ranges::parse(&config.server.trusted_proxies)
                .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?,
        );
        let http_client = egress.client()?;
        let federation_client = crate::service::activitypub::context::client(&egress)?;
        Ok(AppState(Arc::new(Shared {
            sign_in_limiter: Arc::new(SignInLimiter::new(&config.rate_limits)),
            limits: Arc::new(crate::service::rate_limit::ActionLimits::new(
                &config.rate_limits,
            )),
            config: Arc::new(config),
            started_at: chrono::Utc::now(),
            db,
            hub: Hub::new(),
            presence: Arc::new(crate::realtime::Presence::default()),
            filters: Arc::new(crate::service::filters::FilterCache::default()),
            vapid: Arc::new(tokio::sync::OnceCell::new()),
            push_wakeup: Arc::new(tokio::sync::Notify::new()),
            delivery_wakeup: Arc::new(tokio::sync::Notify::new()),
            media,
            jobs_wakeup: Arc::new(tokio::sync::Notify::new()),
            media_done: Arc::new(tokio::sync::Notify::new()),
            egress,
            http_client,
            federation_client,
            trusted_proxies,
            for_you: Arc::new(tokio::sync::Mutex::new(None)),
            applications: Arc::new(quick_cache::sync::Cache::new(1024)),
            accounts: Arc::new(crate::service::cache::Kept::new(
                crate::storage::changes::Kind::Accounts,
                10_000,
                Some(crate::service::render::ACCOUNTS_TTL),
            )),
            profile_images: Arc::new(crate::service::cache::Kept::new(
                crate::storage::changes::Kind::Media,
                10_000,
                Some(crate::service::render::ACCOUNTS_TTL),
            )),
            status_links: Arc::new(crate::service::cache::Kept::new(
                crate::storage::changes::Kind::StatusLinks,
                20_000,
                None,
            )),
            quote_facts: Arc::new(crate::service::cache::Kept::new(
                crate::storage::changes::Kind::Statuses,
                20_000,
                Some(crate::service::render::QUOTE_FACTS_TTL),
            )),
            rendered: Default::default(),
            instance_facts: crate::service::cache::Reloaded::new(
                crate::service::instance::FACTS_TTL,
            ),
            principals: Arc::new(crate::service::oauth::principal_cache()),
            mention_misses: Arc::new(crate::service::cache::Misses::new(
                crate::service::statuses::MENTION_MISS_TTL,
                10_000,
            )),
            blocks: Arc::new(crate::service::moderation::BlockCache::new(
                crate::service::moderation::BLOCKS_FOR,
            )),
            failing: Arc::new(crate::service::delivery::FailingCache::new(
                crate::service::delivery::FAILING_FOR,
            )),
        })))
    }
}
