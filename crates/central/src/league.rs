//! The province league table: every hall's figures over one local month (each hall's own time
//! zone), with the same definitions as the hall's monthly review (Báo cáo tháng):
//!
//! - waits: finished, not truncated visits of waiting zones, `exit - enter`, median and p90
//!   interpolated linearly, share within the target;
//! - served: finished, not truncated counter visits (Lượt phục vụ);
//! - satisfaction: share of ratings at the two satisfied levels (Mức độ hài lòng);
//! - dossiers resolved in the month with a due date: share resolved no later than the due
//!   local day (Đúng hạn);
//! - abandonments: people who left a waiting zone unserved;
//! - freshness: the newest fact's hall time and when the centre last received one, the live
//!   state's people waiting now, and facts found missing (gaps).

use crate::{Central, CentralError, pg};
use serde::Serialize;

/// One hall's row of the league table.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LeagueRow {
    /// `[site].id`.
    pub site: String,
    /// The hall's name.
    pub name: String,
    /// Its commune.
    pub commune: String,
    /// Waits counted.
    pub waits: i64,
    /// Median wait, seconds.
    pub wait_p50_s: Option<f64>,
    /// 90th percentile wait, seconds.
    pub wait_p90_s: Option<f64>,
    /// Share of waits no longer than the target.
    pub within_target: Option<f64>,
    /// Counter visits (Lượt phục vụ).
    pub served: i64,
    /// People who left unserved.
    pub abandoned: i64,
    /// Ratings given.
    pub ratings: i64,
    /// Share of ratings at the two satisfied levels.
    pub satisfied_share: Option<f64>,
    /// Dossiers resolved in the month with a due date.
    pub dossiers_resolved: i64,
    /// Share of those resolved on time (Đúng hạn).
    pub on_time_rate: Option<f64>,
    /// People waiting now (the hall's latest live state), when it published one.
    pub waiting_now: Option<i64>,
    /// Hall time (Unix seconds) of the newest fact received.
    pub last_fact_t: Option<f64>,
    /// Seconds since the centre last received a fact from the hall.
    pub received_age_s: Option<f64>,
    /// Facts found missing in the hall's sequence.
    pub gaps: i64,
    /// Camera uptime: per camera `1 - down / open` over the days the hall reported, the mean
    /// over its cameras (as the hall's monthly review counts it).
    pub camera_uptime: Option<f64>,
    /// The month's score under Decision 766/QĐ-TTg (out of 100), when imported
    /// ([`Central::import_scores_766`]); the month the range starts in.
    pub score_766: Option<f64>,
}

const LEAGUE_SQL: &str = r#"
WITH b AS (
    SELECT h.site, h.name, h.commune, h.timezone, h.gaps, h.last_fact_t, h.last_received,
           extract(epoch FROM ($1::text::date::timestamp AT TIME ZONE h.timezone))::float8 AS t0,
           extract(epoch FROM ($2::text::date::timestamp AT TIME ZONE h.timezone))::float8 AS t1
    FROM halls h
    -- $4: which half of the halls (by a hash of the site), or -1 for all; two halves run at
    -- once on two connections.
    WHERE $4::int < 0 OR mod(abs(hashtext(h.site)), 2) = $4::int
)
-- Per hall, range scans of the (site, ..., time) indexes: each hall's month is read on its
-- own, so the percentiles sort one hall's waits at a time.
SELECT b.site, b.name, b.commune,
       w.waits, w.p50, w.p90, w.within,
       sv.served, ab.abandoned,
       r.ratings, r.sat,
       d.resolved, d.on_time,
       (l.body -> 'live' ->> 'waiting_now')::bigint,
       b.last_fact_t,
       extract(epoch FROM (now() - b.last_received))::float8,
       b.gaps,
       cu.uptime,
       s.total
