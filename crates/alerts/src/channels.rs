//! The notification channels: one attempt at delivering one notice.
//!
//! - Webhook: JSON POST of the [`Payload`](crate::message::Payload), signed with
//!   `X-Hallwatch-Signature: sha256=<hex HMAC-SHA256 of the body>` (plus `X-Hallwatch-Event`
//!   and `X-Hallwatch-Delivery`, the delivery id a receiver can use to drop repeats); any 2xx
//!   answer is a delivery.
//! - E-mail: one plain-text UTF-8 mail per notice over SMTP (lettre), STARTTLS (required),
//!   implicit TLS or plain, with optional login; delivered once the server accepts it.
//! - MQTT: the payload on `<prefix>/<site>/alerts/<zone, camera or "hall">` (not retained) and
//!   the hall's alert state on the retained `<prefix>/<site>/state`, each acknowledged by the
//!   broker at QoS 1 or 2. One short connection per attempt, so a broker restart never leaves
//!   a half-open session behind.
//! - Log: the message through `tracing` (for demos).

use crate::message::{MessageContext, Notice, payload, render};
use hallwatch_config::alerts::{ChannelConfig, ChannelKind, Language, SmtpSecurity};
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Outgoing, Packet, QoS};
use std::collections::HashSet;
use std::time::Duration;

