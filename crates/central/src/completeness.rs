//! Is a hall's day complete at the centre? Each hall ships, for every finished local day and
//! kind of fact, how many facts it holds and the SHA-256 of their sorted keys (its daily
//! digest). The centre computes the same over its own rows; a day whose digests all match is
//! complete. An incomplete day is asked for again ([`resend_day`]): the hall queues that
//! day's facts anew and the centre's idempotent writes fill what was missing.

use crate::schema::DATED;
use crate::{Central, CentralError, nats, pg};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// One kind of fact on one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindCheck {
    /// The kind (`visit`, `ticket`, ...).
    pub fact: String,
    /// Facts the hall holds (its digest).
    pub hall_count: i64,
    /// Facts the centre holds.
    pub centre_count: i64,
    /// Counts and key hashes agree.
    pub ok: bool,
}

/// One local day of one hall.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayCheck {
    /// `YYYY-MM-DD`, the hall's local day.
    pub day: String,
    /// Every kind matches the hall's digest.
    pub complete: bool,
    /// Per kind.
    pub kinds: Vec<KindCheck>,
}

/// SHA-256 (hex) of nothing: the digest of a day without facts of a kind.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl Central {
    /// The days of `site`'s local month `year-month` the hall sent digests for, each checked
    /// against the centre's rows.
    pub async fn completeness(
        &self,
        site: &str,
        year: i32,
        month: u32,
    ) -> Result<Vec<DayCheck>, CentralError> {
        let month = i32::try_from(month).unwrap_or(1);
        let bounds = self
            .client
            .query_opt(
                "SELECT timezone, \
                 extract(epoch FROM (make_timestamp($2, $3, 1, 0, 0, 0) AT TIME ZONE timezone))::float8, \
                 extract(epoch FROM ((make_timestamp($2, $3, 1, 0, 0, 0) + interval '1 month') AT TIME ZONE timezone))::float8 \
                 FROM halls WHERE site = $1",
                &[&site, &year, &month],
            )
            .await
            .map_err(pg("reading a hall's time zone"))?;
        let Some(b) = bounds else {
            return Ok(Vec::new());
        };
        let (tz, t0, t1): (String, f64, f64) = (b.get(0), b.get(1), b.get(2));
        let prefix = format!("{year:04}-{month:02}-");
        let digests = self
            .client
            .query(
                "SELECT day, fact, count, hash FROM digests \
                 WHERE site = $1 AND NOT deleted AND day LIKE $2 || '%' ORDER BY day, fact",
                &[&site, &prefix],
            )
            .await
            .map_err(pg("reading digests"))?;
        // The centre's side: per kind, count and key hash per local day of the month.
        let mut centre: BTreeMap<(String, String), (i64, String)> = BTreeMap::new();
        for (kind, table, time) in DATED {
            let rows = self
                .client
                .query(
                    &format!(
                        "SELECT (to_timestamp({time}) AT TIME ZONE $2)::date::text, count(*), \
                         encode(sha256(convert_to(string_agg(key, E'\\n' ORDER BY key COLLATE \"C\"), 'UTF8')), 'hex') \
                         FROM {table} WHERE site = $1 AND NOT deleted AND {time} >= $3 AND {time} < $4 \
                         GROUP BY 1"
                    ),
                    &[&site, &tz, &t0, &t1],
                )
                .await
                .map_err(pg("counting a hall's facts per day"))?;
            for r in rows {
                centre.insert((r.get(0), (*kind).to_string()), (r.get(1), r.get(2)));
            }
        }
        let mut days: BTreeMap<String, Vec<KindCheck>> = BTreeMap::new();
        for r in digests {
            let (day, fact, count, hash): (String, String, i64, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let (c_count, c_hash) = centre
                .get(&(day.clone(), fact.clone()))
                .cloned()
                .unwrap_or((0, EMPTY_SHA256.to_string()));
            days.entry(day).or_default().push(KindCheck {
                ok: c_count == count && c_hash == hash,
                fact,
                hall_count: count,
                centre_count: c_count,
            });
        }
        Ok(days
            .into_iter()
            .map(|(day, kinds)| DayCheck {
                complete: kinds.iter().all(|k| k.ok),
                day,
                kinds,
            })
            .collect())
    }
}

/// Asks hall `site` to send local day `day` (`YYYY-MM-DD`) again (`<prefix>.resend.<site>`,
/// request/reply, 10 s); returns how many facts it queued.
pub async fn resend_day(
    client: &async_nats::Client,
    prefix: &str,
    site: &str,
    day: &str,
) -> Result<u64, CentralError> {
    let body = serde_json::to_vec(&serde_json::json!({ "day": day })).unwrap_or_default();
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(format!("{prefix}.resend.{site}"), body.into()),
    )
    .await
    .map_err(|_| nats("asking a hall to re-send")("no answer within 10 s".into()))?
    .map_err(|e| nats("asking a hall to re-send")(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_slice(&reply.payload)
        .map_err(|e| nats("reading a re-send answer")(e.to_string()))?;
    match v.get("queued").and_then(|n| n.as_u64()) {
        Some(n) => Ok(n),
        None => Err(nats("asking a hall to re-send")(
            v.get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("unexpected answer")
                .to_string(),
        )),
    }
}
