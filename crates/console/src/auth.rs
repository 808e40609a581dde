//! Who may use the console: the bind rule and the login.
//!
//! The console can change the cluster (create and delete topics and groups, send and
//! resend messages, reset offsets), so it is safe by default. It binds 127.0.0.1,
//! where only users of the machine reach it. Binding any other address needs a login:
//! a user name and a password given at start. Without them the console refuses to
//! start. With them, every page and API call needs a session: the login page
//! (`GET /login`) posts the user and password to `POST /login`, which answers with a
//! session cookie (`rmq_console_session`, `HttpOnly`, `SameSite=Strict`, so another
//! site's page cannot make the browser send it). `POST /logout` ends the session;
//! `GET /api/session` tells the page whether there is a login (to show "Log out").
//! Sessions live in the console's memory for [`SESSION_TTL`]; a restart ends them all.
//! Without a session an API call gets 401 with a JSON error, and a page is sent to
//! `/login`.
//! Book: Part III "The web console" (Safe by default).
//! Mirrors rocketmq-console's `rocketmq.config.loginRequired` with its
//! `users.properties` file, `LoginController` and `LoginInterceptor` (a form login
//! and an HTTP session there too).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use rand::RngCore;
use serde::Deserialize;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "rmq_console_session";
/// How long a session lasts after its login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept at once; a login beyond it ends the oldest session.
pub const MAX_SESSIONS: usize = 256;

/// The login page, compiled into the binary; `{{error}}` is replaced by the message.
const LOGIN_HTML: &str = include_str!("../assets/login.html");

/// A configured login: the one user allowed in, and the open sessions.
#[derive(Clone)]
pub struct Login {
    user: Arc<String>,
    password: Arc<String>,
    /// Session token to the time of its login.
    sessions: Arc<Mutex<HashMap<String, Instant>>>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login(<redacted>)")
    }
}

/// Why the console refuses to start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// A non-loopback address without a user and password.
    #[error("refusing to listen on {0} without a login: pass --user and --password (or $RMQ_CONSOLE_PASSWORD), or listen on 127.0.0.1")]
    OpenWithoutLogin(SocketAddr),
    /// Only one of user and password was given, or one is empty.
    #[error("a login needs both a non-empty --user and a non-empty --password")]
    HalfLogin,
}

/// Compares every byte, so the time taken does not tell how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Login {
    /// A login for `user` with `password`.
    pub fn new(user: &str, password: &str) -> Login {
        Login {
            user: Arc::new(user.to_string()),
            password: Arc::new(password.to_string()),
            sessions: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether `user` and `password` are the configured ones.
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        // Both comparisons always run: the time does not tell which one failed.
        let u = same(user.as_bytes(), self.user.as_bytes());
        let p = same(password.as_bytes(), self.password.as_bytes());
        u & p
    }

    /// Opens a session and returns its token (32 random bytes, hex).
    pub fn open_session(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(mut s) = self.sessions.lock() {
            s.retain(|_, at| at.elapsed() < SESSION_TTL);
            if s.len() >= MAX_SESSIONS {
                if let Some(oldest) = s.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone()) {
                    s.remove(&oldest);
                }
            }
            s.insert(token.clone(), Instant::now());
        }
        token
    }

    /// Whether `token` names a live session.
    pub fn valid(&self, token: &str) -> bool {
        let Ok(s) = self.sessions.lock() else {
            return false;
        };
        s.iter()
            .any(|(k, at)| same(k.as_bytes(), token.as_bytes()) && at.elapsed() < SESSION_TTL)
    }

    /// Ends the session `token`, if it is open.
    pub fn close_session(&self, token: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(token);
        }
    }
}

