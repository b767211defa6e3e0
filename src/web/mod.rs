//! Server-rendered HTML pages (askama templates under `src/web/templates`): the web app's screens
//! (`app`, built from the API's entities by `view`), and the sign-in, settings, stories and shorts
//! pages.

use askama::Template;

pub mod app;
pub mod assets;
pub mod view;

use crate::service::oauth::AuthorizeParams;

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage<'a> {
    pub instance_title: &'a str,
    pub app_name: &'a str,
    pub csrf: &'a str,
    pub params: &'a AuthorizeParams,
    pub error: Option<String>,
    pub login: &'a str,
    /// Set once the password passed for an account with two-factor sign-in: the form asks for
    /// the code instead, carrying this single-use challenge.
    pub challenge: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "authorize.html")]
pub struct AuthorizePage<'a> {
    pub instance_title: &'a str,
    pub app_name: &'a str,
    pub csrf: &'a str,
    pub params: &'a AuthorizeParams,
    pub username: &'a str,
    pub scopes: Vec<&'a str>,
}

#[derive(Template)]
#[template(path = "oob_code.html")]
pub struct OobCodePage<'a> {
    pub instance_title: &'a str,
    pub app_name: &'a str,
    pub code: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub instance_title: &'a str,
    pub heading: &'a str,
    pub message: &'a str,
    /// A success (shown as news, with the way on into the app), not an error.
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "web_sign_in.html")]
pub struct WebSignInPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    /// The local path to return to after signing in.
    pub next: &'a str,
    pub error: Option<String>,
    pub login: &'a str,
    /// As [`SignInPage::challenge`].
    pub challenge: Option<&'a str>,
}

/// The full-screen story viewer. `stories_json` is the `[Story]` list as JSON with `<` escaped,
/// safe inside a `<script type="application/json">`.
#[derive(Template)]
#[template(path = "stories.html")]
pub struct StoriesPage<'a> {
    pub instance_title: &'a str,
    pub username: &'a str,
    pub acct: &'a str,
    pub profile_url: &'a str,
    pub stories: Vec<()>,
    pub stories_json: String,
    pub csrf: &'a str,
    /// `/@USER/stories/` — the viewer posts `ID/seen` under it.
    pub seen_base: &'a str,
}

/// One short as the player shows it; `content` is sanitised HTML.
pub struct ShortView {
    pub id: String,
    pub video: String,
    pub poster: String,
    pub alt: String,
    pub content: String,
    pub acct: String,
    pub profile_url: String,
    pub favourited: bool,
    pub reblogged: bool,
    pub favourites_count: i64,
    pub reblogs_count: i64,
}

/// The full-screen shorts player (`/shorts`, `/@USER/shorts`).
#[derive(Template)]
#[template(path = "shorts.html")]
pub struct ShortsPage<'a> {
    pub instance_title: &'a str,
    pub heading: &'a str,
    pub shorts: Vec<ShortView>,
    pub signed_in: bool,
    pub csrf: &'a str,
    /// This page's path, URL-encoded, for the sign-in link.
    pub here_encoded: &'a str,
}

/// `GET /auth/password/new`: asks for the address to send a reset link to.
#[derive(Template)]
#[template(path = "password_new.html")]
pub struct PasswordNewPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
}

/// `GET /auth/password/edit`: the new password form of a reset link.
#[derive(Template)]
#[template(path = "password_edit.html")]
pub struct PasswordEditPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    pub token: &'a str,
    pub error: Option<String>,
}

/// `GET /auth/sign_up`: the sign-up form (with the reason field when sign-ups wait for approval).
#[derive(Template)]
#[template(path = "sign_up.html")]
pub struct SignUpPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    pub approval: bool,
    pub error: Option<String>,
    pub username: &'a str,
    pub email: &'a str,
    pub reason: &'a str,
}

/// `GET /auth/edit`: change the e-mail address or the password (each needs the current password).
#[derive(Template)]
#[template(path = "account_edit.html")]
pub struct AccountEditPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub pending_email: Option<&'a str>,
    pub two_factor: bool,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// `GET /settings/two_factor`: enrolment (QR code and key), recovery codes, turning it off.
#[derive(Template)]
#[template(path = "two_factor.html")]
pub struct TwoFactorPage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    pub enabled: bool,
    pub codes_left: i64,
    pub enrolment: Option<crate::service::two_factor::Enrolment>,
    /// Shown once, right after they are made.
    pub recovery_codes: Vec<String>,
    pub error: Option<String>,
}

/// `GET /settings/delete`: deleting one's own account, with the current password.
#[derive(Template)]
#[template(path = "account_delete.html")]
pub struct AccountDeletePage<'a> {
    pub instance_title: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<String>,
}
