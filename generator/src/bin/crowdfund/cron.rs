//! `crowdfund cron --url URL`: fires a local Worker's cron triggers, which `wrangler dev` does
//! not do by itself. It reads the crons `wrangler.toml` declares (`[triggers] crons`, or an
//! environment's), calls the Worker's scheduled handler (`/cdn-cgi/handler/scheduled?cron=`)
//! once at start, so a restart re-drives what a crash left, and then at every minute a cron
//! matches (UTC), until it is stopped. `make dev` and the test harness run it beside
//! `wrangler dev`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the Worker under `wrangler dev` (not the edge cache in front of it).
    #[arg(long)]
    url: String,
    /// The wrangler configuration that declares the crons.
    #[arg(long, default_value = "wrangler.toml")]
    config: PathBuf,
    /// Use this environment's crons (`[env.NAME.triggers]`).
    #[arg(long)]
    env: Option<String>,
    /// Fire once at start and exit.
    #[arg(long)]
    once: bool,
    /// Fire every crons every SECONDS instead of on schedule (tests that cannot wait a minute).
    #[arg(long, value_name = "SECONDS")]
    interval: Option<u64>,
}

pub async fn run(args: Args) -> Result<()> {
    let text = std::fs::read_to_string(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let crons = crons_of(&text, args.env.as_deref())?;
    let schedules = crons.iter().map(|c| Schedule::parse(c).map(|s| (c.clone(), s))).collect::<Result<Vec<_>>>()?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let base = args.url.trim_end_matches('/').to_owned();
    let fire = |cron: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let url = reqwest::Url::parse_with_params(&format!("{base}/cdn-cgi/handler/scheduled"), [("cron", &cron)])?;
            match http.get(url).send().await {
                Ok(r) if r.status().is_success() => eprintln!("cron: fired `{cron}`"),
                Ok(r) => eprintln!("cron: `{cron}` answered {}", r.status()),
                Err(e) => eprintln!("cron: `{cron}` failed: {e}"),
            }
            anyhow::Ok(())
        }
    };
    for (cron, _) in &schedules {
        fire(cron.clone()).await?;
    }
    if args.once {
        return Ok(());
    }
    if let Some(seconds) = args.interval {
        loop {
            tokio::time::sleep(Duration::from_secs(seconds.max(1))).await;
            for (cron, _) in &schedules {
                fire(cron.clone()).await?;
            }
        }
    }
    loop {
        let now = unix_seconds();
        let next_minute = now / 60 * 60 + 60;
        tokio::time::sleep(Duration::from_secs(next_minute.saturating_sub(unix_seconds()))).await;
        let at = Minute::of(next_minute);
        for (cron, schedule) in &schedules {
            if schedule.matches(&at) {
                fire(cron.clone()).await?;
            }
        }
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The crons of a wrangler.toml: `[triggers] crons`, or `[env.NAME] triggers = { crons }`.
fn crons_of(text: &str, env: Option<&str>) -> Result<Vec<String>> {
    let doc: toml::Table = toml::from_str(text).context("parsing the wrangler configuration")?;
    let scope = match env {
        Some(name) => doc.get("env").and_then(|e| e.get(name)).with_context(|| format!("no [env.{name}]"))?,
        None => &toml::Value::Table(doc.clone()),
    };
    let crons = scope.get("triggers").and_then(|t| t.get("crons")).and_then(toml::Value::as_array);
    Ok(crons.into_iter().flatten().filter_map(|c| c.as_str().map(str::to_owned)).collect())
}

/// A minute of UTC time, in the fields a cron expression matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Minute {
    minute: u32,
    hour: u32,
    day: u32,
    month: u32,
    /// 0 = Sunday.
    weekday: u32,
}

impl Minute {
    /// The minute holding a Unix time (civil-from-days, proleptic Gregorian).
    fn of(unix: u64) -> Self {
        let days = (unix / 86_400) as i64;
        let rem = unix % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Minute {
            minute: (rem / 60 % 60) as u32,
            hour: (rem / 3600) as u32,
            day,
            month,
            weekday: (days + 4).rem_euclid(7) as u32, // 1970-01-01 was a Thursday
        }
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week) with `*`,
/// numbers, ranges `a-b`, lists `a,b` and steps `*/n`, `a-b/n`; day-of-week 0-7 (0 and 7 are
/// Sunday). Day-of-month and day-of-week match as cron does: either, when both are restricted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Schedule {
    fields: [Vec<bool>; 5],
    day_restricted: bool,
    weekday_restricted: bool,
}

