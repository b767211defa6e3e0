//! Every client of `shared/CLIENTS.md` signs in the way it does (its redirect URI, scopes, body
//! encoding, PKCE or not) and makes its launch calls; each answer is checked for the fields that
//! client cannot live without, and for `Content-Type: application/json`. One row per client.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::forms::{FormClient, hidden_inputs, set};
use crate::support::{Backend, TestApp};

#[derive(Clone, Copy)]
enum Body {
    Json,
    Form,
}

#[derive(Clone, Copy)]
enum Grant {
    /// The HTML authorization-code flow (with PKCE when true).
    Code { pkce: bool },
    /// The password grant (scripts: Mastodon.py).
    Password,
}

struct Client {
    name: &'static str,
    redirect: &'static str,
    scopes: &'static str,
    body: Body,
    grant: Grant,
    /// Launch calls after verify_credentials and the home timeline.
    launch: &'static [&'static str],
}

const CLIENTS: &[Client] = &[
    Client {
        name: "Tusky",
        redirect: "oauth2redirect://com.keylesspalace.tusky/",
        scopes: "read write follow push",
        body: Body::Form,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v2/instance",
            "/api/v1/notifications",
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
            "/api/v2/filters",
            "/api/v1/announcements",
            "/api/v1/trends/tags",
        ],
    },
    Client {
        name: "Mastodon Android",
        redirect: "org.joinmastodon.android-auth://callback",
        scopes: "read write follow push",
        body: Body::Json,
        grant: Grant::Code { pkce: true },
        launch: &[
            "/api/v2/instance",
            "/api/v1/notifications",
            "/api/v1/markers?timeline[]=notifications",
            "/api/v1/filters",
            "/api/v1/lists",
            "/api/v1/custom_emojis",
        ],
    },
    Client {
        name: "Mastodon iOS",
        redirect: "mastodon://joinmastodon.org/oauth",
        scopes: "read write follow push",
        body: Body::Json,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v1/instance",
            "/api/v2/instance",
            "/api/v1/notifications",
            "/api/v1/filters",
            "/api/v1/instance/translation_languages",
        ],
    },
    Client {
        name: "Elk",
        redirect: "https://elk.zone/api/rookery.test/oauth/https%3A%2F%2Felk.zone",
        scopes: "read write follow push",
        body: Body::Json,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v2/instance",
            "/api/v1/preferences",
            "/api/v1/followed_tags",
            "/nodeinfo/2.0",
            "/api/v1/trends/statuses",
        ],
    },
    Client {
        name: "Phanpy",
        redirect: "https://phanpy.social/",
        scopes: "read write follow push",
        body: Body::Form,
        grant: Grant::Code { pkce: true },
        launch: &[
            "/.well-known/oauth-authorization-server",
            "/api/v2/instance",
            "/api/v1/preferences",
            "/api/v1/announcements",
            "/.well-known/nodeinfo",
            "/api/v1/trends/links",
        ],
    },
    Client {
        name: "Ice Cubes",
        redirect: "icecubesapp://",
        scopes: "read write follow push",
        body: Body::Json,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v2/instance",
            "/api/v1/preferences",
            "/api/v1/lists",
            "/api/v1/custom_emojis",
            "/api/v1/followed_tags",
            "/api/v1/instance/peers",
        ],
    },
    Client {
        name: "Fedilab",
        redirect: "fedilab://backtofedilab",
        scopes: "read write follow push",
        body: Body::Form,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v1/instance",
            "/.well-known/nodeinfo",
            "/api/v2/filters",
            "/api/v1/lists",
            "/api/v1/custom_emojis",
        ],
    },
    Client {
        name: "Moshidon",
        redirect: "org.joinmastodon.android.moshidon://callback",
        scopes: "read write follow push",
        body: Body::Json,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v1/instance",
            "/api/v1/preferences",
            "/api/v1/filters",
            "/api/v1/lists",
            "/api/v1/followed_tags",
            "/api/v1/announcements",
        ],
    },
    Client {
        name: "Semaphore",
        redirect: "https://semaphore.social/settings/instances/add",
        scopes: "read write follow push",
        body: Body::Form,
        grant: Grant::Code { pkce: false },
        launch: &[
            "/api/v1/instance",
            "/api/v1/filters",
            "/api/v1/lists",
            "/api/v1/custom_emojis",
        ],
    },
    Client {
        name: "toot",
        redirect: "urn:ietf:wg:oauth:2.0:oob",
        scopes: "read write follow",
        body: Body::Json,
        grant: Grant::Code { pkce: false },
        launch: &["/api/v1/instance", "/api/v1/preferences"],
    },
    Client {
        name: "Mastodon.py",
        redirect: "urn:ietf:wg:oauth:2.0:oob\nhttps://example.org/callback",
        scopes: "read write follow push",
        body: Body::Form,
        grant: Grant::Password,
        launch: &["/api/v1/instance/", "/api/v2/instance/"],
    },
];

