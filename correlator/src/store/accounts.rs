//! Accounts of the analyst console: users with argon2id password hashes and a role,
//! browser sessions, and API tokens for automations.
//!
//! Secrets are never stored: a session cookie and an API token are 32 random bytes
//! (the system's generator, through `ring`), and the store keeps their SHA-256. A
//! stolen database therefore opens no session; a password needs an argon2id search
//! (19 MiB, 2 passes: OWASP's minimum for argon2id).
//!
//! Every change to an account is written to the audit log with who made it.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::lifecycle::append_audit;
use super::sqlite::{iso_utc, Store, StoreError};

/// What a caller may do. Ordered: each role may do what the roles before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Triage: acknowledges, assigns, notes, resolves, merges, suppresses.
    Analyst,
    /// Users, tokens, hooks and rules too.
    Admin,
}

impl Role {
    /// `viewer`, `analyst` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// The role of its stored name.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Analyst, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// A user as listed (never with the hash).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// The sign-in name.
    pub name: String,
    /// The name shown in the console.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// A disabled user cannot sign in; their sessions and tokens stop working.
    pub disabled: bool,
    pub(crate) created: String,
    pub(crate) password_changed: String,
}

/// An API token as listed (never with its secret).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ApiToken {
    /// The token's id.
    pub id: i64,
    /// Its name (what it is for).
    pub name: String,
    /// The user it acts as.
    pub user: String,
    /// Its role (at most the user's).
    pub role: Role,
    pub(crate) created: String,
    pub(crate) expires: Option<String>,
    pub(crate) last_used: Option<String>,
    /// When it was revoked.
    pub revoked: Option<String>,
}

/// A signed-in browser session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The signed-in user.
    pub user: User,
    /// The token the page must send back in `X-CSRF-Token` with every change.
    pub csrf: String,
}

/// Who a token speaks for.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    /// The user the token acts as (with the token's role).
    pub user: User,
    pub(crate) token_id: i64,
    pub(crate) token_name: String,
    /// The token's role (never above its owner's).
    pub role: Role,
}

/// Session lifetime: absolute and idle.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub(crate) lifetime_us: i64,
    pub(crate) idle_us: i64,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer passwords are refused (argon2 hashes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// `n` random bytes from the system's generator, as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, StoreError> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| StoreError::Refused("the system's random generator failed".into()))?;
    Ok(hex(&buf))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of a secret, as stored.
fn secret_hash(secret: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref().to_vec()
}

fn argon2() -> argon2::Argon2<'static> {
    // argon2id v19, m = 19 MiB, t = 2, p = 1 (the crate's defaults, OWASP's minimum).
    argon2::Argon2::default()
}

/// Hashes a password (argon2id, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    check_password(password)?;
    use ring::rand::SecureRandom;
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| StoreError::Refused("the system's random generator failed".into()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::Refused(format!("password salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Refused(format!("cannot hash the password: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash nobody's password matches, verified when the user does not exist, so that a
/// login takes as long for an unknown name as for a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password("decoy password that is never used").unwrap_or_else(|_| String::new())
    })
}

fn check_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::Refused(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Refused(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

fn check_user_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Refused(format!(
            "user name `{name}`: 1 to 64 of a-z, A-Z, 0-9 and . _ - @"
        )))
    }
}

const USER_COLUMNS: &str =
    "id, name, display_name, role, disabled, created_us, password_us, password_hash";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String)> {
    let role: String = r.get(3)?;
    Ok((
        User {
            id: r.get(0)?,
            name: r.get(1)?,
            display_name: r.get(2)?,
            // The CHECK constraint allows only known roles; an unknown one reads as the least.
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            disabled: r.get::<_, i64>(4)? != 0,
            created: iso_utc(r.get(5)?),
            password_changed: iso_utc(r.get(6)?),
        },
        r.get(7)?,
    ))
}

