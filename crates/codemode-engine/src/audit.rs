//! The audit log: one JSON line per upstream call, secrets already redacted by the upstream client.

use std::io::Write;
use std::sync::Mutex;

use serde_json::json;

use crate::caller::Caller;

pub(crate) struct AuditLog {
    sink: Mutex<Box<dyn Write + Send>>,
}

impl AuditLog {
    pub(crate) fn new(sink: Box<dyn Write + Send>) -> AuditLog {
        AuditLog {
            sink: Mutex::new(sink),
        }
    }

    /// One line for one call; `api` is the API's name when the engine serves several, `caller`
    /// who the run was for (`sub`, `client_id`) when the front end authenticated them.
    pub(crate) fn record(
        &self,
        run_id: &str,
        api: Option<&str>,
        caller: Option<&Caller>,
        call: &crate::upstream::CallRecord,
    ) {
        let mut line = json!({
            // The lines are written when the run ends; the time is when this call was sent.
            "time": rfc3339(call.sent_at),
            "run": run_id,
            "operation": call.operation,
            "method": call.method,
            "path": call.path,
            "resolved_path": call.resolved_path,
            "status": call.status,
            "ms": call.ms,
            "bytes": call.bytes,
            "items": call.items,
        });
        if let Some(api) = api {
            line["api"] = json!(api);
        }
        if let Some(caller) = caller {
            line["sub"] = json!(caller.subject);
            if let Some(client_id) = &caller.client_id {
                line["client_id"] = json!(client_id);
            }
        }
        // A poisoned lock or a failed write must not fail the run; the log is best effort.
        if let Ok(mut sink) = self.sink.lock() {
            let _ = writeln!(sink, "{line}");
            let _ = sink.flush();
        }
    }
}

/// `time` in UTC as RFC 3339 with milliseconds, without a date-time dependency.
fn rfc3339(time: std::time::SystemTime) -> String {
    let now = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::rfc3339;

    #[test]
    fn timestamps_are_the_given_instant_in_utc() {
        let at = |ms: u64| rfc3339(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(1_700_000_000_327), "2023-11-14T22:13:20.327Z");
        // A leap day, and the last millisecond of a year.
        assert_eq!(at(951_782_400_009), "2000-02-29T00:00:00.009Z");
        assert_eq!(at(1_767_225_599_999), "2025-12-31T23:59:59.999Z");
        let now = rfc3339(SystemTime::now());
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}