const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];

impl Schedule {
    fn parse(expr: &str) -> Result<Self> {
        let parts: Vec<&str> = expr.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = parts.as_slice() else {
            bail!("`{expr}`: a cron has five fields");
        };
        let field = |i: usize, text: &str| parse_field(text, RANGES[i]).with_context(|| format!("`{expr}`"));
        let mut weekdays = field(4, weekday)?;
        if weekdays[7] {
            weekdays[0] = true;
        }
        Ok(Schedule {
            fields: [field(0, minute)?, field(1, hour)?, field(2, day)?, field(3, month)?, weekdays],
            day_restricted: *day != "*",
            weekday_restricted: *weekday != "*",
        })
    }

    fn matches(&self, at: &Minute) -> bool {
        let [minutes, hours, days, months, weekdays] = &self.fields;
        let day = days[at.day as usize];
        let weekday = weekdays[at.weekday as usize];
        let date = match (self.day_restricted, self.weekday_restricted) {
            (true, true) => day || weekday,
            _ => day && weekday,
        };
        minutes[at.minute as usize] && hours[at.hour as usize] && months[at.month as usize] && date
    }
}

/// One field as a table of which values match (indexed by value).
fn parse_field(text: &str, (low, high): (u32, u32)) -> Result<Vec<bool>> {
    let mut on = vec![false; high as usize + 1];
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0).context("a step")?),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (low, high),
            r => match r.split_once('-') {
                Some((a, b)) => (a.parse()?, b.parse()?),
                None => {
                    let v = r.parse()?;
                    (v, if item.contains('/') { high } else { v })
                }
            },
        };
        if from < low || to > high || from > to {
            bail!("{item} is outside {low}-{high}");
        }
        for v in (from..=to).step_by(step as usize) {
            on[v as usize] = true;
        }
    }
    Ok(on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_utc_minutes() {
        // 2026-12-01T09:11:00Z, a Tuesday.
        let m = Minute::of(1_796_116_260);
        assert_eq!((m.minute, m.hour, m.day, m.month, m.weekday), (11, 9, 1, 12, 2));
        assert_eq!(Minute::of(0).weekday, 4);
    }

    #[test]
    fn every_minute_matches_every_minute() {
        let s = Schedule::parse("* * * * *").expect("parses");
        assert!((0..1440).all(|i| s.matches(&Minute::of(1_796_116_260 + i * 60))));
    }

    #[test]
    fn fields_take_lists_ranges_and_steps() {
        let s = Schedule::parse("*/15 9-17 * * 1-5").expect("parses");
        let at = |minute, hour, weekday| Minute { minute, hour, day: 1, month: 12, weekday };
        assert!(s.matches(&at(30, 9, 2)));
        assert!(!s.matches(&at(31, 9, 2)));
        assert!(!s.matches(&at(0, 18, 2)));
        assert!(!s.matches(&at(0, 9, 0)), "not on Sunday");
        let sunday = Schedule::parse("0 0 * * 7").expect("parses");
        assert!(sunday.matches(&at(0, 0, 0)));
        let either = Schedule::parse("0 0 1 * 1").expect("parses");
        assert!(either.matches(&Minute { minute: 0, hour: 0, day: 9, month: 3, weekday: 1 }), "a Monday");
        assert!(either.matches(&Minute { minute: 0, hour: 0, day: 1, month: 3, weekday: 4 }), "the 1st");
    }

    #[test]
    fn bad_expressions_are_refused() {
        for bad in ["* * * *", "60 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn crons_come_from_the_top_level_or_an_environment() {
        let text = "[triggers]\ncrons = [\"* * * * *\"]\n[env.staging]\ntriggers = { crons = [\"*/5 * * * *\"] }\n";
        assert_eq!(crons_of(text, None).expect("crons"), vec!["* * * * *"]);
        assert_eq!(crons_of(text, Some("staging")).expect("crons"), vec!["*/5 * * * *"]);
        assert!(crons_of(text, Some("nope")).is_err());
        let repo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../wrangler.toml")).expect("toml");
        assert_eq!(crons_of(&repo, None).expect("crons"), vec!["* * * * *"]);
    }
}
