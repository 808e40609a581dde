//! Who may use the console: the bind rule and the login.
//!
//! The console can change the cluster (create and delete topics, send messages,
//! reset offsets), so it is safe by default. It binds 127.0.0.1, where only users
//! of the machine reach it. Binding any other address needs a login: a user name and
//! a password given at start. Without them the console refuses to start. With them,
//! every request (the page and the API) must carry HTTP Basic credentials; the
//! browser asks for them once.
//! Book: Part III "The web console" (Safe by default).
//! Mirrors rocketmq-console's `rocketmq.config.loginRequired` with its
//! `users.properties` file and `LoginInterceptor` (a form login there, Basic here).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// A configured login: the one user allowed in.
#[derive(Clone)]
pub struct Login {
    /// The `Authorization` header value that matches (`Basic base64(user:password)`).
    expected: Arc<String>,
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

impl Login {
    /// A login for `user` with `password`.
    pub fn new(user: &str, password: &str) -> Login {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Login {
            expected: Arc::new(format!("Basic {token}")),
        }
    }

    /// Whether an `Authorization` header value carries this login. The comparison
    /// looks at every byte, so its time does not tell how much of a guess was right.
    pub fn accepts(&self, header_value: &[u8]) -> bool {
        let want = self.expected.as_bytes();
        header_value.len() == want.len()
            && header_value
                .iter()
                .zip(want)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
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

/// Middleware: lets a request through when no login is configured or when it
/// carries the login; otherwise answers 401 with a Basic challenge.
pub async fn require_login(
    State(login): State<Option<Login>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(login) = login else {
        return next.run(req).await;
    };
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| login.accepts(v.as_bytes()));
    if ok {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"rmq-console\", charset=\"UTF-8\"",
            )],
            axum::Json(serde_json::json!({ "error": "login required" })),
        )
            .into_response()
    }
}

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
    fn basic_header_is_checked() {
        let login = Login::new("admin", "s3cret");
        // base64("admin:s3cret")
        assert!(login.accepts(b"Basic YWRtaW46czNjcmV0"));
        assert!(!login.accepts(b"Basic YWRtaW46czNjcmVU"));
        assert!(!login.accepts(b"Basic "));
        assert!(!login.accepts(b""));
    }
}