impl Store {
    /// Adds a user; returns its id.
    pub fn add_user(
        &mut self,
        name: &str,
        display_name: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<i64, StoreError> {
        check_user_name(name)?;
        let hash = hash_password(password)?;
        let tx = self.transaction()?;
        let exists: bool =
            tx.query_row("SELECT count(*) > 0 FROM users WHERE name = ?1", [name], |r| r.get(0))?;
        if exists {
            return Err(StoreError::Refused(format!("the user `{name}` exists already")));
        }
        let at = now_us();
        let display = if display_name.trim().is_empty() { name } else { display_name.trim() };
        tx.execute(
            "INSERT INTO users (name, display_name, role, password_hash, created_us, password_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![name, display, role.as_str(), hash, at],
        )?;
        let id = tx.last_insert_rowid();
        append_audit(
            &tx,
            at,
            actor,
            "user.add",
            None,
            Some(&format!("user:{name}")),
            &serde_json::json!({"role": role.as_str()}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Sets a user's password; ends the user's sessions.
    pub fn set_password(
        &mut self,
        name: &str,
        password: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let hash = hash_password(password)?;
        let tx = self.transaction()?;
        let at = now_us();
        let n = tx.execute(
            "UPDATE users SET password_hash = ?2, password_us = ?3 WHERE name = ?1",
            params![name, hash, at],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user `{name}`")));
        }
        tx.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
            [name],
        )?;
        append_audit(
            &tx,
            at,
            actor,
            "user.password",
            None,
            Some(&format!("user:{name}")),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Disables (or enables again) a user. Disabling ends the user's sessions and stops
    /// the user's tokens from working.
    pub fn set_user_disabled(
        &mut self,
        name: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        let n =
            tx.execute("UPDATE users SET disabled = ?2 WHERE name = ?1", params![name, disabled])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user `{name}`")));
        }
        if disabled {
            tx.execute(
                "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
                [name],
            )?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        append_audit(
            &tx,
            now_us(),
            actor,
            action,
            None,
            Some(&format!("user:{name}")),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Changes a user's role. Tokens above the new role are lowered to it.
    pub fn set_user_role(&mut self, name: &str, role: Role, actor: &str) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        let n =
            tx.execute("UPDATE users SET role = ?2 WHERE name = ?1", params![name, role.as_str()])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user `{name}`")));
        }
        for higher in [Role::Analyst, Role::Admin].into_iter().filter(|r| *r > role) {
            tx.execute(
                "UPDATE api_tokens SET role = ?2
                 WHERE role = ?3 AND user_id = (SELECT id FROM users WHERE name = ?1)",
                params![name, role.as_str(), higher.as_str()],
            )?;
        }
        append_audit(
            &tx,
            now_us(),
            actor,
            "user.role",
            None,
            Some(&format!("user:{name}")),
            &serde_json::json!({"role": role.as_str()}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut st =
            self.conn().prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
        let rows = st.query_map([], user_row)?;
        Ok(rows.map(|r| r.map(|(u, _)| u)).collect::<Result<Vec<_>, _>>()?)
    }

    /// A user by sign-in name.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                [name],
                user_row,
            )
            .optional()?
            .map(|(u, _)| u))
    }

    /// Checks a name and password. `None` for an unknown name, a wrong password or a
    /// disabled user alike (the caller cannot tell which); the work is the same.
    pub fn check_login(&self, name: &str, password: &str) -> Result<Option<User>, StoreError> {
        let found = self
            .conn()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                [name],
                user_row,
            )
            .optional()?;
        match found {
            None => {
                verify_password(password, decoy_hash());
                Ok(None)
            }
            Some((user, hash)) => {
                let ok = verify_password(password, &hash);
                Ok((ok && !user.disabled).then_some(user))
            }
        }
    }

    /// Opens a session for `user`; returns the cookie's secret and the CSRF token.
    pub fn create_session(
        &mut self,
        user: &User,
        address: &str,
        user_agent: &str,
        limits: SessionLimits,
    ) -> Result<(String, String), StoreError> {
        let secret = random_hex(32)?;
        let csrf = random_hex(32)?;
        let at = now_us();
        let ua: String = user_agent.chars().take(256).collect();
        let tx = self.transaction()?;
        // Expired sessions are removed as new ones open.
        tx.execute("DELETE FROM sessions WHERE expires_us < ?1", [at])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_us, last_seen_us, expires_us, address, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
            params![secret_hash(&secret), user.id, csrf, at, at + limits.lifetime_us, address, ua],
        )?;
        append_audit(
            &tx,
            at,
            &user.name,
            "session.login",
            None,
            Some(&format!("user:{}", user.name)),
            &serde_json::json!({"address": address}),
        )?;
        tx.commit()?;
        Ok((secret, csrf))
    }

    /// The session of a cookie's secret, if it is open and its user enabled. Idle
    /// sessions end; the last-seen time is written at most once a minute.
    pub fn session(
        &mut self,
        secret: &str,
        limits: SessionLimits,
    ) -> Result<Option<Session>, StoreError> {
        let h = secret_hash(secret);
        let found: Option<(User, String, String, i64, i64)> = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {}, s.csrf, s.expires_us, s.last_seen_us FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1",
                    USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
                ),
                [&h],
                |r| {
                    let (u, hash) = user_row(r)?;
                    Ok((u, hash, r.get(8)?, r.get(9)?, r.get(10)?))
                },
            )
            .optional()?;
        let Some((user, _, csrf, expires_us, last_seen_us)) = found else { return Ok(None) };
        let now = now_us();
        if user.disabled || now >= expires_us || now - last_seen_us > limits.idle_us {
            self.conn().execute("DELETE FROM sessions WHERE token_hash = ?1", [&h])?;
            return Ok(None);
        }
        if now - last_seen_us > 60_000_000 {
            self.conn().execute(
                "UPDATE sessions SET last_seen_us = ?2 WHERE token_hash = ?1",
                params![h, now],
            )?;
        }
        Ok(Some(Session { user, csrf }))
    }