/// Name of the signature header of webhook requests.
pub const SIGNATURE_HEADER: &str = "X-Hallwatch-Signature";

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`, as sent in
/// [`SIGNATURE_HEADER`]; receivers compute the same over the raw body and compare.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: this never fails.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256=");
    for b in tag {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// One configured channel, ready to deliver.
pub(crate) struct Channel {
    pub cfg: ChannelConfig,
    pub language: Language,
    pub ctx: MessageContext,
    imp: Imp,
}

enum Imp {
    Webhook(Result<reqwest::Client, String>),
    Email(Result<AsyncSmtpTransport<Tokio1Executor>, String>),
    Mqtt { client_id: String },
    Log,
}

/// What an MQTT attempt publishes besides the alert: the current retained state.
pub(crate) struct MqttState<'a> {
    pub json: &'a str,
}

impl Channel {
    /// Prepares channel `cfg` (a client that cannot be built fails every attempt with the
    /// reason, so it shows in the store).
    pub fn new(cfg: ChannelConfig, language: Language, ctx: MessageContext) -> Self {
        let timeout = Duration::from_secs_f64(cfg.timeout_s.max(0.001));
        let imp = match cfg.kind {
            ChannelKind::Webhook => Imp::Webhook(
                reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}")),
            ),
            ChannelKind::Email => Imp::Email(smtp_transport(&cfg, timeout)),
            ChannelKind::Mqtt => Imp::Mqtt {
                client_id: if cfg.client_id.is_empty() {
                    format!("hallwatch-{}", ctx.site)
                } else {
                    cfg.client_id.clone()
                },
            },
            ChannelKind::Log => Imp::Log,
        };
        Self {
            cfg,
            language,
            ctx,
            imp,
        }
    }

    /// The MQTT topic of the hall's retained alert state.
    pub fn state_topic(&self) -> String {
        format!("{}/{}/state", self.cfg.topic_prefix, self.ctx.site)
    }

    /// The MQTT topic of a notice: per zone, camera, or `hall`.
    pub fn alert_topic(&self, n: &Notice) -> String {
        let leaf = if !n.target.zone.is_empty() {
            n.target.zone.as_str()
        } else if !n.target.camera.is_empty() {
            n.target.camera.as_str()
        } else {
            "hall"
        };
        format!("{}/{}/alerts/{leaf}", self.cfg.topic_prefix, self.ctx.site)
    }

    /// One attempt at delivering `n` (delivery `delivery_id`). The caller bounds its time.
    pub async fn deliver(
        &self,
        n: &Notice,
        delivery_id: i64,
        state: MqttState<'_>,
    ) -> Result<(), String> {
        match &self.imp {
            Imp::Webhook(client) => {
                let client = client.as_ref().map_err(Clone::clone)?;
                let body = serde_json::to_vec(&payload(n, self.language, &self.ctx))
                    .map_err(|e| format!("cannot encode the payload: {e}"))?;
                let mut req = client
                    .post(&self.cfg.url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("X-Hallwatch-Event", n.event.as_str())
                    .header("X-Hallwatch-Delivery", delivery_id.to_string());
                if !self.cfg.secret.is_empty() {
                    req = req.header(SIGNATURE_HEADER, signature(&self.cfg.secret, &body));
                }
                let resp = req.body(body).send().await.map_err(|e| describe(&e))?;
                let status = resp.status();
                if status.is_success() {
                    Ok(())
                } else {
                    let text = resp.text().await.unwrap_or_default();
                    let text: String = text.chars().take(200).collect();
                    Err(format!("HTTP {status}: {}", text.trim()))
                }
            }
            Imp::Email(mailer) => {
                let mailer = mailer.as_ref().map_err(Clone::clone)?;
                let r = render(n, self.language, &self.ctx);
                let mut builder = Message::builder()
                    .from(
                        self.cfg
                            .from
                            .parse()
                            .map_err(|e| format!("from '{}': {e}", self.cfg.from))?,
                    )
                    .subject(r.subject)
                    .header(ContentType::TEXT_PLAIN);
                for to in &self.cfg.to {
                    builder = builder.to(to.parse().map_err(|e| format!("to '{to}': {e}"))?);
                }
                let mail = builder
                    .body(r.text)
                    .map_err(|e| format!("cannot build the mail: {e}"))?;
                mailer
                    .send(mail)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("SMTP: {e}"))
            }
            Imp::Mqtt { client_id } => {
                let body = serde_json::to_vec(&payload(n, self.language, &self.ctx))
                    .map_err(|e| format!("cannot encode the payload: {e}"))?;
                let messages = [
                    (self.alert_topic(n), body, false),
                    (self.state_topic(), state.json.as_bytes().to_vec(), true),
                ];
                mqtt_publish(&self.cfg, client_id, &messages).await
            }
            Imp::Log => {
                let r = render(n, self.language, &self.ctx);
                tracing::warn!(
                    target: "hallwatch_alerts",
                    alert = n.alert_id,
                    event = n.event.as_str(),
                    "{}\n{}",
                    r.subject,
                    r.text
                );
                Ok(())
            }
        }
    }

    /// Publishes only the retained state (MQTT channels; nothing for the others).
    pub async fn publish_state(&self, json: &str) -> Result<(), String> {
        match &self.imp {
            Imp::Mqtt { client_id } => {
                let messages = [(self.state_topic(), json.as_bytes().to_vec(), true)];
                mqtt_publish(&self.cfg, client_id, &messages).await
            }
            _ => Ok(()),
        }
    }
}

/// An error with its causes, one after the other (reqwest hides the useful part in them).
fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let c_s = c.to_string();
        if !s.contains(&c_s) {
            s.push_str(": ");
            s.push_str(&c_s);
        }
        cur = c.source();
    }
    s
}

fn smtp_transport(
    cfg: &ChannelConfig,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = cfg.host.as_str();
    let tls = || -> Result<TlsParameters, String> {
        let mut params = TlsParameters::builder(host.to_string());
        if !cfg.ca_file.is_empty() {
            let pem = std::fs::read(&cfg.ca_file)
                .map_err(|e| format!("cannot read ca_file {}: {e}", cfg.ca_file))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| format!("ca_file {}: {e}", cfg.ca_file))?;
            params = params.add_root_certificate(cert);
        }
        params
            .build()
            .map_err(|e| format!("SMTP TLS settings for {host}: {e}"))
    };
    let tls = match cfg.security {
        SmtpSecurity::Plain => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .tls(tls)
        .port(cfg.effective_port())
        .timeout(Some(timeout));
    if !cfg.username.is_empty() {
        builder = builder.credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()));
    }
    Ok(builder.build())
}

/// Connects, publishes `messages` (topic, payload, retain), waits for the broker's
/// acknowledgements at the channel's QoS, and disconnects.
async fn mqtt_publish(
    cfg: &ChannelConfig,
    client_id: &str,
    messages: &[(String, Vec<u8>, bool)],
) -> Result<(), String> {
    let mut opts = MqttOptions::new(client_id, cfg.host.as_str(), cfg.effective_port());
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_clean_session(true);
    if !cfg.username.is_empty() {
        opts.set_credentials(cfg.username.as_str(), cfg.password.as_str());
    }
    let qos = match cfg.qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    let (client, mut events) = AsyncClient::new(opts, messages.len() + 2);
    for (topic, body, retain) in messages {
        client
            .publish(topic.as_str(), qos, *retain, body.clone())
            .await
            .map_err(|e| format!("MQTT publish to {topic}: {e}"))?;
    }
    let mut outstanding = messages.len();
    let mut waiting: HashSet<u16> = HashSet::new();
    let broker = format!("{}:{}", cfg.host, cfg.effective_port());
    while outstanding > 0 {
        let ev = events
            .poll()
            .await
            .map_err(|e| format!("MQTT broker {broker}: {}", describe(&e)))?;
        match ev {
            Event::Incoming(Packet::ConnAck(ack)) if ack.code != ConnectReturnCode::Success => {
                return Err(format!("MQTT broker {broker} refused: {:?}", ack.code));
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                if qos == QoS::AtMostOnce {
                    outstanding -= 1;
                } else {
                    waiting.insert(pkid);
                }
            }
            Event::Incoming(Packet::PubAck(a))
                if qos == QoS::AtLeastOnce && waiting.remove(&a.pkid) =>
            {
                outstanding -= 1;
            }
            Event::Incoming(Packet::PubComp(c))
                if qos == QoS::ExactlyOnce && waiting.remove(&c.pkid) =>
            {
                outstanding -= 1;
            }
            _ => {}
        }
    }
    // A clean goodbye; the messages are already acknowledged, so errors here do not matter.
    if client.disconnect().await.is_ok() {
        for _ in 0..8 {
            match events.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
