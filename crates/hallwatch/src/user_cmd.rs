//! `hallwatch user add|passwd|del|list` and `hallwatch token add|list|revoke`: dashboard users
//! and machine API tokens in the event store (`<data_dir>/hallwatch.db`).
//!
//! Passwords are read from standard input (`--password-stdin`, the first line), from
//! `HALLWATCH_PASSWORD`, or asked for on the terminal without echo; never from the command
//! line, where other users could see them in the process list.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hallwatch_store::{AuditEntry, NewToken, NewUser, Role, Store, TokenScope, unix_seconds};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::SystemTime;

/// Where the store is: `--data-dir`, or the `[storage].data_dir` of `--config`.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// The data folder holding hallwatch.db (default: `data`, as `[storage].data_dir`).
    #[arg(long, global = true, conflicts_with = "config")]
    data_dir: Option<PathBuf>,
    /// Take the data folder from this config's `[storage].data_dir`.
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
}

impl StoreArgs {
    fn open(&self) -> Result<Store> {
        let dir = match (&self.data_dir, &self.config) {
            (Some(d), _) => d.clone(),
            (None, Some(c)) => {
                let cfg = hallwatch_config::Config::load(c)
                    .map_err(|e| anyhow::anyhow!("{}: invalid config:\n{e}", c.display()))?;
                PathBuf::from(cfg.storage.data_dir)
            }
            (None, None) => PathBuf::from("data"),
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the data folder {}", dir.display()))?;
        let path = dir.join("hallwatch.db");
        Store::open(&path).with_context(|| format!("opening {}", path.display()))
    }
}

/// `hallwatch user ...`
#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Adds a user: viewer (supervisor), reviewer or admin.
    Add {
        /// Login name (letters, digits, '.', '_', '-', '@').
        username: String,
        /// viewer, reviewer or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sets a new password (the user's open sessions end within 30 s).
    Passwd {
        /// Login name.
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Changes a user's role.
    Role {
        /// Login name.
        username: String,
        /// viewer, reviewer or admin.
        role: String,
    },
    /// Deletes a user (their open sessions end within 30 s).
    Del {
        /// Login name.
        username: String,
    },
    /// Lists users.
    List,
}

/// `hallwatch token ...`
#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Creates an API token and prints its secret (shown only this once).
    Add {
        /// A name saying which machine holds it, e.g. kiosk-quay-3.
        name: String,
        /// read, metrics, tickets, kiosk or ratings.
        #[arg(long)]
        scope: String,
        /// The counter of a kiosk token.
        #[arg(long)]
        counter: Option<u32>,
    },
    /// Lists tokens (never their secrets).
    List,
    /// Revokes a token at once.
    Revoke {
        /// Its name.
        name: String,
    },
}

fn now() -> f64 {
    unix_seconds(SystemTime::now())
}

/// Runs the stty command on the terminal (no echo while typing a password).
fn stty(arg: &str) {
    let _ = std::process::Command::new("stty")
        .arg(arg)
        .stdin(std::process::Stdio::inherit())
        .status();
}

fn read_password(from_stdin: bool, confirm: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if let Ok(p) = std::env::var("HALLWATCH_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password: use --password-stdin or HALLWATCH_PASSWORD");
    }
    let ask = |prompt: &str| -> Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        stty("-echo");
        let mut line = String::new();
        let r = std::io::stdin().lock().read_line(&mut line);
        stty("echo");
        eprintln!();
        r.context("reading the password")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let first = ask("Mật khẩu / Password: ")?;
    if confirm && ask("Nhập lại / Again: ")? != first {
        bail!("the two passwords differ");
    }
    Ok(first)
}

/// Writes one audit log line for a change made from the command line (actor
/// `cli:<system user>`).
fn audit(store: &mut Store, action: &str, target: &str, detail: String) -> Result<()> {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    store.audit(&AuditEntry {
        t: now(),
        actor: format!("cli:{who}"),
        action: action.into(),
        target: target.into(),
        detail,
    })?;
    Ok(())
}

/// Runs `hallwatch user ...`.
pub fn run_user(args: &UserArgs) -> Result<()> {
    let mut store = args.store.open()?;
    match &args.command {
        UserCommand::Add {
            username,
            role,
            password_stdin,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let password = read_password(*password_stdin, true)?;
            let added = store.add_user(
                &NewUser {
                    username,
                    role,
                    password: &password,
                },
                now(),
            )?;
            if added.is_none() {
                bail!("user '{username}' already exists (use `hallwatch user passwd`)");
            }
            audit(&mut store, "user_added", username, format!("role={role}"))?;
            println!("added {username} ({role})");
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            if store.user(username)?.is_none() {
                bail!("no user '{username}'");
            }
            let password = read_password(*password_stdin, true)?;
            store.set_password(username, &password)?;
            audit(&mut store, "password_set", username, String::new())?;
            println!("password of {username} changed");
        }
        UserCommand::Role { username, role } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let Some(before) = store.user(username)? else {
                bail!("no user '{username}'");
            };
            if !store.set_role(username, role)? {
                bail!("no user '{username}'");
            }
            if before.role != role {
                audit(
                    &mut store,
                    "role_changed",
                    username,
                    format!("{} -> {role}", before.role),
                )?;
            }
            println!("{username} is now {role}");
        }
        UserCommand::Del { username } => {
            if !store.delete_user(username)? {
                bail!("no user '{username}'");
            }
            audit(&mut store, "user_deleted", username, String::new())?;
            println!("deleted {username}");
        }
        UserCommand::List => {
            for u in store.users()? {
                println!(
                    "{}\t{}{}",
                    u.username,
                    u.role,
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

/// Runs `hallwatch token ...`.
pub fn run_token(args: &TokenArgs) -> Result<()> {
    let mut store = args.store.open()?;
    match &args.command {
        TokenCommand::Add {
            name,
            scope,
            counter,
        } => {
            let scope: TokenScope = scope.parse().map_err(anyhow::Error::msg)?;
            let issued = store
                .create_token(
                    &NewToken {
                        name,
                        scope,
                        counter: *counter,
                    },
                    now(),
                )?
                .with_context(|| format!("a token named '{name}' exists"))?;
            let counter = counter.map(|c| format!(" counter={c}")).unwrap_or_default();
            audit(
                &mut store,
                "token_created",
                name,
                format!("scope={scope}{counter}"),
            )?;
            eprintln!("token {name} ({scope}) created; its secret is shown only now:");
            println!("{}", issued.secret);
        }
        TokenCommand::List => {
            for t in store.tokens()? {
                let counter = t
                    .counter
                    .map(|c| format!("\tcounter {c}"))
                    .unwrap_or_default();
                println!("{}\t{}{counter}", t.name, t.scope);
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(name)? {
                bail!("no token '{name}'");
            }
            audit(&mut store, "token_revoked", name, String::new())?;
            println!("revoked {name}");
        }
    }
    Ok(())
}