    /// Ends a session (logout).
    pub fn end_session(&mut self, secret: &str, actor: &str) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        let n = tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [secret_hash(secret)])?;
        if n > 0 {
            append_audit(
                &tx,
                now_us(),
                actor,
                "session.logout",
                None,
                None,
                &serde_json::json!({}),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Creates an API token for `owner` with `role` (at most the owner's); returns its
    /// id and its secret, which is shown once and never stored.
    pub fn create_token(
        &mut self,
        name: &str,
        owner: &str,
        role: Role,
        expires_us: Option<i64>,
        actor: &str,
    ) -> Result<(i64, String), StoreError> {
        if name.trim().is_empty() || name.len() > 128 {
            return Err(StoreError::Refused("a token's name has 1 to 128 bytes".into()));
        }
        let user =
            self.user(owner)?.ok_or_else(|| StoreError::NotFound(format!("user `{owner}`")))?;
        if role > user.role {
            return Err(StoreError::Refused(format!(
                "a token of `{owner}` ({}) cannot have the role {}",
                user.role.as_str(),
                role.as_str()
            )));
        }
        let secret = format!("gwt_{}", random_hex(32)?);
        let at = now_us();
        let tx = self.transaction()?;
        tx.execute(
            "INSERT INTO api_tokens (name, user_id, role, token_hash, created_us, expires_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name.trim(), user.id, role.as_str(), secret_hash(&secret), at, expires_us],
        )?;
        let id = tx.last_insert_rowid();
        append_audit(
            &tx,
            at,
            actor,
            "token.add",
            None,
            Some(&format!("token:{id}")),
            &serde_json::json!({"name": name.trim(), "user": owner, "role": role.as_str()}),
        )?;
        tx.commit()?;
        Ok((id, secret))
    }

    /// Revokes a token (audited as `actor`); it stops working at once.
    pub fn revoke_token(&mut self, id: i64, actor: &str) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        let n = tx.execute(
            "UPDATE api_tokens SET revoked_us = ?2 WHERE id = ?1 AND revoked_us IS NULL",
            params![id, now_us()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("active token {id}")));
        }
        append_audit(
            &tx,
            now_us(),
            actor,
            "token.revoke",
            None,
            Some(&format!("token:{id}")),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every token, newest first, without secrets.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut st = self.conn().prepare(
            "SELECT t.id, t.name, u.name, t.role, t.created_us, t.expires_us, t.last_used_us, t.revoked_us
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )?;
        let rows = st.query_map([], |r| {
            let role: String = r.get(3)?;
            Ok(ApiToken {
                id: r.get(0)?,
                name: r.get(1)?,
                user: r.get(2)?,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                created: iso_utc(r.get(4)?),
                expires: r.get::<_, Option<i64>>(5)?.map(iso_utc),
                last_used: r.get::<_, Option<i64>>(6)?.map(iso_utc),
                revoked: r.get::<_, Option<i64>>(7)?.map(iso_utc),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Who a token's secret speaks for, if it is valid (not revoked, not expired, its
    /// user enabled). Its last use is written at most once a minute.
    pub fn token_caller(&mut self, secret: &str) -> Result<Option<TokenCaller>, StoreError> {
        let h = secret_hash(secret);
        let found = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {}, t.id, t.name, t.role, t.expires_us, t.revoked_us, t.last_used_us
                     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
                    USER_COLUMNS
                        .split(", ")
                        .map(|c| format!("u.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                [&h],
                |r| {
                    let (u, _) = user_row(r)?;
                    let role: String = r.get(10)?;
                    Ok((
                        u,
                        r.get::<_, i64>(8)?,
                        r.get::<_, String>(9)?,
                        role,
                        r.get::<_, Option<i64>>(11)?,
                        r.get::<_, Option<i64>>(12)?,
                        r.get::<_, Option<i64>>(13)?,
                    ))
                },
            )
            .optional()?;
        let Some((user, id, name, role, expires, revoked, last_used)) = found else {
            return Ok(None);
        };
        let now = now_us();
        if user.disabled || revoked.is_some() || expires.is_some_and(|e| now >= e) {
            return Ok(None);
        }
        if last_used.is_none_or(|l| now - l > 60_000_000) {
            self.conn().execute(
                "UPDATE api_tokens SET last_used_us = ?2 WHERE id = ?1",
                params![id, now],
            )?;
        }
        let role = Role::parse(&role).unwrap_or(Role::Viewer).min(user.role);
        Ok(Some(TokenCaller { user, token_id: id, token_name: name, role }))
    }

    /// The saved views of the queue of a user: `(id, name, query)`.
    pub fn saved_views(&self, user_id: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut st = self
            .conn()
            .prepare("SELECT id, name, query FROM saved_views WHERE user_id = ?1 ORDER BY name")?;
        let rows = st.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Saves (or replaces) a view of the queue; returns its id.
    pub fn save_view(&mut self, user_id: i64, name: &str, query: &str) -> Result<i64, StoreError> {
        if name.trim().is_empty() || name.len() > 128 || query.len() > 4096 {
            return Err(StoreError::Refused(
                "a view has a name of 1 to 128 bytes and a query of at most 4,096".into(),
            ));
        }
        let tx = self.transaction()?;
        tx.execute(
            "INSERT INTO saved_views (user_id, name, query) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query",
            params![user_id, name.trim(), query],
        )?;
        let id = tx.query_row(
            "SELECT id FROM saved_views WHERE user_id = ?1 AND name = ?2",
            params![user_id, name.trim()],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(id)
    }

    pub(crate) fn delete_view(&mut self, user_id: i64, id: i64) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2",
            params![id, user_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("saved view {id}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SessionLimits =
        SessionLimits { lifetime_us: 3_600_000_000, idle_us: 600_000_000 };

    fn store_with_users() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.add_user("lan", "Nguyễn Thị Lan", Role::Analyst, "correct horse battery", "setup")
            .unwrap();
        s.add_user("minh", "", Role::Viewer, "another long password", "setup").unwrap();
        s
    }

    #[test]
    fn passwords_are_hashed_and_checked() {
        let s = store_with_users();
        let hash: String = s
            .conn()
            .query_row("SELECT password_hash FROM users WHERE name = 'lan'", [], |r| r.get(0))
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(!hash.contains("battery"));
        assert_eq!(
            s.check_login("lan", "correct horse battery").unwrap().unwrap().role,
            Role::Analyst
        );
        assert!(s.check_login("lan", "correct horse batterx").unwrap().is_none());
        assert!(s.check_login("nobody", "correct horse battery").unwrap().is_none());
        assert_eq!(s.user("minh").unwrap().unwrap().display_name, "minh");
    }

    #[test]
    fn bad_names_and_short_passwords_are_refused() {
        let mut s = Store::open_in_memory().unwrap();
        for (name, pw) in
            [("a b", "long enough password"), ("", "long enough password"), ("ok", "short")]
        {
            assert!(matches!(
                s.add_user(name, "", Role::Viewer, pw, "t"),
                Err(StoreError::Refused(_))
            ));
        }
        s.add_user("ok", "", Role::Viewer, "long enough password", "t").unwrap();
        assert!(s.add_user("ok", "", Role::Viewer, "long enough password", "t").is_err());
    }

    #[test]
    fn sessions_open_end_and_die_with_a_disabled_user_or_a_new_password() {
        let mut s = store_with_users();
        let lan = s.check_login("lan", "correct horse battery").unwrap().unwrap();
        let (secret, csrf) = s.create_session(&lan, "127.0.0.1", "test", LIMITS).unwrap();
        let stored: Vec<u8> =
            s.conn().query_row("SELECT token_hash FROM sessions", [], |r| r.get(0)).unwrap();
        assert_ne!(stored, secret.as_bytes(), "only the hash is stored");
        let sess = s.session(&secret, LIMITS).unwrap().unwrap();
        assert_eq!((sess.user.name.as_str(), sess.csrf.as_str()), ("lan", csrf.as_str()));
        assert!(s.session("0000", LIMITS).unwrap().is_none());

        s.set_user_disabled("lan", true, "admin").unwrap();
        assert!(s.session(&secret, LIMITS).unwrap().is_none());
        assert!(s.check_login("lan", "correct horse battery").unwrap().is_none());
        s.set_user_disabled("lan", false, "admin").unwrap();

        let (secret, _) = s.create_session(&lan, "127.0.0.1", "test", LIMITS).unwrap();
        s.set_password("lan", "a brand new passphrase", "lan").unwrap();
        assert!(s.session(&secret, LIMITS).unwrap().is_none(), "a new password ends sessions");

        let (secret, _) = s.create_session(&lan, "127.0.0.1", "test", LIMITS).unwrap();
        s.end_session(&secret, "lan").unwrap();
        assert!(s.session(&secret, LIMITS).unwrap().is_none());

        let short = SessionLimits { lifetime_us: 0, idle_us: 0 };
        let (secret, _) = s.create_session(&lan, "127.0.0.1", "test", short).unwrap();
        assert!(s.session(&secret, LIMITS).unwrap().is_none(), "expired");
        let actions: Vec<String> =
            s.audit(None, 100).unwrap().into_iter().map(|a| a.action).collect();
        for a in ["user.add", "session.login", "session.logout", "user.disable", "user.password"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
    }

    #[test]
    fn tokens_are_scoped_revocable_and_never_above_their_owner() {
        let mut s = store_with_users();
        assert!(matches!(
            s.create_token("ci", "minh", Role::Analyst, None, "admin"),
            Err(StoreError::Refused(_))
        ));
        let (id, secret) = s.create_token("soar", "lan", Role::Viewer, None, "admin").unwrap();
        assert!(secret.starts_with("gwt_") && secret.len() == 68);
        let c = s.token_caller(&secret).unwrap().unwrap();
        assert_eq!((c.user.name.as_str(), c.role, c.token_id), ("lan", Role::Viewer, id));
        let listed = s.tokens().unwrap();
        assert!(listed[0].last_used.is_some());
        s.revoke_token(id, "admin").unwrap();
        assert!(s.token_caller(&secret).unwrap().is_none());
        assert!(s.revoke_token(id, "admin").is_err(), "revoked once");

        let (_, secret) = s.create_token("triage", "lan", Role::Analyst, None, "admin").unwrap();
        s.set_user_role("lan", Role::Viewer, "admin").unwrap();
        assert_eq!(s.token_caller(&secret).unwrap().unwrap().role, Role::Viewer);
        let (_, expired) = s.create_token("old", "lan", Role::Viewer, Some(1), "admin").unwrap();
        assert!(s.token_caller(&expired).unwrap().is_none());
    }

    #[test]
    fn saved_views_belong_to_their_user() {
        let mut s = store_with_users();
        let id = s.save_view(1, "critical open", "severity=critical&status=new").unwrap();
        assert_eq!(s.save_view(1, "critical open", "severity=critical").unwrap(), id);
        assert_eq!(
            s.saved_views(1).unwrap(),
            [(id, "critical open".into(), "severity=critical".into())]
        );
        assert!(s.saved_views(2).unwrap().is_empty());
        assert!(s.delete_view(2, id).is_err());
        s.delete_view(1, id).unwrap();
    }
}