FROM b
CROSS JOIN LATERAL (
    SELECT count(*) AS waits,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY v.exit - v.enter) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY v.exit - v.enter) AS p90,
           avg(((v.exit - v.enter) <= $3)::int::float8) AS within
    FROM visits v
    WHERE v.site = b.site AND v.role = 'waiting' AND v.enter >= b.t0 AND v.enter < b.t1
      AND NOT v.deleted AND v.exit IS NOT NULL AND v.truncated = 0
) w
CROSS JOIN LATERAL (
    SELECT count(*) AS served FROM visits v
    WHERE v.site = b.site AND v.role = 'counter' AND v.enter >= b.t0 AND v.enter < b.t1
      AND NOT v.deleted AND v.exit IS NOT NULL AND v.truncated = 0
) sv
CROSS JOIN LATERAL (
    SELECT count(*) AS abandoned FROM abandonments a
    WHERE a.site = b.site AND a.t >= b.t0 AND a.t < b.t1 AND NOT a.deleted
) ab
CROSS JOIN LATERAL (
    SELECT count(*) AS ratings, avg((r.level <> 'dissatisfied')::int::float8) AS sat
    FROM ratings r
    WHERE r.site = b.site AND r.t >= b.t0 AND r.t < b.t1 AND NOT r.deleted
) r
CROSS JOIN LATERAL (
    SELECT count(*) AS resolved,
           avg(((to_timestamp(d.resolved) AT TIME ZONE b.timezone)::date
                <= (to_timestamp(d.due) AT TIME ZONE b.timezone)::date)::int::float8) AS on_time
    FROM dossiers d
    WHERE d.site = b.site AND d.resolved >= b.t0 AND d.resolved < b.t1 AND NOT d.deleted
      AND d.due IS NOT NULL
) d
CROSS JOIN LATERAL (
    SELECT avg(1 - c.down / c.open) AS uptime FROM (
        SELECT sum(c.open_s) AS open, sum(c.down_s) AS down FROM camera_days c
        WHERE c.site = b.site AND c.day >= $1 AND c.day < $2 AND NOT c.deleted
        GROUP BY c.camera HAVING sum(c.open_s) > 0
    ) c
) cu
LEFT JOIN live_state l USING (site)
LEFT JOIN scores_766 s ON s.site = b.site AND s.month = left($1, 7)
ORDER BY b.site
"#;

impl Central {
    /// The league table of local month `year-month`, with waits within `wait_target_s`
    /// counting as on target.
    pub async fn league(
        &self,
        year: i32,
        month: u32,
        wait_target_s: f64,
    ) -> Result<Vec<LeagueRow>, CentralError> {
        let from = format!("{year:04}-{month:02}-01");
        let to = if month >= 12 {
            format!("{:04}-01-01", year + 1)
        } else {
            format!("{year:04}-{:02}-01", month + 1)
        };
        self.league_between(&from, &to, wait_target_s).await
    }

    /// The league table of the local days `[from, to)` (`YYYY-MM-DD`, each hall's own time
    /// zone): `league_between(today, tomorrow)` is today's.
    pub async fn league_between(
        &self,
        from: &str,
        to: &str,
        wait_target_s: f64,
    ) -> Result<Vec<LeagueRow>, CentralError> {
        // Two halves of the halls at once, on two connections: PostgreSQL runs one query per
        // connection on one core, and reading a month of 100 halls takes about a second.
        let other = self.second_connection().await?;
        let (a, b): (i32, i32) = (0, 1);
        let pa: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [&from, &to, &wait_target_s, &a];
        let pb: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [&from, &to, &wait_target_s, &b];
        let (ra, rb) = tokio::join!(
            self.client.query(LEAGUE_SQL, &pa),
            other.query(LEAGUE_SQL, &pb)
        );
        let mut rows = ra.map_err(pg("reading the league table"))?;
        rows.extend(rb.map_err(pg("reading the league table"))?);
        let mut out: Vec<LeagueRow> = rows
            .iter()
            .map(|r| LeagueRow {
                site: r.get(0),
                name: r.get(1),
                commune: r.get(2),
                waits: r.get(3),
                wait_p50_s: r.get(4),
                wait_p90_s: r.get(5),
                within_target: r.get(6),
                served: r.get(7),
                abandoned: r.get(8),
                ratings: r.get(9),
                satisfied_share: r.get(10),
                dossiers_resolved: r.get(11),
                on_time_rate: r.get(12),
                waiting_now: r.get(13),
                last_fact_t: r.get(14),
                received_age_s: r.get(15),
                gaps: r.get(16),
                camera_uptime: r.get(17),
                score_766: r.get(18),
            })
            .collect();
        out.sort_by(|x, y| x.site.cmp(&y.site));
        Ok(out)
    }
}