/// Fails unless every dotted path in `fields` is present (not missing; `null` allowed only where
/// Mastodon sends null).
fn require(what: &str, v: &Value, fields: &[&str]) {
    for f in fields {
        let found = f.split('.').try_fold(v, |v, k| v.get(k));
        assert!(found.is_some(), "{what}: missing {f} in {v}");
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body,
    data: Value,
) -> (Value, reqwest::header::HeaderMap) {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match body {
        Body::Json => req.json(&data),
        Body::Form => {
            let pairs: Vec<(String, String)> = data
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect();
            req.form(&pairs)
        }
    };
    let r = req.send().await.unwrap();
    let headers = r.headers().clone();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    (serde_json::from_str(&text).unwrap_or(Value::Null), headers)
}

fn assert_json(path: &str, headers: &reqwest::header::HeaderMap) {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        ct.starts_with("application/json") || ct.starts_with("application/jrd+json"),
        "{path}: content-type {ct}"
    );
}

/// Signs in as `client` does; returns the token answer.
async fn sign_in(app: &TestApp, c: &Client, user: &str) -> Value {
    let (registered, headers) = send(
        app,
        Method::POST,
        "/api/v1/apps",
        None,
        c.body,
        json!({"client_name": c.name, "redirect_uris": c.redirect, "scopes": c.scopes}),
    )
    .await;
    assert_json("/api/v1/apps", &headers);
    require(
        c.name,
        &registered,
        &[
            "id",
            "name",
            "client_id",
            "client_secret",
            "redirect_uri",
            "vapid_key",
        ],
    );
    assert!(
        !registered["vapid_key"].as_str().unwrap().is_empty(),
        "{}",
        c.name
    );
    let (id, secret) = (
        registered["client_id"].as_str().unwrap().to_string(),
        registered["client_secret"].as_str().unwrap().to_string(),
    );
    let redirect = c.redirect.lines().next().unwrap();
    let mut token_form = json!({"client_id": id, "client_secret": secret, "redirect_uri": redirect, "scope": c.scopes});
    match c.grant {
        Grant::Password => {
            token_form["grant_type"] = json!("password");
            token_form["username"] = json!(format!("{user}@example.com"));
            token_form["password"] = json!(format!("password-{user}"));
        }
        Grant::Code { pkce } => {
            let verifier = format!("{}-verifier-with-enough-entropy-0123456789", user);
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            let mut url = format!(
                "{}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}&scope={}&state=s1&force_login=true&lang=en",
                app.base,
                urlencoding::encode(redirect),
                urlencoding::encode(c.scopes)
            );
            if pkce {
                url.push_str(&format!(
                    "&code_challenge={challenge}&code_challenge_method=S256"
                ));
            }
            let mut browser = FormClient::new();
            let page = browser.get(&url).await;
            assert_eq!(page.status, 200, "{}: {}", c.name, page.text);
            let mut form = hidden_inputs(&page.text);
            set(&mut form, "action", "sign_in");
            set(&mut form, "username", user);
            set(&mut form, "password", &format!("password-{user}"));
            let consent = browser.post_form(&app.url("/oauth/authorize"), &form).await;
            let mut consent = hidden_inputs(&consent.text);
            set(&mut consent, "action", "approve");
            let answer = browser
                .post_form(&app.url("/oauth/authorize"), &consent)
                .await;
            let code = if redirect == "urn:ietf:wg:oauth:2.0:oob" {
                regex::Regex::new(r#"id="oauth-code" readonly value="([^"]+)""#)
                    .unwrap()
                    .captures(&answer.text)
                    .expect("code on the page")[1]
                    .to_string()
            } else {
                assert_eq!(answer.status, 302, "{}: {}", c.name, answer.text);
                let location = url::Url::parse(answer.header("location").unwrap()).unwrap();
                let q: std::collections::HashMap<_, _> =
                    location.query_pairs().into_owned().collect();
                assert_eq!(q["state"], "s1", "{}", c.name);
                q["code"].clone()
            };
            token_form["grant_type"] = json!("authorization_code");
            token_form["code"] = json!(code);
            if pkce {
                token_form["code_verifier"] = json!(verifier);
            }
        }
    }
    let (token, headers) = send(app, Method::POST, "/oauth/token", None, c.body, token_form).await;
    assert_json("/oauth/token", &headers);
    require(
        c.name,
        &token,
        &["access_token", "token_type", "scope", "created_at"],
    );
    for s in c.scopes.split(' ') {
        assert!(
            token["scope"].as_str().unwrap().split(' ').any(|x| x == s),
            "{}: scope {s} missing from {token}",
            c.name
        );
    }
    token
}

/// The fields each launch answer must carry (CLIENTS.md).
fn check_launch(client: &str, path: &str, v: &Value) {
    let bare = path.split('?').next().unwrap().trim_end_matches('/');
    match bare {
        "/api/v1/instance" => {
            require(
                client,
                v,
                &[
                    "uri",
                    "title",
                    "description",
                    "email",
                    "version",
                    "urls.streaming_api",
                    "stats.user_count",
                    "stats.status_count",
                    "stats.domain_count",
                ],
            );
            assert!(
                !v["uri"].as_str().unwrap().contains("://"),
                "uri is the bare host"
            );
        }
        "/api/v2/instance" => {
            require(
                client,
                v,
                &[
                    "domain",
                    "title",
                    "version",
                    "description",
                    "registrations.enabled",
                    "contact.email",
                    "contact.account",
                    "thumbnail.url",
                    "configuration.urls.streaming",
                    "configuration.statuses.max_characters",
                    "configuration.statuses.max_media_attachments",
                    "configuration.statuses.characters_reserved_per_url",
                    "configuration.polls.max_options",
                    "configuration.polls.max_characters_per_option",
                    "configuration.polls.min_expiration",
                    "configuration.polls.max_expiration",
                    "configuration.accounts.max_featured_tags",
                    "configuration.vapid.public_key",
                    "api_versions.mastodon",
                ],
            );
            assert!(
                !v["configuration"]["vapid"]["public_key"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
        "/api/v1/preferences" => require(
            client,
            v,
            &["posting:default:visibility", "reading:expand:spoilers"],
        ),
        "/nodeinfo/2.0" => require(
            client,
            v,
            &["software.name", "software.version", "usage.users.total"],
        ),
        "/.well-known/nodeinfo" => require(client, v, &["links"]),
        "/.well-known/oauth-authorization-server" => {
            assert!(
                v["code_challenge_methods_supported"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m == "S256")
            );
        }
        "/api/v1/instance/translation_languages" | "/api/v1/markers" => {
            assert!(v.is_object(), "{client}: {v}")
        }
        _ => assert!(v.is_array(), "{client}: {path} is a list: {v}"),
    }
    if bare.ends_with("/instance") {
        // Mastodon.py, Ice Cubes and Mastodon iOS parse a Mastodon-style version.
        let version = v["version"].as_str().unwrap_or("");
        assert!(
            regex::Regex::new(r"^\d+\.\d+\.\d+")
                .unwrap()
                .is_match(version),
            "{client}: version {version}"
        );
    }
}

#[tokio::test]
async fn every_client_signs_in_and_launches() {
    let app = TestApp::start(Backend::Sqlite).await;
    for (i, c) in CLIENTS.iter().enumerate() {
        let user = format!("user{i}");
        app.create_user(&user).await;
        let token = sign_in(&app, c, &user).await;
        let token = token["access_token"].as_str().unwrap().to_string();
        let (me, headers) = send(
            &app,
            Method::GET,
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            Body::Json,
            json!({}),
        )
        .await;
        assert_json("verify_credentials", &headers);
        require(
            c.name,
            &me,
            &[
                "id",
                "username",
                "acct",
                "url",
                "display_name",
                "note",
                "avatar",
                "header",
                "created_at",
                "locked",
                "emojis",
                "followers_count",
                "following_count",
                "statuses_count",
            ],
        );
        let (home, headers) = send(
            &app,
            Method::GET,
            "/api/v1/timelines/home",
            Some(&token),
            Body::Json,
            json!({}),
        )
        .await;
        assert_json("home", &headers);
        assert!(home.is_array());
        for path in c.launch {
            let r = app.get(path, Some(&token)).await;
            assert_eq!(r.status, 200, "{}: {path}: {}", c.name, r.text);
            assert_json(path, &r.headers);
            check_launch(c.name, path, &r.json());
        }
        // Apps that read the push subscription get 404 until they have one, in the error shape.
        if c.scopes.contains("push") {
            app.get("/api/v1/push/subscription", Some(&token))
                .await
                .assert_error(404);
        }
    }
}