// ANCHOR: bind_rule
/// The bind rule: loopback needs nothing; any other address needs a full login.
pub fn login_for(
    listen: SocketAddr,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<Option<Login>, AuthError> {
    let user = user.filter(|u| !u.is_empty());
    let password = password.filter(|p| !p.is_empty());
    match (user, password) {
        (Some(u), Some(p)) => Ok(Some(Login::new(u, p))),
        (None, None) if listen.ip().is_loopback() => Ok(None),
        (None, None) => Err(AuthError::OpenWithoutLogin(listen)),
        _ => Err(AuthError::HalfLogin),
    }
}
// ANCHOR_END: bind_rule

/// The session token a request carries in its `Cookie` header, if any.
fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The form `POST /login` takes.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

fn login_page(status: StatusCode, error: &str) -> Response {
    let message = if error.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="errbox" role="alert">{error}</p>"#)
    };
    let page = LOGIN_HTML.replace("{{error}}", &message);
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

/// `GET /api/session`: whether the console runs with a login, and as whom.
fn session_json(user: Option<&str>) -> Response {
    axum::Json(serde_json::json!({ "loginRequired": user.is_some(), "user": user })).into_response()
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(c) = cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

// ANCHOR: require_login
/// Middleware: serves the login page, the login and the logout, and lets any other
/// request through only with a live session (or when no login is configured).
pub async fn require_login(
    State(login): State<Option<Login>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let Some(login) = login else {
        // No login configured: the login URLs lead back to the console.
        return match path.as_str() {
            "/login" | "/logout" => see_other("/", None),
            "/api/session" => session_json(None),
            _ => next.run(req).await,
        };
    };
    let token = session_token(&req);
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/login") => login_page(StatusCode::OK, ""),
        (Method::POST, "/login") => match axum::Form::<LoginForm>::from_request(req, &()).await {
            Ok(axum::Form(f)) if login.accepts(&f.user, &f.password) => {
                let token = login.open_session();
                let cookie = format!(
                    "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                    SESSION_TTL.as_secs()
                );
                see_other("/", Some(cookie))
            }
            Ok(_) => login_page(StatusCode::UNAUTHORIZED, "wrong user name or password"),
            Err(e) => login_page(
                StatusCode::BAD_REQUEST,
                &format!("bad login form: {}", e.body_text()),
            ),
        },
        (Method::POST, "/logout") => {
            if let Some(t) = &token {
                login.close_session(t);
            }
            let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
            see_other("/login", Some(clear))
        }
        _ if token.as_deref().is_some_and(|t| login.valid(t)) => match path.as_str() {
            "/api/session" => session_json(Some(&login.user)),
            _ => next.run(req).await,
        },
        _ if path.starts_with("/api/") => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "login required" })),
        )
            .into_response(),
        _ => see_other("/login", None),
    }
}
// ANCHOR_END: require_login

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_needs_no_login_elsewhere_one_is_required() {
        assert!(login_for(addr("127.0.0.1:8080"), None, None)
            .unwrap()
            .is_none());
        assert!(login_for(addr("[::1]:8080"), None, None).unwrap().is_none());
        assert_eq!(
            login_for(addr("0.0.0.0:8080"), None, None).unwrap_err(),
            AuthError::OpenWithoutLogin(addr("0.0.0.0:8080"))
        );
        assert_eq!(
            login_for(addr("0.0.0.0:8080"), Some("admin"), None).unwrap_err(),
            AuthError::HalfLogin
        );
        assert_eq!(
            login_for(addr("127.0.0.1:8080"), Some("admin"), Some("")).unwrap_err(),
            AuthError::HalfLogin
        );
        assert!(
            login_for(addr("0.0.0.0:8080"), Some("admin"), Some("s3cret"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn credentials_and_sessions_are_checked() {
        let login = Login::new("admin", "s3cret");
        assert!(login.accepts("admin", "s3cret"));
        assert!(!login.accepts("admin", "s3creT"));
        assert!(!login.accepts("admin", ""));
        assert!(!login.accepts("root", "s3cret"));
        let a = login.open_session();
        let b = login.open_session();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(login.valid(&a) && login.valid(&b));
        assert!(!login.valid("") && !login.valid(&a[..63]));
        login.close_session(&a);
        assert!(!login.valid(&a) && login.valid(&b));
        // The table is bounded: the oldest sessions go first.
        for _ in 0..MAX_SESSIONS {
            login.open_session();
        }
        assert!(!login.valid(&b));
    }
}