/// One local day of one hall: the drill-down of the league table.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HallDay {
    /// `YYYY-MM-DD`, the hall's local day.
    pub day: String,
    /// Waits counted.
    pub waits: i64,
    /// Median wait, seconds.
    pub wait_p50_s: Option<f64>,
    /// 90th percentile wait, seconds.
    pub wait_p90_s: Option<f64>,
    /// Share of waits within the target.
    pub within_target: Option<f64>,
    /// Counter visits.
    pub served: i64,
    /// Ratings given.
    pub ratings: i64,
    /// Share satisfied.
    pub satisfied_share: Option<f64>,
    /// Camera uptime that day (mean over the hall's cameras open that day).
    pub camera_uptime: Option<f64>,
}

const DAYS_SQL: &str = r#"
WITH b AS (
    SELECT timezone,
           extract(epoch FROM (make_timestamp($2, $3, 1, 0, 0, 0) AT TIME ZONE timezone))::float8 AS t0,
           extract(epoch FROM ((make_timestamp($2, $3, 1, 0, 0, 0) + interval '1 month') AT TIME ZONE timezone))::float8 AS t1
    FROM halls WHERE site = $1
),
v AS (
    SELECT (to_timestamp(v.enter) AT TIME ZONE b.timezone)::date::text AS day,
           count(*) FILTER (WHERE v.role = 'waiting') AS waits,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY v.exit - v.enter) FILTER (WHERE v.role = 'waiting') AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY v.exit - v.enter) FILTER (WHERE v.role = 'waiting') AS p90,
           avg(((v.exit - v.enter) <= $4)::int::float8) FILTER (WHERE v.role = 'waiting') AS within,
           count(*) FILTER (WHERE v.role = 'counter') AS served
    FROM b JOIN visits v ON v.site = $1 AND v.enter >= b.t0 AND v.enter < b.t1
    WHERE v.role IN ('waiting', 'counter') AND NOT v.deleted AND v.exit IS NOT NULL
      AND v.truncated = 0
    GROUP BY 1
),
r AS (
    SELECT (to_timestamp(r.t) AT TIME ZONE b.timezone)::date::text AS day, count(*) AS ratings,
           avg((r.level <> 'dissatisfied')::int::float8) AS sat
    FROM b JOIN ratings r ON r.site = $1 AND r.t >= b.t0 AND r.t < b.t1
    WHERE NOT r.deleted GROUP BY 1
),
c AS (
    SELECT c.day, avg(1 - c.down_s / c.open_s) AS uptime
    FROM b JOIN camera_days c ON c.site = $1
        AND c.day >= (to_timestamp(b.t0) AT TIME ZONE b.timezone)::date::text
        AND c.day < (to_timestamp(b.t1) AT TIME ZONE b.timezone)::date::text
    WHERE NOT c.deleted AND c.open_s > 0 GROUP BY 1
)
SELECT day, coalesce(v.waits, 0), v.p50, v.p90, v.within, coalesce(v.served, 0),
       coalesce(r.ratings, 0), r.sat, c.uptime
FROM v FULL JOIN r USING (day) FULL JOIN c USING (day)
ORDER BY day
"#;

impl Central {
    /// Each local day of `site`'s month `year-month` with waits, visits or ratings.
    pub async fn hall_days(
        &self,
        site: &str,
        year: i32,
        month: u32,
        wait_target_s: f64,
    ) -> Result<Vec<HallDay>, CentralError> {
        let month = i32::try_from(month).unwrap_or(1);
        let rows = self
            .client
            .query(DAYS_SQL, &[&site, &year, &month, &wait_target_s])
            .await
            .map_err(pg("reading a hall's days"))?;
        Ok(rows
            .iter()
            .map(|r| HallDay {
                day: r.get(0),
                waits: r.get(1),
                wait_p50_s: r.get(2),
                wait_p90_s: r.get(3),
                within_target: r.get(4),
                served: r.get(5),
                ratings: r.get(6),
                satisfied_share: r.get(7),
                camera_uptime: r.get(8),
            })
            .collect())
    }
}

/// The province's pooled wait percentiles: every hall's waits of its local month, read by
/// per-hall index range scans, sorted once. (Counts and shares come from the halls' rows: a
/// share weighted by its count is the pooled share.)
const TOTAL_SQL: &str = r#"
WITH b AS (
    SELECT h.site,
           extract(epoch FROM (make_timestamp($1, $2, 1, 0, 0, 0) AT TIME ZONE h.timezone))::float8 AS t0,
           extract(epoch FROM ((make_timestamp($1, $2, 1, 0, 0, 0) + interval '1 month') AT TIME ZONE h.timezone))::float8 AS t1
    FROM halls h
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.d),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY x.d)
FROM b CROSS JOIN LATERAL (
    SELECT v.exit - v.enter AS d FROM visits v
    WHERE v.site = b.site AND v.role = 'waiting' AND v.enter >= b.t0 AND v.enter < b.t1
      AND NOT v.deleted AND v.exit IS NOT NULL AND v.truncated = 0
) x
"#;

/// The province monthly review: every hall's row of the league table and the province as a
/// whole (its waits pooled across halls, not an average of the halls' medians).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProvinceReview {
    /// `YYYY-MM`.
    pub month: String,
    /// Each hall.
    pub halls: Vec<LeagueRow>,
    /// The province (site and name empty; freshness fields unset).
    pub total: LeagueRow,
}

impl Central {
    /// The province monthly review of local month `year-month`.
    pub async fn province_review(
        &self,
        year: i32,
        month: u32,
        wait_target_s: f64,
    ) -> Result<ProvinceReview, CentralError> {
        // The halls and the pooled province at once, on two connections (two cores).
        let other = self.second_connection().await?;
        let m = i32::try_from(month).unwrap_or(1);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&year, &m];
        let (halls, r) = tokio::join!(
            self.league(year, month, wait_target_s),
            other.query_one(TOTAL_SQL, &params)
        );
        let halls = halls?;
        let r = r.map_err(pg("reading the province totals"))?;
        // A share weighted by its count: the share over every hall's items pooled.
        let weighted = |share: fn(&LeagueRow) -> Option<f64>, n: fn(&LeagueRow) -> i64| {
            let (sum, count) = halls.iter().fold((0.0, 0i64), |(s, c), h| match share(h) {
                Some(x) => (s + x * n(h) as f64, c + n(h)),
                None => (s, c),
            });
            (count > 0).then(|| sum / count as f64)
        };
        let total = LeagueRow {
            waits: halls.iter().map(|h| h.waits).sum(),
            wait_p50_s: r.get(0),
            wait_p90_s: r.get(1),
            within_target: weighted(|h| h.within_target, |h| h.waits),
            served: halls.iter().map(|h| h.served).sum(),
            abandoned: halls.iter().map(|h| h.abandoned).sum(),
            ratings: halls.iter().map(|h| h.ratings).sum(),
            satisfied_share: weighted(|h| h.satisfied_share, |h| h.ratings),
            dossiers_resolved: halls.iter().map(|h| h.dossiers_resolved).sum(),
            on_time_rate: weighted(|h| h.on_time_rate, |h| h.dossiers_resolved),
            gaps: halls.iter().map(|h| h.gaps).sum(),
            camera_uptime: mean(halls.iter().filter_map(|h| h.camera_uptime)),
            score_766: mean(halls.iter().filter_map(|h| h.score_766)),
            ..LeagueRow::default()
        };
        Ok(ProvinceReview {
            month: format!("{year:04}-{month:02}"),
            halls,
            total,
        })
    }
}

/// The mean of the values (the province's camera uptime and Decision 766 score: each hall
/// counts once).
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}
